"""The evidence report: for every promise Privet keeps (P1-P45, `promises.yaml`), the mechanism, whether this
company's data map, registers, notices and settings configure it (and what is missing if not), and the latest run or
check in the store that exercised it (a sweep, a request of that type, a consent record, an alert check...).

`build` gathers it as plain data (the JSON format); `render` gives JSON, a standalone HTML page (English or
Simplified Chinese) or text for a terminal. Nothing here changes the store or reads the company's databases: checks
read the applied data map, the registers, the notices, the settings and the store's own rows; a missing piece is
named, never guessed around.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from privet.kit.clock import utcnow
from privet.kit.errors import InvalidInput
from privet.reports import evidence_checks, evidence_datamap, evidence_operations, evidence_registers
from privet.reports.evidence_checks import CHECKS, NOW, Context, Found
from privet.reports.promises import catalogue
from privet.settings import Settings

if TYPE_CHECKING:
    from jinja2 import Environment

# the modules whose checks fill CHECKS (each registers its own on import; the registers' module builds on the other)
CHECK_MODULES = (evidence_checks, evidence_datamap, evidence_operations, evidence_registers)

FORMATS = ("text", "html", "json")
LANGUAGES = ("en", "zh_CN")


# ---- evidence: the newest run or check ----------------------------------------------------------------------------
def _audit(ctx: Context, action: str) -> dict:
    from privet.audit.models import AuditEvent as E

    # each action's count and newest event, read in one pass for the whole report (not one scan per promise)
    actions = ctx.once(
        "audit_actions",
        lambda: {
            name: (n, newest)
            for name, n, newest in ctx.session.execute(
                select(E.action, func.count(), func.max(E.seq)).group_by(E.action)
            )
        },
    )
    prefix = action[:-1] if action.endswith("*") else None
    hits = [
        found for name, found in actions.items() if (name.startswith(prefix) if prefix is not None else name == action)
    ]
    newest = max((seq for _n, seq in hits), default=None)
    row = ctx.session.execute(select(E.at, E.actor, E.action).where(E.seq == newest)).first() if newest else None
    return {
        "at": row.at if row else None,
        "detail": f"{row.action} by {row.actor}" if row else "",
        "count": sum(n for n, _seq in hits),
    }


def _request(ctx: Context, kind: str) -> dict:
    from privet.requests.models import DsrRequest as R

    where = [] if kind == "*" else [R.type == kind]
    row = ctx.session.execute(
        select(R.reference, R.type, R.status, R.received_at).where(*where).order_by(R.received_at.desc()).limit(1)
    ).first()
    count = ctx.session.execute(select(func.count()).select_from(R).where(*where)).scalar_one()
    return {
        "at": row.received_at if row else None,
        "count": count,
        "detail": f"{row.reference} ({row.type}, {row.status})" if row else "",
    }


def _refusal(ctx: Context, codes: str) -> dict:
    from privet.requests.models import DsrRequest as R

    wanted = [c.strip() for c in codes.split(",") if c.strip()]
    where = [R.status == "refused"] + ([] if wanted == ["*"] else [R.refusal_code.in_(wanted)])
    row = ctx.session.execute(
        select(R.reference, R.refusal_code, R.updated_at).where(*where).order_by(R.updated_at.desc()).limit(1)
    ).first()
    count = ctx.session.execute(select(func.count()).select_from(R).where(*where)).scalar_one()
    return {
        "at": row.updated_at if row else None,
        "count": count,
        "detail": f"{row.reference} refused: {row.refusal_code}" if row else "",
    }


def _consent(ctx: Context, spec: str) -> dict:
    from privet.consent.models import ConsentRecord as C

    where = []
    if spec != "*":
        name, _, value = spec.partition("=")
        if name not in ("method", "event", "separate_kind", "purpose"):
            raise ValueError(f"consent evidence filters by method, event, separate_kind or purpose, not {name!r}")
        where.append(getattr(C, name) == value)
    row = ctx.session.execute(
        select(C.id, C.purpose, C.event, C.method, C.recorded_at).where(*where).order_by(C.seq.desc()).limit(1)
    ).first()
    return {
        "at": row.recorded_at if row else None,
        "count": None,
        "detail": f"{row.event} {row.purpose} ({row.method}), record {row.id}" if row else "",
    }


def _retention_run(ctx: Context, _arg: str) -> dict:
    from privet.retention.models import RetentionRun as R

    row = ctx.session.execute(
        select(R.started_at, R.finished_at, R.status, R.progress).order_by(R.started_at.desc()).limit(1)
    ).first()
    count = ctx.session.execute(select(func.count()).select_from(R)).scalar_one()
    if row is None:
        return {"at": None, "count": 0, "detail": ""}
    changed = sum(
        int(s.get("deleted", 0)) + int(s.get("updated", 0))
        for s in (row.progress or {}).values()
        if isinstance(s, dict)
    )
    return {
        "at": row.finished_at or row.started_at,
        "count": count,
        "detail": f"{row.status}: {changed} rows deleted or changed in {len(row.progress or {})} tables",
    }


def _job(ctx: Context, kind: str) -> dict:
    from privet.jobs.models import Job

    row = ctx.session.execute(
        select(Job.status, Job.finished_at, Job.created_at)
        .where(Job.kind == kind)
        .order_by(Job.created_at.desc())
        .limit(1)
    ).first()
    if row is None:
        return {"at": None, "count": None, "detail": ""}
    return {"at": row.finished_at or row.created_at, "count": None, "detail": f"job {kind}: {row.status}"}


def _now(ctx: Context, name: str) -> dict:
    return {"at": utcnow(), "count": None, "detail": ctx.once(f"now:{name}", lambda: NOW[name](ctx))}  # once a report


SOURCES: dict[str, Callable[[Context, str], dict]] = {
    "audit": _audit,
    "request": _request,
    "refusal": _refusal,
    "consent": _consent,
    "retention_run": _retention_run,
    "job": _job,
    "now": _now,
}


def parse_source(spec: str) -> tuple[str, str]:
    """`audit: notice.published` → ("audit", "notice.published"); `retention_run` → ("retention_run", "")."""
    kind, _, arg = spec.partition(":")
    kind, arg = kind.strip(), arg.strip()
    if kind not in SOURCES:
        raise ValueError(f"unknown evidence source {spec!r}")
    return kind, arg


def _evidence(ctx: Context, spec: str) -> dict:
    kind, arg = parse_source(spec)
    found = SOURCES[kind](ctx, arg)
    at = found["at"]
    return {
        "source": spec,
        "kind": kind,
        "what": arg,
        "at": at.isoformat(timespec="seconds") if at else None,
        "count": found["count"],
        "detail": found["detail"],
    }


# ---- the report ---------------------------------------------------------------------------------------------------
def build(session: Session, settings: Settings) -> dict:
    """The whole report as plain JSON-ready data."""
    from privet.datamap.service import current, latest_version
    from privet.taxonomy.service import effective

    manifest = current(session)
    ctx = Context(session, settings, manifest, effective(session))
    version = latest_version(session)
    results: dict[str, Found] = {}
    promises = []
    for p in catalogue():
        found = [
            results[name] if name in results else results.setdefault(name, CHECKS[name](ctx))
            for name in p["configured"]
        ]
        missing = [m for f in found for m in f.missing]
        evidence = [_evidence(ctx, spec) for spec in p["evidence"]]
        latest = max((e["at"] for e in evidence if e["at"] and e["kind"] != "now"), default=None)
        promises.append(
            {
                "id": p["id"],
                "policy": list(p["policy"]),
                "title": p["title"],
                "mechanism": p["mechanism"],
                "configured": not missing,
                "summary": [f.summary for f in found if f.summary],
                "missing": missing,
                "evidence": evidence,
                "last_exercised": latest,
            }
        )
    org = manifest.organisation if manifest else None
    return {
        "organisation": {"key": org.key, "name": org.name, "profile": org.profile.value, "region": org.region}
        if org
        else None,
        "datamap_version": version.number if version else None,
        "generated_at": utcnow().isoformat(timespec="seconds"),
        "totals": {
            "promises": len(promises),
            "configured": sum(p["configured"] for p in promises),
            "exercised": sum(p["last_exercised"] is not None for p in promises),
        },
        "promises": promises,
    }


def to_text(report: dict) -> str:
    """A terminal listing: one block per promise, missing pieces and the newest evidence."""
    org = report["organisation"]
    t = report["totals"]
    lines = [
        f"Evidence for {org['name'] if org else 'no organisation (no data map applied)'}: "
        f"{t['configured']} of {t['promises']} promises configured, {t['exercised']} exercised "
        f"(data map version {report['datamap_version'] or '-'}, {report['generated_at']})"
    ]
    for p in report["promises"]:
        state = "configured" if p["configured"] else "MISSING"
        lines.append(f"\n{p['id']:<4} {state:<10} {p['title']['en']}  [{', '.join(p['policy'])}]")
        lines.append(f"     mechanism: {p['mechanism']['en']}")
        lines += [f"     has: {s}" for s in p["summary"]]
        lines += [f"     missing: {m}" for m in p["missing"]]
        for e in p["evidence"]:
            when = e["at"] or "never"
            extra = f" ({e['count']} in all)" if e["count"] else ""
            lines.append(f"     last {e['source']}: {when}{extra}{' - ' + e['detail'] if e['detail'] else ''}")
    return "\n".join(lines) + "\n"


@cache
def _environment() -> Environment:  # jinja2 is imported lazily
    from jinja2 import Environment, PackageLoader, select_autoescape

    return Environment(
        loader=PackageLoader("privet.reports", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def to_html(report: dict, lang: str = "en") -> str:
    """The report as one self-contained HTML page, in English or Simplified Chinese (titles, mechanisms and labels;
    what the checks found is in English)."""
    return _environment().get_template("evidence.html").render(r=report, lang=lang, t=LABELS[lang])


def render(session: Session, settings: Settings, fmt: str, lang: str = "en") -> str:
    """The report in `text`, `html` or `json` (`lang`: the HTML page's language)."""
    if fmt not in FORMATS:
        raise InvalidInput(f"Unknown format {fmt!r}", f"use one of {', '.join(FORMATS)}")
    if lang not in LANGUAGES:
        raise InvalidInput(f"Unknown language {lang!r}", f"use one of {', '.join(LANGUAGES)}")
    report = build(session, settings)
    if fmt == "json":
        return json.dumps(report, indent=2, ensure_ascii=False) + "\n"
    return to_html(report, lang) if fmt == "html" else to_text(report)


LABELS = {
    "en": {
        "title": "Evidence: the promises kept",
        "no_map": "No data map is applied.",
        "totals": "{c} of {n} promises configured; {e} exercised at least once.",
        "generated": "Generated {at} from data map version {v}.",
        "explain": "A promise is configured when the data map, registers, notices and settings give its mechanism "
        "what it needs; the evidence is the newest run or check recorded in Privet's store.",
        "promise": "Promise",
        "mechanism": "Mechanism",
        "configured": "Configured",
        "evidence": "Latest evidence",
        "yes": "Configured",
        "no": "Missing",
        "never": "never",
        "in_all": "in all",
        "checked_now": "checked now",
    },
    "zh_CN": {
        "title": "证据：政策承诺的履行情况",
        "no_map": "尚未应用数据地图。",
        "totals": "{n} 项承诺中已配置 {c} 项；{e} 项至少执行过一次。",
        "generated": "生成于 {at}，依据数据地图第 {v} 版。",
        "explain": "当数据地图、登记册、告知和设置为某项机制提供了所需内容时，该承诺即为已配置；证据为 Privet "
        "存储中记录的最近一次运行或检查。",
        "promise": "承诺",
        "mechanism": "机制",
        "configured": "配置",
        "evidence": "最近证据",
        "yes": "已配置",
        "no": "缺失",
        "never": "从未",
        "in_all": "次（合计）",
        "checked_now": "当场检查",
    },
}


def parse_time(value: str | None) -> datetime | None:
    """An ISO time of the report back into a datetime (None stays None)."""
    return datetime.fromisoformat(value) if value else None
