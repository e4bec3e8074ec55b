"""Channel preferences (e-mail, SMS, push) per messaging purpose.

Service notices (purpose type `notice`) cannot be switched off: they are necessary for the service (P8, P35).
Marketing messages can, on each channel separately.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from privet.audit.service import record as audit
from privet.consent.decisions.rules import CHANNELS
from privet.consent.ledger.rules import current_policy, purpose_rule
from privet.consent.models import ChannelPreference
from privet.kit.clock import utcnow
from privet.kit.errors import InvalidInput, NotFound, Problem

__all__ = ["CHANNELS", "MESSAGING_TYPES", "preferences", "set_preference"]
MESSAGING_TYPES = ("notice", "marketing")


def _bad(message: str, where: str, hint: str) -> InvalidInput:
    return InvalidInput(message, hint, [Problem(message, where, hint)])


def set_preference(
    session: Session, subject_id: str, purpose: str, channel: str, opted_in: bool, *, actor: str
) -> ChannelPreference:
    """Opt in or out of one messaging purpose on one channel; refuses opting out of service notices."""
    from privet.subjects.models import Subject

    if channel not in CHANNELS:
        raise _bad(f"Unknown channel {channel!r}", "channel", "use one of: " + ", ".join(CHANNELS))
    rule = purpose_rule(current_policy(session), purpose)
    if rule.type not in MESSAGING_TYPES:
        raise _bad(
            f"{purpose} is not a messaging purpose",
            "purpose",
            "channel preferences apply to service notices and marketing; use consent for other purposes",
        )
    if rule.type == "notice" and not opted_in:
        raise _bad(
            f"{purpose} is a service notice and cannot be switched off",
            "opted_in",
            "service notices (updates, security and policy changes) are necessary for the service; "
            "marketing messages can be switched off",
        )
    if session.get(Subject, subject_id) is None:
        raise NotFound("No subject has this id", "look the subject up by an identity first")
    pref = session.get(ChannelPreference, (subject_id, purpose, channel))
    previous = pref.opted_in if pref is not None else None
    if pref is None:
        pref = ChannelPreference(
            subject_id=subject_id, purpose=purpose, channel=channel, opted_in=bool(opted_in), at=utcnow()
        )
        session.add(pref)
    elif previous == bool(opted_in):
        return pref  # unchanged: nothing to record
    else:
        pref.opted_in, pref.at = bool(opted_in), utcnow()
    session.flush()
    audit(
        session,
        actor=actor,
        action="consent.channel_set",
        object_type="subject",
        object_id=subject_id,
        details={"purpose": purpose, "channel": channel, "opted_in": bool(opted_in), "previous": previous},
    )
    return pref


def preferences(session: Session, subject_id: str) -> dict:
    """{purpose: {"type", "locked", "channels": {channel: bool | None}}} for every declared messaging purpose.

    Notices are locked on; a channel with no stored choice is None (no preference expressed yet).
    """
    policy = current_policy(session)
    stored = {
        (p.purpose, p.channel): p.opted_in
        for p in session.execute(select(ChannelPreference).where(ChannelPreference.subject_id == subject_id)).scalars()
    }
    out: dict[str, dict] = {}
    for key, rule in sorted(policy.purposes.items()):
        if rule.type not in MESSAGING_TYPES:
            continue
        locked = rule.type == "notice"
        out[key] = {
            "type": rule.type,
            "locked": locked,
            "channels": {c: True if locked else stored.get((key, c)) for c in CHANNELS},
        }
    for (purpose, channel), opted_in in stored.items():  # choices for purposes the map no longer declares
        out.setdefault(purpose, {"type": None, "locked": False, "channels": dict.fromkeys(CHANNELS)})
        out[purpose]["channels"][channel] = opted_in
    return out
