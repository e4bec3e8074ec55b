"""Children's data sweeps (P27): what the organisation's age rules say must go, erased through a request.

- PIPL profile: a child (under the profile's child age) known to Privet for longer than
  `children_grace_days` without a verified guardian linked cannot have valid consent; their data is erased.
- Adults-only mode (a service that refuses minors): every subject flagged as a minor is erased and closed.

Erasure across the company's datastores is what an account-closure request does (plan, per-field actions,
legal retention, holds, proof), so the sweep files one per subject on the `system` channel, verified by the
sweep itself, and the request workflow does the rest (manual approval still applies when configured). A
subject with an open closure request is not filed again, so the sweep can run daily.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from privet.audit.service import record as audit
from privet.kit.clock import utcnow
from privet.kit.crypto import Keyring
from privet.settings import Settings
from privet.subjects.models import Subject

CHILD_REASON = "child_without_verified_guardian"
MINOR_REASON = "minor_in_adults_only_service"


@dataclass(frozen=True)
class Due:
    """A subject whose data the age rules say must be erased, and why."""

    subject: Subject
    reason: str


def due(session: Session, settings: Settings, now: datetime | None = None) -> list[Due]:
    """Subjects the children sweep would erase now."""
    from privet.subjects import ages, guardians

    now = now or utcnow()
    policy = ages.age_policy(session)
    if policy.adults_only:
        return [Due(s, MINOR_REASON) for s in ages.flagged_for_deletion(session)]
    known_since = now - timedelta(days=settings.children_grace_days)
    candidates = session.execute(
        select(Subject).where(Subject.status == "active", Subject.child_until > now.date(),
                              Subject.created_at <= known_since,
                              or_(Subject.age_attested_at.is_(None), Subject.age_attested_at <= known_since))
        .order_by(Subject.created_at, Subject.id)).scalars()
    return [Due(s, CHILD_REASON) for s in candidates if guardians.verified_guardian(session, s.id, now) is None]


def _open_closure(session: Session, subject_id: str) -> bool:
    from privet.requests.models import DsrRequest
    from privet.requests.service import OPEN

    return session.execute(select(DsrRequest.id).where(DsrRequest.subject_id == subject_id,
                                                       DsrRequest.type == "closure",
                                                       DsrRequest.status.in_(OPEN)).limit(1)).first() is not None


def sweep(session: Session, keyring: Keyring, settings: Settings, *, actor: str, now: datetime | None = None,
          dry_run: bool = False) -> dict:
    """File a verified closure request for each due subject; counts by reason (no identities)."""
    from privet.requests.intake import file_request
    from privet.requests.verify import verified
    from privet.subjects.service import identities_of

    counts = {"due": 0, "filed": 0, "already_open": 0, "no_identity": 0, "by_reason": {}}
    for item in due(session, settings, now):
        counts["due"] += 1
        counts["by_reason"][item.reason] = counts["by_reason"].get(item.reason, 0) + 1
        if _open_closure(session, item.subject.id):
            counts["already_open"] += 1
            continue
        views = identities_of(session, keyring, item.subject)
        if not views:
            counts["no_identity"] += 1
            continue
        if dry_run:
            counts["filed"] += 1
            continue
        request = file_request(session, keyring, settings, request_type="closure", identity_type=views[0].type,
                               identity=views[0].value, filed_by=actor, channel="system")
        verified(session, keyring, settings, request, subject_id=item.subject.id, method="system:children_sweep",
                 actor=actor)
        audit(session, actor=actor, action="retention.child_erasure_filed", object_type="subject",
              object_id=item.subject.id, details={"reason": item.reason, "request": request.reference})
        counts["filed"] += 1
    return counts
