"""Evidence checks of the organisation, notices and settings: contacts, published policy, logins, fees, backups,
refusal codes, the append-only ledger, security (each registers itself in `evidence_checks.CHECKS`)."""

from __future__ import annotations

from sqlalchemy import func, select

from privet.reports.evidence_checks import NOW, Context, Found, _plural, check


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
