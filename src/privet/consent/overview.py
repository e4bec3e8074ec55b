"""A subject's consent at a glance: current states and full history (its merged ids and linked visitors
included), and channel preferences."""

from __future__ import annotations

from sqlalchemy.orm import Session

from privet.consent import channels
from privet.consent.ledger import projection
from privet.consent.ledger.service import history
from privet.consent.visitors import holders


def overview(session: Session, subject_id: str) -> dict:
    """A subject's current states and full history (its merged ids and linked visitors included), and channels."""
    from privet.subjects.service import get_subject, holder_ids

    subject = get_subject(session, subject_id)
    keys = holders(session, holder_ids(session, subject))
    return {
        "subject_id": subject.id,
        "states": projection.states(session, keys),
        "history": history(session, keys),
        "channels": channels.preferences(session, subject.id),
    }
