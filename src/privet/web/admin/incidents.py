"""Incidents: the register with every open clock (overdue first), a form to record an incident, and an incident's
page with its clocks, the draft notices to people and to the regulator (English and Chinese), "notice sent" and
"close". Read with `registers:read`; the forms need `registers:write`. Audited by the services."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Literal, overload

from fastapi import APIRouter, Request
from starlette.datastructures import FormData
from starlette.responses import HTMLResponse, Response

from privet.http.routes import DB
from privet.kit.clock import utcnow
from privet.kit.errors import InvalidInput
from privet.registers import incidents, incidents_notices
from privet.web.admin.common import N_, Form, guard, officer, page, redirect, text
from privet.web.admin.form_errors import REFUSED, what_to_fix
from privet.web.render import language

router = APIRouter(prefix="/incidents")
READ, WRITE = guard("registers:read"), guard("registers:write")

SEVERITY_LABELS = {
    "general": N_("General (一般)"),
    "relatively_major": N_("Relatively major (较大)"),
    "major": N_("Major (重大)"),
    "especially_major": N_("Especially major (特别重大)"),
}
CLOCKS = {
    "prc_regulator": N_("PRC regulator"),
    "gdpr_authority": N_("GDPR supervisory authority"),
    "people": N_("People affected"),
}
CLOCK_STATES = {"done": N_("Done"), "overdue": N_("Overdue"), "due": N_("Due"), "asap": N_("Without undue delay")}
CLOCK_TONE = {"done": "ok", "overdue": "bad", "due": "warn", "asap": "warn"}
INCIDENT_STATES = {"open": N_("Open"), "closed": N_("Closed")}
AUDIENCES = {"people": N_("Notice to the people affected"), "regulator": N_("Report to the regulator")}
REGIMES = {"prc": N_("PRC (PIPL and the incident reporting measures)"), "gdpr": N_("GDPR")}
FACT_LABELS = {
    "what_happened": N_("What happened"),
    "consequences": N_("Likely consequences"),
    "measures": N_("Measures taken"),
    "advice": N_("What people can do"),
}
OFFSETS = ("+08:00", "+00:00", "+01:00", "+02:00", "-05:00", "-08:00")
FLASHES = {
    "recorded": N_("The incident was recorded; its clocks are running."),
    "notified": N_("The notice was recorded as sent."),
    "closed": N_("The incident was closed."),
}


def _left(clock: incidents.Clock, now: datetime) -> dict | None:
    """How long until a fixed deadline (or how late it is): {"time": "3 h 20 min", "late": bool}; None if done or
    without a fixed deadline."""
    if clock.done_at is not None or clock.due_at is None:
        return None
    minutes = int(abs((clock.due_at - now).total_seconds()) // 60)
    return {"time": f"{minutes // 60} h {minutes % 60} min", "late": now > clock.due_at}


def _labels() -> dict:
    return {
        "left": _left,
        "severities": SEVERITY_LABELS,
        "clock_names": CLOCKS,
        "clock_states": CLOCK_STATES,
        "clock_tone": CLOCK_TONE,
        "incident_states": INCIDENT_STATES,
        "audiences": AUDIENCES,
        "regimes": REGIMES,
        "fact_labels": FACT_LABELS,
        "offsets": OFFSETS,
    }


def _categories(db: DB, lang: str) -> dict[str, str]:
    from privet.taxonomy.service import effective

    return {key: c.label(lang) for key, c in sorted(effective(db).categories.items())}


def _local(offset: str) -> str:
    """Now in the offset's local time, as a datetime-local value."""
    sign = -1 if offset.startswith("-") else 1
    hours, minutes = (int(part) for part in offset[1:].split(":"))
    zone = timezone(sign * timedelta(hours=hours, minutes=minutes))
    return utcnow().astimezone(zone).strftime("%Y-%m-%dT%H:%M")


def _list_page(
    request: Request, db: DB, *, values: dict | None = None, error: str | None = None, status_code: int = 200
) -> HTMLResponse:
    now = utcnow()
    return page(
        request,
        "admin/incidents.html",
        {
            "due": incidents.due(db, now=now),
            "incidents": incidents.list_incidents(db),
            "now": now,
            "clocks_of": incidents.clocks,
            "categories": _categories(db, language(request)),
            "values": values
            or {
                "offset": OFFSETS[0],
                "discovered_at": _local(OFFSETS[0]),
                "severity": "general",
                "categories": [],
                "regimes": [],
            },
            **_labels(),
        },
        section="incidents",
        error=error,
        status_code=status_code,
        flash=FLASHES.get(request.query_params.get("done") or ""),
    )


@router.get("", dependencies=READ, response_class=HTMLResponse)
def incident_list(request: Request, db: DB) -> HTMLResponse:
    """Clocks not yet done (overdue first), every incident, and the form to record one."""
    return _list_page(request, db)


@overload
def _moment(form: FormData, name: str, *, required: Literal[True]) -> datetime: ...


@overload
def _moment(form: FormData, name: str, *, required: bool) -> datetime | None: ...


def _moment(form: FormData, name: str, *, required: bool) -> datetime | None:
    raw, offset = text(form, name, 20), text(form, "offset", 6)
    if not raw:
        if required:
            raise InvalidInput("The discovery time is missing", "give the date and time the incident was discovered")
        return None
    if offset not in OFFSETS:
        offset = OFFSETS[0]
    try:
        return datetime.fromisoformat(f"{raw[:16]}{offset}")
    except ValueError:
        raise InvalidInput("A time is not a date and time", "give it as YYYY-MM-DD HH:MM") from None


def _int(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise InvalidInput("The number of people affected is not a number", "give an estimate if unknown") from None


@router.post("", dependencies=WRITE, response_class=HTMLResponse)
def record(request: Request, form: Form, db: DB) -> Response:
    """Record an incident; its clocks start at the discovery time. Bad input: the form again, nothing recorded."""
    facts = {
        key: {
            lang: text(form, f"{key}_{lang}", 4000) for lang in incidents.LANGUAGES if text(form, f"{key}_{lang}", 4000)
        }
        for key in incidents.FACTS
    }
    title, severity, subjects = text(form, "title", 200), text(form, "severity", 30), text(form, "subjects", 12)
    categories = [c for c in form.getlist("categories") if isinstance(c, str)]
    regimes = [r for r in form.getlist("regimes") if isinstance(r, str)]
    ciio, high_risk = text(form, "ciio", 3) == "yes", text(form, "high_risk", 3) == "yes"
    values = {
        "title": title,
        "severity": severity,
        "discovered_at": text(form, "discovered_at", 20),
        "occurred_at": text(form, "occurred_at", 20),
        "offset": text(form, "offset", 6),
        "subjects": subjects,
        "categories": categories,
        "regimes": regimes,
        "ciio": ciio,
        "high_risk": high_risk,
        **{f"{k}_{lang}": text(form, f"{k}_{lang}", 4000) for k in incidents.FACTS for lang in incidents.LANGUAGES},
    }
    try:
        row = incidents.record_incident(
            db,
            actor=officer(request).actor,
            title=title,
            severity=severity,
            discovered_at=_moment(form, "discovered_at", required=True),
            occurred_at=_moment(form, "occurred_at", required=False),
            categories=categories,
            subjects_affected=_int(subjects or "0"),
            ciio=ciio,
            high_risk=high_risk,
            regimes=regimes or None,
            facts={k: v for k, v in facts.items() if v},
        )
    except InvalidInput as exc:
        return _list_page(request, db, values=values, error=what_to_fix(request, db, exc), status_code=422)
    return redirect(f"/admin/incidents/{row.reference}", done="recorded")


def _incident_page(
    request: Request,
    db: DB,
    reference: str,
    *,
    values: dict | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    row = incidents.get_incident(db, reference)
    now = utcnow()
    return page(
        request,
        "admin/incident.html",
        {
            "incident": row,
            "clocks": incidents.clocks(row),
            "now": now,
            "drafts": incidents_notices.drafts(db, row),
            "now_local": _local(OFFSETS[0]),
            "values": values or {},
            **_labels(),
        },
        section="incidents",
        flash=FLASHES.get(request.query_params.get("done") or ""),
        error=error,
        status_code=status_code,
    )


@router.get("/{reference}", dependencies=READ, response_class=HTMLResponse)
def incident(reference: str, request: Request, db: DB) -> HTMLResponse:
    """One incident: its facts, clocks, the "notice sent" forms and the draft notices (en, zh_CN)."""
    return _incident_page(request, db, reference)


@router.post("/{reference}/notified", dependencies=WRITE, response_class=HTMLResponse)
def notified(reference: str, request: Request, form: Form, db: DB) -> Response:
    """Record that the notice of one clock went out (now, or at the time given); audited. Refused (a clock that
    does not apply, a time before the discovery...): the page again with the time kept and what to fix."""
    values = {"clock": text(form, "clock", 40), "at": text(form, "at", 20), "offset": text(form, "offset", 6)}
    row = incidents.get_incident(db, reference)
    try:
        incidents.mark_notified(
            db,
            row.reference,
            values["clock"],
            actor=officer(request).actor,
            at=_moment(form, "at", required=False),
        )
    except REFUSED as exc:
        error = what_to_fix(request, db, exc)
        return _incident_page(request, db, reference, values=values, error=error, status_code=exc.status)
    return redirect(f"/admin/incidents/{row.reference}", done="notified")


@router.post("/{reference}/close", dependencies=WRITE, response_class=HTMLResponse)
def close(reference: str, request: Request, db: DB) -> Response:
    """Close an incident: its remaining clocks stop showing as due; audited."""
    row = incidents.get_incident(db, reference)
    try:
        incidents.close_incident(db, row.reference, actor=officer(request).actor)
    except REFUSED as exc:
        return _incident_page(request, db, reference, error=what_to_fix(request, db, exc), status_code=exc.status)
    return redirect(f"/admin/incidents/{row.reference}", done="closed")
