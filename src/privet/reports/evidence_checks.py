"""The configuration checks of the evidence report: one function per name `promises.yaml` uses, each saying what
this company has configured for a mechanism and what is missing (`Found`). Checks read the applied data map, the
registers, the notices, the settings and the store; they change nothing and never open the company's databases.
`NOW` holds the checks the report runs as evidence ("checked now: no alerts")."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from privet.settings import Settings

NO_MAP = "no data map is applied (privet datamap apply PATH)"
LIFECYCLE_TRIGGERS = ("account_closure", "contract_end", "last_activity", "accounting_period_end")


@dataclass
class Found:
    """What a check found: a summary of what is configured, and what is missing (nothing missing: configured)."""

    summary: str
    missing: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.missing


@dataclass
class Context:
    """What the checks read, loaded once per report."""

    session: Session
    settings: Settings
    manifest: Any  # datamap.schemas.Manifest | None
    taxonomy: Any  # taxonomy.loader.Taxonomy
    memo: dict = field(default_factory=dict)

    def once(self, key: str, make: Callable[[], Any]) -> Any:
        """`make()`, computed once per report."""
        if key not in self.memo:
            self.memo[key] = make()
        return self.memo[key]

    @property
    def activities(self) -> list:
        return list(self.manifest.processing_activities) if self.manifest else []

    def fields(self) -> list[tuple[str, str, Any]]:
        """(dataset, table, field) of every field in the data map."""
        if not self.manifest:
            return []
        return [(d.key, t.name, f) for d in self.manifest.datasets for t in d.tables for f in t.fields]

    def purpose_type(self, key: str) -> str | None:
        """The taxonomy type of a purpose (marketing, notice, service...), inherited from its parents."""
        for k in [key, *self.taxonomy.ancestors(key, "purposes")] if self.taxonomy.find(key) else []:
            found = self.taxonomy.find(k)
            if found and found[0] == "purposes":
                return getattr(found[1], "type", None)
        return None

    def consent_based(self, basis: str) -> bool:
        found = self.taxonomy.find(basis)
        return bool(found and getattr(found[1], "consent", False))


def under(key: str | None, root: str) -> bool:
    """`key` is `root` or one of its sub-keys."""
    return bool(key and (key == root or key.startswith(root + ".")))


CHECKS: dict[str, Callable[[Context], Found]] = {}
NOW: dict[str, Callable[[Context], str]] = {}


def check(name: str, *, needs_map: bool = True) -> Callable:
    """Register a configuration check under `name`; most need an applied data map and say so without one."""

    def register(fn: Callable[[Context], Found]) -> Callable[[Context], Found]:
        def run(ctx: Context) -> Found:
            return fn(ctx) if ctx.manifest is not None or not needs_map else Found("", [NO_MAP])

        run.__doc__ = fn.__doc__
        CHECKS[name] = run
        return fn

    return register


def _plural(n: int, noun: str) -> str:
    if n == 1:
        return f"{n} {noun}"
    return f"{n} {noun[:-1]}ies" if noun.endswith("y") and noun[-2:] not in ("ay", "ey", "oy") else f"{n} {noun}s"


# ---- the data map ------------------------------------------------------------------------------------------------
@check("categorised_fields")
def categorised_fields(ctx: Context) -> Found:
    """P1: stored fields are tied to data categories."""
    fields = ctx.fields()
    personal = [(d, t, f) for d, t, f in fields if f.category]
    categories = {f.category for _d, _t, f in personal}
    sensitive = {c for c in categories if ctx.taxonomy.sensitive_kind(c)}
    if not personal:
        return Found("", ["no field of the data map is tied to a data category"])
    tables = {(d, t) for d, t, _f in personal}
    return Found(
        f"{_plural(len(personal), 'field')} in {_plural(len(tables), 'table')} tied to "
        f"{_plural(len(categories), 'category')} ({len(sensitive)} sensitive)"
    )


@check("purpose_categories")
def purpose_categories(ctx: Context) -> Found:
    """P2, P43: each activity declares its required (and optional) categories."""
    bare = [a.key for a in ctx.activities if not a.required_categories]
    with_optional = sum(1 for a in ctx.activities if a.optional_categories)
    missing = [f"activity {k} declares no required categories" for k in bare]
    if not ctx.activities:
        missing.append("the data map declares no processing activities")
    return Found(
        f"{len(ctx.activities) - len(bare)} activities declare required categories, {with_optional} also optional ones",
        missing,
    )


@check("dataset_sources")
def dataset_sources(ctx: Context) -> Found:
    """P3: provenance per dataset."""
    datasets = list(ctx.manifest.datasets)
    bare = [d.key for d in datasets if not d.sources]
    sources = sorted({_source_key(s) for d in datasets for s in d.sources})
    return Found(
        f"sources {', '.join(sources) or 'none'} on {len(datasets) - len(bare)} of {_plural(len(datasets), 'dataset')}",
        [f"dataset {k} declares no sources" for k in bare],
    )


def _source_key(source: Any) -> str:
    """A dataset's source is a key or a `Source` with its categories, third party and legal basis."""
    return source if isinstance(source, str) else source.key


@check("declared_purposes")
def declared_purposes(ctx: Context) -> Found:
    """P7: every activity names a known purpose and legal basis."""
    unknown = [
        f"activity {a.key}: purpose {a.purpose} is not in the taxonomy"
        for a in ctx.activities
        if not ctx.taxonomy.find(a.purpose)
    ]
    unknown += [
        f"activity {a.key}: legal basis {a.legal_basis} is not in the taxonomy"
        for a in ctx.activities
        if not ctx.taxonomy.find(a.legal_basis)
    ]
    purposes = {a.purpose for a in ctx.activities}
    return Found(
        f"{_plural(len(ctx.activities), 'activity')} over {_plural(len(purposes), 'purpose')}, each with "
        "a legal basis; the decision API refuses any other purpose",
        unknown or ([] if ctx.activities else ["the data map declares no processing activities"]),
    )


@check("marketing_and_notices")
def marketing_and_notices(ctx: Context) -> Found:
    """P8, P35: marketing purposes rest on consent; service notices are declared and do not."""
    marketing = [a for a in ctx.activities if ctx.purpose_type(a.purpose) == "marketing"]
    notices = [a for a in ctx.activities if ctx.purpose_type(a.purpose) == "notice"]
    missing = [
        f"activity {a.key} markets ({a.purpose}) on {a.legal_basis}, not on consent"
        for a in marketing
        if not ctx.consent_based(a.legal_basis)
    ]
    if not marketing:
        missing.append("no activity declares a marketing purpose (marketing.*)")
    if not notices:
        missing.append("no activity declares a service-notice purpose (notice.*)")
    return Found(
        f"{_plural(len(marketing), 'marketing activity')} on consent, "
        f"{_plural(len(notices), 'notice activity')} that cannot be refused",
        missing,
    )


@check("cookie_purposes")
def cookie_purposes(ctx: Context) -> Found:
    """P4: banner categories map to declared consent purposes; click tracking has its purpose."""
    from privet.consent.ledger.rules import current_policy
    from privet.consent.visitors import cookie_purposes as mapping

    mapped = {c: p for c, p in mapping(current_policy(ctx.session)).items() if p}
    clicks = any(under(a.purpose, "analytics.click_tracking") for a in ctx.activities)
    missing = (
        []
        if mapped
        else [
            "no banner category (analytics, marketing, preferences) maps to a purpose the data "
            "map declares on consent (cookie.<category>, analytics.usage ...)"
        ]
    )
    return Found(
        "banner: "
        + (", ".join(f"{c} → {p}" for c, p in sorted(mapped.items())) or "nothing recorded")
        + (
            "; click tracking counts only with consent to analytics.click_tracking"
            if clicks
            else "; no click-tracking purpose (tracked links never count)"
        ),
        missing,
    )


@check("organisations")
def organisations(ctx: Context) -> Found:
    """P6: organisation data in the data map; subjects linked to organisations; agents."""
    fields = [f for _d, _t, f in ctx.fields() if under(f.category, "user.organisation")]
    types = {
        s for a in ctx.activities for s in a.subject_types if "organisation" in s or "partner" in s or "dealer" in s
    }
    from privet.subjects.models import Subject

    linked = ctx.session.execute(
        select(func.count()).select_from(Subject).where(Subject.organisation_ref.is_not(None))
    ).scalar_one()
    missing = (
        []
        if fields or types
        else [
            "the data map holds no organisation data (user.organisation.*) and no "
            "subject type acting for an organisation"
        ]
    )
    return Found(
        f"{_plural(len(fields), 'organisation field')}, subject types {', '.join(sorted(types)) or '-'}; "
        f"{_plural(linked, 'subject')} linked to an organisation; authorised agents may file requests",
        missing,
    )


@check("device_serial")
def device_serial(ctx: Context) -> Found:
    """P33: a device serial identity finds people."""
    found = [f"{d}.{t}.{f.name}" for d, t, f in ctx.fields() if f.identity == "device_serial"]
    return Found(
        f"device serial identifies people in {', '.join(found)}" if found else "",
        [] if found else ["no field of the data map is a device_serial identity"],
    )


@check("children")
def children(ctx: Context) -> Found:
    """P27: the profile's age threshold and where ages are found."""
    org = ctx.manifest.organisation
    if org is None:
        return Found("", ["the data map has no organisation profile (child age, adults only)"])
    births = [
        f"{d}.{t}.{f.name}"
        for d, t, f in ctx.fields()
        if under(f.category, "user.demographic.date_of_birth") or under(f.category, "user.minor")
    ]
    rule = (
        "adults only: every minor's account is closed"
        if org.adults_only
        else f"under {org.child_age} needs a verified guardian's consent"
    )
    return Found(
        f"{rule}; ages read from {', '.join(births[:4]) or '-'}" + (" ..." if len(births) > 4 else ""),
        []
        if births
        else [
            "no field holds birth dates (user.demographic.date_of_birth), so the children "
            "sweep can only see ages recorded in Privet"
        ],
    )


@check("sql_datastores")
def sql_datastores(ctx: Context) -> Found:
    """P34: tables that can be exported pseudonymised or anonymised."""
    sql = [d.key for d in ctx.manifest.datastores if d.kind.value in ("sqlite", "postgresql", "mysql")]
    return Found(
        f"pseudonymised and anonymised exports from {', '.join(sql)}" if sql else "",
        [] if sql else ["no SQL datastore in the data map to export from"],
    )


@check("connected_datastores")
def connected_datastores(ctx: Context) -> Found:
    """P14: datastores reachable for requests (their secrets set) and a data map requests can run on."""
    from privet.datamap.evaluate import evaluate
    from privet.datamap.secrets import known_secrets

    known = known_secrets(ctx.settings)
    stores = list(ctx.manifest.datastores)
    missing = [
        f"datastore {d.key}: connection secret {d.secret!r} is not set (PRIVET_SECRETS or the secrets file)"
        for d in stores
        if d.secret and d.secret not in known
    ]
    errors = [f for f in evaluate(ctx.manifest, ctx.taxonomy) if f.severity == "error"]
    if errors:
        missing.append(f"{_plural(len(errors), 'data map error')} (privet datamap evaluate), e.g. {errors[0].message}")
    manual = sum(1 for d in stores if d.kind.value == "manual")
    return Found(
        f"requests run on {len(stores) - manual} connected datastores and {manual} by hand "
        f"({', '.join(d.key for d in stores)})",
        missing,
    )


@check("regions_and_transfers")
def regions_and_transfers(ctx: Context) -> Found:
    """P29: every datastore has a region; data kept abroad has a declared transfer with a mechanism."""
    from privet.registers.crossborder import datamap_alerts

    alerts = datamap_alerts(ctx.session)
    regions = sorted({d.region for d in ctx.manifest.datastores})
    transfers = [t for a in ctx.activities for t in a.transfers]
    home = ctx.manifest.organisation.region if ctx.manifest.organisation else "?"
    return Found(
        f"home {home}; datastores in {', '.join(regions)}; {_plural(len(transfers), 'declared transfer')}",
        [a["message"] for a in alerts],
    )


@check("lifecycle_retention")
def lifecycle_retention(ctx: Context) -> Found:
    """P23: retention from lifecycle triggers, with a legal minimum (the accounting period)."""
    rules = _rules(ctx)
    lifecycle = [r for r in rules if r.trigger in LIFECYCLE_TRIGGERS and not r.problem]
    legal = [r for r in rules if r.legal_minimum and not r.problem]
    missing = (
        [] if lifecycle else ["no enforceable retention rule starts at account closure, contract end or last activity"]
    )
    if not legal:
        missing.append("no retention rule keeps records for a legal minimum (the financial accounting period)")
    missing += _unenforced(ctx, rules)
    return Found(f"{_plural(len(lifecycle), 'lifecycle rule')}, {_plural(len(legal), 'legal minimum')}", missing)


@check("retention_rules")
def retention_rules(ctx: Context) -> Found:
    """P25: retention rules the sweep enforces."""
    rules = _rules(ctx)
    usable = [r for r in rules if not r.problem]
    by_hand = [r for r in rules if r.problem and r.kind == "manual"]  # kept by people; the plan says so
    missing = (
        []
        if usable
        else [
            "no retention rule the sweep can enforce (retention: on tables, the organisation's "
            "categories or activities)"
        ]
    )
    missing += [
        f"rule {r.name or r.table} is not enforced: {r.problem}" for r in rules if r.problem and r.kind != "manual"
    ]
    return Found(
        f"{_plural(len(usable), 'enforceable rule')} on "
        f"{_plural(len({(r.datastore, r.table) for r in usable}), 'table')}"
        + (f", {len(by_hand)} kept by hand ({', '.join(r.name or r.table for r in by_hand)})" if by_hand else ""),
        missing,
    )


def _rules(ctx: Context) -> list:
    from privet.retention.rules import load_rules

    return ctx.once("rules", lambda: load_rules(ctx.session))


def _unenforced(ctx: Context, rules: list) -> list[str]:
    """Activities whose retention reaches none of their tables (and no rule names them)."""
    covered = {a for r in rules if not r.problem for a in r.activities}
    tables = {(r.dataset, r.table) for r in rules if not r.problem}
    out = []
    datasets = {d.key: d for d in ctx.manifest.datasets}
    for a in ctx.activities:
        if a.retention is None or not a.retention.duration or a.key in covered:
            continue
        own = [(k, t.name) for k in a.datasets if k in datasets for t in datasets[k].tables]
        if own and not any(t in tables for t in own):
            out.append(
                f"activity {a.key}: its retention ({a.retention.duration} after {a.retention.trigger}) is "
                "enforced on none of its tables"
            )
    return out


# ---- organisation, notices, settings -----------------------------------------------------------------------------
@check("responsible_contact")
def responsible_contact(ctx: Context) -> Found:
    """P21, P26: a responsible contact people can complain to and incident notices name."""
    org = ctx.manifest.organisation
    who = org.responsible if org else None
    if who is None or not (who.email or who.phone):
        return Found("", ["the organisation names no responsible contact with an e-mail address or phone"])
    return Found(f"{who.name}: " + ", ".join(x for x in (who.email, who.phone) if x))


@check("contact_channels")
def contact_channels(ctx: Context) -> Found:
    """P32: contact by e-mail and phone; staff file requests with the channel recorded."""
    org = ctx.manifest.organisation
    who = org.responsible if org else None
    missing = []
    if who is None or not who.email:
        missing.append("the responsible contact has no e-mail address")
    if who is None or not who.phone:
        missing.append("the responsible contact has no phone number")
    return Found(
        "e-mail and phone published; staff file requests for callers with the channel recorded" if not missing else "",
        missing,
    )


def _notices(ctx: Context) -> dict[str, list[str]]:
    from privet.notices.models import Notice

    out: dict[str, list[str]] = {}
    for key, kind in ctx.session.execute(select(Notice.key, Notice.kind).order_by(Notice.key)):
        out.setdefault(kind, []).append(key)
    return out


@check("published_policy", needs_map=False)
def published_policy(ctx: Context) -> Found:
    """P28, P30: a published privacy policy (versions, diffs, outbound links marked)."""
    from privet.notices.models import Notice, NoticeVersion

    rows = ctx.session.execute(
        select(Notice.key, func.count(NoticeVersion.id))
        .join(NoticeVersion, NoticeVersion.notice_id == Notice.id)
        .where(Notice.kind == "policy")
        .group_by(Notice.key)
    ).all()
    if not rows:
        return Found("", ["no privacy policy is published (privet notices publish FILE --key privacy-policy)"])
    return Found("; ".join(f"{k}: {_plural(n, 'version')}" for k, n in rows))


@check("notices", needs_map=False)
def notices(ctx: Context) -> Found:
    """P31: product and just-in-time notices besides the policy."""
    kinds = _notices(ctx)
    missing = []
    if not kinds.get("product"):
        missing.append("no product notice is published (--kind product)")
    if not kinds.get("just_in_time"):
        missing.append("no just-in-time notice is published (--kind just_in_time)")
    return Found("; ".join(f"{k}: {', '.join(v)}" for k, v in sorted(kinds.items())), missing)


@check("code_or_token_login", needs_map=False)
def code_or_token_login(ctx: Context) -> Found:
    """P5, P15: one-time codes can be sent, or trusted tokens from the company's login accepted."""
    s = ctx.settings
    ways = [
        f"codes by e-mail ({s.mail_sender})" if s.mail_sender != "none" else "",
        f"codes by SMS ({s.sms_sender})" if s.sms_sender != "none" else "",
        "trusted tokens from the company's login" if (s.subject_token_secret or s.subject_token_public_key) else "",
    ]
    ways = [w for w in ways if w]
    return Found(
        ", ".join(ways),
        []
        if ways
        else [
            "no one-time code can be sent and no trusted token is accepted: set PRIVET_MAIL_SENDER or "
            "PRIVET_SMS_SENDER (or PRIVET_SUBJECT_TOKEN_SECRET / _PUBLIC_KEY)"
        ],
    )


@check("fee_rule", needs_map=False)
def fee_rule(ctx: Context) -> Found:
    """P18: a number of free requests and a fee (or an officer's review) past it."""
    s = ctx.settings
    past = f"a fee of {s.requests_fee}" if s.requests_fee else None
    summary = (
        f"{s.requests_free_per_window} free per type in {s.requests_repeat_window_days} days, then "
        f"{past or 'an officer decides'}"
    )
    return Found(
        summary,
        []
        if past
        else [
            "no fee is set for requests past the free number (PRIVET_REQUESTS_FEE): they wait for an officer instead"
        ],
    )


@check("backup_purge", needs_map=False)
def backup_purge(ctx: Context) -> Found:
    """P22: erasures state when their data leaves the backups; a daily job follows the dates."""
    from privet.jobs.registry import load_handlers, periodic_jobs

    load_handlers()
    days = ctx.settings.backup_retention_days
    jobs = [j.kind for j in periodic_jobs() if "backup" in j.kind]
    missing = [] if jobs else ["no job follows the backup purge dates of erasures"]
    return Found(
        f"backups age out {days} days after an erasure" + (f"; job {', '.join(jobs)}" if jobs else ""), missing
    )


@check("refusal_codes", needs_map=False)
def refusal_codes(ctx: Context) -> Found:
    """P16, P19, P20: the reason codes a refusal rests on."""
    from privet.reports.promises import refusal_codes_named
    from privet.requests.law.triage import REFUSAL_CODES

    absent = sorted(set(refusal_codes_named()) - set(REFUSAL_CODES))
    return Found(
        f"{_plural(len(REFUSAL_CODES), 'reason code')} (the eight GB/T 35273-2020 circumstances, the "
        "policy's own and GDPR/CCPA's)",
        [f"reason code {c} is unknown" for c in absent],
    )


@check("append_only_ledger", needs_map=False)
def append_only_ledger(ctx: Context) -> Found:
    """P17: the consent ledger cannot be changed in the database; other legal bases keep working."""
    from privet.db.append_only import installed

    triggers = installed(ctx.session.connection(), "consent_records")
    other = (
        sorted({a.legal_basis for a in ctx.activities if not ctx.consent_based(a.legal_basis)}) if ctx.manifest else []
    )
    return Found(
        f"{_plural(len(triggers), 'trigger')} refuse changes to consent_records; other bases: "
        f"{', '.join(other) or '-'}",
        [] if triggers else ["the consent ledger's append-only triggers are missing (privet db upgrade)"],
    )


@check("security", needs_map=False)
def security(ctx: Context) -> Found:
    """P24: a keyed audit chain, encryption key, officers with roles."""
    from privet.audit.models import AuditHead
    from privet.auth.models import User

    head = ctx.session.execute(select(AuditHead)).scalars().first()
    admins = ctx.session.execute(
        select(func.count()).select_from(User).where(User.role == "admin", User.active.is_(True))
    ).scalar_one()
    missing = []
    if head is None or head.keyed_from is None:
        missing.append("the audit chain is not keyed (privet audit seal)")
    if not admins:
        missing.append("no active admin user (privet init)")
    anchor_file = ctx.settings.audit_anchor_file
    anchors = f"anchors to {anchor_file}" if anchor_file else "no anchor file"
    return Found(
        f"audit chain keyed (head {head.seq if head else '-'}), {anchors}; identities and packages encrypted; "
        f"{_plural(admins, 'active admin')}; public routes rate-limited",
        missing,
    )


@check("closure", needs_map=False)
def closure(ctx: Context) -> Found:
    """P45: closure and erasure withdraw every consent and end sessions (built in)."""
    return Found("built in: closure and erasure append a withdrawal for every purpose and end the person's sessions")


# ---- checks run as evidence ----------------------------------------------------------------------------------------
def _now_collection(ctx: Context) -> str:
    """Each purpose's own required categories run through the collection check: they must fit."""
    from privet.datamap.collection import Field
    from privet.datamap.collection import check as collection

    purposes = sorted({a.purpose for a in ctx.activities if a.required_categories})
    fit = 0
    for purpose in purposes:
        needed = sorted({c for a in ctx.activities if a.purpose == purpose for c in a.required_categories})
        try:
            fit += collection(ctx.session, purpose, [Field(c) for c in needed]).fits
        except Exception:  # noqa: BLE001 - a purpose the check refuses is counted as not fitting, and said
            continue
    return f"{fit} of {_plural(len(purposes), 'purpose')} accept a form with their required categories"


NOW["collection_check"] = _now_collection


# the registers' checks (evidence_registers) add themselves to CHECKS when imported; reports.evidence imports both
