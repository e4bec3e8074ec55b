"""Guardians: a verified adult linked to a child, with the relationship attested. Only their consent counts for it."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from privet.audit.service import record
from privet.kit.clock import utcnow
from privet.kit.errors import Conflict, InvalidInput, NotFound, Problem
from privet.subjects.ages import is_child
from privet.subjects.models import GuardianLink, Identity, Subject

RELATIONSHIPS = ("parent", "legal_guardian")
_METHOD = re.compile(r"^[a-z][a-z0-9_]{1,29}$")
# Evidence is proof kept for a regulator (hashed client address, notice version): never plaintext contact data.
_LOOKS_PERSONAL = re.compile(r"[^@\s]+@[^@\s]+\.[a-z]{2,}|^\+?\d[\d\s-]{7,}\d$", re.I)


def _invalid(message: str, where: str, hint: str) -> InvalidInput:
    return InvalidInput(message, hint, [Problem(message, where, hint)])


def _check_evidence(evidence: dict) -> dict:
    if not isinstance(evidence, dict) or len(evidence) > 20:
        raise _invalid("Evidence must be a small object", "evidence", "send at most 20 key/value pairs")
    for key, value in evidence.items():
        if not isinstance(value, (str, int, float, bool)) and value is not None:
            raise _invalid("Evidence values must be plain values", f"evidence.{key}", "send text, numbers or flags")
        if isinstance(value, str) and (len(value) > 500 or _LOOKS_PERSONAL.search(value)):
            raise _invalid(
                "Evidence must not hold contact details",
                f"evidence.{key}",
                "record a hash or an id instead of an e-mail address or phone number",
            )
    return dict(evidence)


def _first_verification(session: Session, guardian: Subject) -> datetime | None:
    return session.execute(
        select(Identity.verified_at)
        .where(Identity.subject_id == guardian.id, Identity.verified_at.is_not(None))
        .order_by(Identity.verified_at)
        .limit(1)
    ).scalar_one_or_none()


def link_guardian(
    session: Session,
    guardian: Subject,
    child: Subject,
    relationship: str,
    *,
    verified_method: str | None,
    evidence: dict,
    actor: str,
) -> GuardianLink:
    """Link a guardian to a child; `verified_method` says how the guardian was just verified (None: not now)."""
    if relationship not in RELATIONSHIPS:
        raise _invalid("Unknown relationship", "relationship", f"use one of: {', '.join(RELATIONSHIPS)}")
    if verified_method is not None and not _METHOD.match(verified_method):
        raise _invalid(
            "Unknown verification method",
            "verified_method",
            "use a short name such as sms_code, email_code, token or staff_checked",
        )
    evidence = _check_evidence(evidence)
    if guardian.id == child.id:
        raise _invalid("A person cannot be their own guardian", "guardian_id", "link a different subject")
    for subject, where in ((guardian, "guardian_id"), (child, "child_id")):
        if subject.status != "active":
            raise Conflict(f"The {where.removesuffix('_id')} is {subject.status}", "use the surviving subject")
    now = utcnow()
    if is_child(guardian, now):
        raise _invalid("A child cannot be a guardian", "guardian_id", "link an adult parent or legal guardian")
    if not is_child(child, now):
        raise _invalid(
            "Only a child can have a guardian linked",
            "child_id",
            "record the child's birth date or age attestation first (under the organisation's child age)",
        )
    link = session.execute(
        select(GuardianLink).where(
            GuardianLink.guardian_id == guardian.id,
            GuardianLink.child_id == child.id,
            GuardianLink.revoked_at.is_(None),
        )
    ).scalar_one_or_none()
    if link is not None:  # already linked: a new verification is recorded, nothing else changes
        if link.verified_at is None and verified_method is not None:
            link.verified_at, link.verification_method = now, verified_method
            _audit(session, "guardian.verified", link, actor, method=verified_method)
        return link
    verified_at, method = (
        (now, verified_method) if verified_method else (_first_verification(session, guardian), "identity")
    )
    link = GuardianLink(
        guardian_id=guardian.id,
        child_id=child.id,
        relationship=relationship,
        attested_at=now,
        verified_at=verified_at,
        verification_method=method if verified_at else None,
        evidence=evidence,
    )
    session.add(link)
    session.flush()
    _audit(
        session,
        "guardian.linked",
        link,
        actor,
        relationship=relationship,
        verified=verified_at is not None,
        method=link.verification_method,
        evidence_keys=sorted(evidence),
    )
    return link


def _audit(session: Session, action: str, link: GuardianLink, actor: str, **details: object) -> None:
    record(
        session,
        actor=actor,
        action=action,
        object_type="guardian_link",
        object_id=link.id,
        details={"guardian_id": link.guardian_id, "child_id": link.child_id, **details},
    )


def verified_guardian(session: Session, child_id: str, at: datetime) -> GuardianLink | None:
    """The link through which a verified guardian could act for the child at `at` (attested, verified, not revoked)."""
    return session.execute(
        select(GuardianLink)
        .where(
            GuardianLink.child_id == child_id,
            GuardianLink.attested_at <= at,
            GuardianLink.verified_at <= at,
            or_(GuardianLink.revoked_at.is_(None), GuardianLink.revoked_at > at),
        )
        .order_by(GuardianLink.verified_at, GuardianLink.id)
        .limit(1)
    ).scalar_one_or_none()


def is_guardian_of(session: Session, guardian_id: str, child_id: str, at: datetime) -> bool:
    """Whether this guardian was verified and linked to the child at `at` (for consent given by a guardian)."""
    return (
        session.execute(
            select(GuardianLink.id)
            .where(
                GuardianLink.child_id == child_id,
                GuardianLink.guardian_id == guardian_id,
                GuardianLink.attested_at <= at,
                GuardianLink.verified_at <= at,
                or_(GuardianLink.revoked_at.is_(None), GuardianLink.revoked_at > at),
            )
            .limit(1)
        ).first()
        is not None
    )


def links_of(session: Session, subject_id: str, *, include_revoked: bool = False) -> list[GuardianLink]:
    """Links where the subject is the child or the guardian."""
    query = select(GuardianLink).where(or_(GuardianLink.child_id == subject_id, GuardianLink.guardian_id == subject_id))
    if not include_revoked:
        query = query.where(GuardianLink.revoked_at.is_(None))
    return list(session.execute(query.order_by(GuardianLink.attested_at, GuardianLink.id)).scalars())


def get_link(session: Session, link_id: str) -> GuardianLink:
    """A guardian link by id, or NotFound."""
    link = session.get(GuardianLink, link_id)
    if link is None:
        raise NotFound("No guardian link has this id", "list the subject's guardians with a lookup")
    return link


def revoke_link(session: Session, link: GuardianLink, *, actor: str, reason: str | None = None) -> GuardianLink:
    """End a guardian link from now on (consent given through it earlier stays as recorded). Idempotent."""
    if link.revoked_at is None:
        link.revoked_at = utcnow()
        _audit(session, "guardian.revoked", link, actor, reason=reason)
        session.flush()
    return link
