"""Evidence checks of the registers (processors, recipients, agreements, grounds, transfers, disclosures) and of the
obligations P38-P45; each registers itself in `evidence_checks.CHECKS` (`reports.evidence` imports this module)."""

from __future__ import annotations

from sqlalchemy import func, select

from privet.reports.evidence_checks import NOW, Context, Found, _plural, check, under


def _processor_alerts(ctx: Context) -> list[dict]:
    from privet.registers.processors import alerts

    return ctx.once("processor_alerts", lambda: [a.as_dict() for a in alerts(ctx.session)])


# ---- registers ---------------------------------------------------------------------------------------------------
def _recipients(ctx: Context) -> list:
    from privet.registers.models import Recipient

    return ctx.once(
        "recipients", lambda: list(ctx.session.execute(select(Recipient).order_by(Recipient.key)).scalars())
    )


@check("processors")
def processors(ctx: Context) -> Found:
    """P9: processors named by the data map are registered with signed, current agreements, within scope."""
    from privet.registers.models import Processor

    named = sorted({p for a in ctx.activities for p in a.processors})
    alerts = _processor_alerts(ctx)
    registered = ctx.session.execute(select(func.count()).select_from(Processor)).scalar_one()
    missing = [a["message"] for a in alerts if a["kind"] != "expiring"]
    soon = [a["message"] for a in alerts if a["kind"] == "expiring"]
    if not named:
        missing.append("no activity names a processor (the policy entrusts processing to others)")
    return Found(
        f"{_plural(len(named), 'processor')} named by the data map, {registered} registered"
        + (f"; {'; '.join(soon)}" if soon else ""),
        missing,
    )


@check("recipients")
def recipients(ctx: Context) -> Found:
    """P11: every recipient the data map names is registered, with its purposes and grounds."""
    keys = {r.key for r in _recipients(ctx)}
    # the public (disclosures) and a successor (corporate transfers) have their own registers
    named = sorted(
        {
            r
            for a in ctx.activities
            for r in a.recipients
            if not under(a.purpose, "sharing.public_disclosure") and not under(a.purpose, "transfer.corporate")
        }
    )
    missing = [
        f"recipient {k} named by the data map is not registered (privet registers recipient-add)"
        for k in named
        if k not in keys
    ]
    if not keys:
        missing.append("no recipient is registered")
    return Found(f"{_plural(len(keys), 'recipient')} registered ({', '.join(sorted(keys)) or '-'})", missing)


@check("affiliates")
def affiliates(ctx: Context) -> Found:
    """P10: affiliates registered as recipients (their purpose changes need re-consent)."""
    found = [r.key for r in _recipients(ctx) if r.kind == "affiliate"]
    return Found(
        f"affiliates: {', '.join(found)}" if found else "",
        [] if found else ["no affiliate is registered as a recipient (--kind affiliate)"],
    )


@check("authorities")
def authorities(ctx: Context) -> Found:
    """P37: an authority registered with the legal grounds it may rely on."""
    found = [r for r in _recipients(ctx) if r.kind == "authority"]
    missing = [] if found else ["no authority is registered as a recipient (--kind authority)"]
    missing += [f"authority {r.key} has no legal ground to rely on" for r in found if not r.legal_grounds]
    return Found(f"authorities: {', '.join(r.key for r in found)}" if found else "", missing)


@check("recipient_agreements")
def recipient_agreements(ctx: Context) -> Found:
    """P38: recipients other than authorities carry a signed, current agreement (the register's alerts)."""
    from privet.registers.alerts import recipient_alerts

    bound = [r for r in _recipients(ctx) if r.kind != "authority"]
    alerts = [a for a in recipient_alerts(ctx.session) if a.kind in ("no_agreement", "expired", "expiring")]
    missing = [a.message for a in alerts if a.kind != "expiring"]
    if not bound:
        missing.append("no recipient bound by an agreement (affiliate, partner) is registered")
    lacking = {a.key for a in alerts if a.kind != "expiring"}
    soon = [a.message for a in alerts if a.kind == "expiring"]
    return Found(
        f"{_plural(len([r for r in bound if r.key not in lacking]), 'recipient')} with a signed, current "
        "agreement" + (f"; {'; '.join(soon)}" if soon else ""),
        missing,
    )


@check("declared_grounds", needs_map=False)
def declared_grounds(ctx: Context) -> Found:
    """P39: the grounds the company's policy declares for sharing without consent."""
    from privet.registers.policy import declared

    codes = declared(ctx.session)
    if not codes:
        return Found("", ["the company has not declared its policy's grounds for sharing without consent"])
    return Found(f"{_plural(len(codes), 'ground')} declared: {', '.join(codes)}")


@check("corporate_transfers")
def corporate_transfers(ctx: Context) -> Found:
    """P12, P36: the data map declares transfers in a merger or sale (the register records them)."""
    found = [a.key for a in ctx.activities if under(a.purpose, "transfer.corporate")]
    return Found(
        f"declared by {', '.join(found)}" if found else "",
        [] if found else ["no activity declares transfers in a merger, acquisition or sale (transfer.corporate)"],
    )


@check("disclosures")
def disclosures(ctx: Context) -> Found:
    """P13: an activity declares public disclosure; the disclosure register then asks each one for separate consent
    or a legal reference."""
    found = [a.key for a in ctx.activities if under(a.purpose, "sharing.public_disclosure")]
    return Found(
        f"declared by {', '.join(found)}; each needs separate consent or a legal reference" if found else "",
        [] if found else ["no activity declares public disclosure (sharing.public_disclosure)"],
    )


# ---- mechanisms of issue 14 (found by what the code offers) ---------------------------------------------------------
@check("category_sources")
def category_sources(ctx: Context) -> Found:
    """P40: every dataset says where its data comes from; data received from a third party names it and the legal
    basis for obtaining it (per category), so a person can be told "received from X"."""
    datasets = list(ctx.manifest.datasets)
    detailed = [(d.key, s) for d in datasets for s in d.sources if not isinstance(s, str)]
    third = sorted({s.third_party for _k, s in detailed if s.third_party})
    missing = [
        f"dataset {d.key} declares no sources, so nobody can be told where its data came from"
        for d in datasets
        if not d.sources
    ]
    missing += [
        f"dataset {k}: source {s.key} names no legal basis for obtaining it"
        for k, s in detailed
        if (s.third_party or s.key == "third_party") and not s.legal_basis
    ]
    if not detailed:
        missing.append(
            "no dataset declares its sources per category with a legal basis (sources: - key: ..., "
            "categories: [...], legal_basis: ...)"
        )
    return Found(
        f"{_plural(len(detailed), 'source')} declared per category with a legal basis; "
        + (f"received from {', '.join(third)}" if third else "nothing received from third parties"),
        missing,
    )


@check("regional_contacts")
def regional_contacts(ctx: Context) -> Found:
    """P41: a contact for each region where data is kept (the responsible contact answers the home region)."""
    org = ctx.manifest.organisation
    if org is None:
        return Found("", ["the data map has no organisation (home region, responsible contact)"])
    regions = {c.region for c in org.contacts}
    stores = sorted({d.region for d in ctx.manifest.datastores} - {org.region} - regions)
    missing = [f"no contact for region {r}, where datastores keep data (organisation contacts:)" for r in stores]
    return Found(
        f"contacts for {', '.join(sorted(regions)) or '-'}; the responsible contact answers {org.region}; "
        "a person's jurisdiction selects deadlines, rights and texts",
        missing,
    )


@check("related_accounts")
def related_accounts(ctx: Context) -> Found:
    """P42: accounts related to a person's (device owners, family members) declared in the data map."""
    declared = [
        f"{d}.{t}.{f.name}"
        for d, t, f in ctx.fields()
        if f.relation is not None and f.relation.value == "related_account"
    ]
    if not declared:
        return Found(
            "",
            [
                "the data map declares no accounts related to a person's (a field with relation: "
                "related_account, e.g. a device's owner or a family member)"
            ],
        )
    return Found(f"related accounts closed with a minor's through {', '.join(declared)}")


@check("collection_check")
def collection_check(ctx: Context) -> Found:
    """P43: the collection check (POST /collection/check, the SDK) answers from each purpose's categories."""
    purposes = sorted({a.purpose for a in ctx.activities if a.required_categories})
    return Found(
        f"POST /collection/check answers for {_plural(len(purposes), 'purpose')} with required categories"
        if purposes
        else "",
        []
        if purposes
        else ["no activity declares required categories, so the collection check has nothing to answer from"],
    )


@check("channel_decisions")
def channel_decisions(ctx: Context) -> Found:
    """P44: decisions about marketing answer per channel (e-mail, SMS, push) from the person's choices."""
    marketing = sorted({a.purpose for a in ctx.activities if ctx.purpose_type(a.purpose) == "marketing"})
    return Found(
        f"decisions on {', '.join(marketing)} take a channel and deny a channel switched off" if marketing else "",
        [] if marketing else ["no activity declares a marketing purpose, so no channel can be switched off"],
    )


# ---- register checks run as evidence ---------------------------------------------------------------------------
def _now_processors(ctx: Context) -> str:
    alerts = _processor_alerts(ctx)
    return f"{_plural(len(alerts), 'processor alert')}" + (f": {alerts[0]['message']}" if alerts else "")


def _now_crossborder(ctx: Context) -> str:
    from privet.registers.crossborder_alerts import alerts

    found = alerts(ctx.session)
    return f"{_plural(len(found), 'cross-border alert')}" + (f": {found[0]['message']}" if found else "")


def _now_registers(ctx: Context) -> str:
    from privet.registers.alerts import all_alerts

    found = all_alerts(ctx.session)
    return f"{_plural(len(found), 'register alert')}" + (f": {found[0].message}" if found else "")


NOW.update(
    {"processor_alerts": _now_processors, "crossborder_alerts": _now_crossborder, "register_alerts": _now_registers}
)
