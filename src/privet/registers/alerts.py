"""What `privet registers alerts` reports (P9, P38, P39): processors (see `processors.alerts`) and recipients named
by the data map but not registered, affiliates, partners and third parties without a signed agreement or with one
expired or expiring, and recipients registered for grounds the company's policy does not have."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from privet.kit.clock import utcnow
from privet.registers import common, grounds, policy, processors, sharing
from privet.registers.common import Alert

DEFAULT_ALERT_DAYS = processors.DEFAULT_ALERT_DAYS
# Activities with these purposes name recipients kept in other registers: the public (public disclosures) and a
# successor (corporate transfers), not recipients of shares.
OTHER_REGISTERS = ("sharing.public_disclosure", "transfer.corporate")
ORDER = {
    "unregistered": 0,
    "expired": 1,
    "no_agreement": 2,
    "ground_not_in_policy": 3,
    "expiring": 4,
    "out_of_scope": 5,
}


def activities_by_recipient(session: Session) -> dict[str, list[str]]:
    """For each recipient key the data map's activities name: the activities (those of the disclosure and
    corporate-transfer registers left out)."""
    from privet.datamap.models import DatamapActivity
    from privet.taxonomy.service import effective

    taxonomy = effective(session)

    def elsewhere(purpose: str) -> bool:
        return purpose in taxonomy.purposes and any(
            p in taxonomy.purposes and taxonomy.is_within(purpose, p, "purposes") for p in OTHER_REGISTERS
        )

    out: dict[str, list[str]] = {}
    a = DatamapActivity
    for key, purpose, names in session.execute(select(a.key, a.purpose, a.recipients).order_by(a.key)):
        if elsewhere(purpose):
            continue
        for recipient in names or []:
            out.setdefault(recipient, []).append(key)
    return out


def recipient_alerts(session: Session, *, days: int = DEFAULT_ALERT_DAYS, today: date | None = None) -> list[Alert]:
    """Recipients the data map names but the register lacks, missing, expired or expiring agreements of those
    bound by one (not authorities), and grounds a recipient is registered for that the company's policy lacks."""
    if days < 0:
        raise common.bad("days cannot be negative", "days", "give the warning window in days, e.g. 30")
    today = today or utcnow().date()
    used = activities_by_recipient(session)
    registered = {r.key: r for r in sharing.list_recipients(session)}
    accepted = set(policy.accepted(session))
    out = [
        Alert(
            "unregistered",
            key,
            f"activities name recipient {key!r} but it is not in the register",
            used[key],
            entry="recipient",
        )
        for key in sorted(set(used) - set(registered))
    ]
    for key, r in registered.items():
        acts = used.get(key, [])
        if sharing.needs_agreement(r):
            out += common.agreement_alerts(
                "recipient", key, acts, r.agreement_ref, r.signed_on, r.expires_on, today, days
            )
        outside = [c for c in r.legal_grounds if c not in accepted]
        if outside:
            out.append(
                Alert(
                    "ground_not_in_policy",
                    key,
                    f"recipient {key!r} is registered for grounds the "
                    "company's policy does not have: "
                    + ", ".join(f"{c} ({grounds.reference_of(c)})" if c in grounds.CATALOGUE else c for c in outside),
                    acts,
                    entry="recipient",
                )
            )
    return sorted(out, key=lambda a: (ORDER[a.kind], a.key))


def all_alerts(session: Session, *, days: int = DEFAULT_ALERT_DAYS, today: date | None = None) -> list[Alert]:
    """Processor alerts, then recipient alerts, each most urgent first."""
    return [*processors.alerts(session, days=days, today=today), *recipient_alerts(session, days=days, today=today)]
