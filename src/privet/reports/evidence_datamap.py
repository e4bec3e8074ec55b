"""Evidence checks of the data map: categories, purposes, sources, children, datastores, regions, retention
(each registers itself in `evidence_checks.CHECKS`; `reports.evidence` imports this module)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from privet.reports.evidence_checks import LIFECYCLE_TRIGGERS, Context, Found, _plural, check, under


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
    from privet.registers.crossborder_alerts import datamap_alerts

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
