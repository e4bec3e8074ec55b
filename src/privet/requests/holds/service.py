"""Legal holds: while one is active on a subject, erasure of that subject's data is blocked and says why.

A hold placed while an erasure is under way stops the steps that have not run yet; releasing the last hold
queues the blocked steps again.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from privet.audit.service import record
from privet.kit.clock import utcnow
from privet.kit.errors import Conflict, InvalidInput, NotFound, Problem
from privet.requests.execution.held import HELD, hold_of_subject, resume_held
from privet.requests.models import DsrRequest, LegalHold, RequestStep

OBJECT = "legal_hold"


def place(session: Session, *, subject_id: str, reason: str, reference: str | None, actor: str) -> LegalHold:
    """Place a hold on a subject; erasure steps not yet run are blocked from now on."""
    from privet.requests.intake.verify import check_note
    from privet.subjects.service import get_subject

    subject = get_subject(session, subject_id)
    note = check_note(reason, "reason")
    if not note:
        raise InvalidInput(
            "A legal hold needs a reason",
            "say why, e.g. `litigation pending, case 2024-17`",
            [Problem("missing", "reason")],
        )
    reference = check_note(reference, "reference")
    hold = LegalHold(
        subject_id=subject.id, reason=note, reference=reference, created_by=actor[:120], created_at=utcnow()
    )
    session.add(hold)
    session.flush()
    record(
        session,
        actor=actor,
        action="legal_hold.placed",
        object_type=OBJECT,
        object_id=hold.id,
        details={"subject_id": subject.id},
    )
    return hold


def get_hold(session: Session, hold_id: str) -> LegalHold:
    """A hold by id, or NotFound."""
    hold = session.get(LegalHold, hold_id)
    if hold is None:
        raise NotFound("No legal hold has this id", "list holds: GET /api/v1/requests/holds")
    return hold


def release(session: Session, hold_id: str, *, actor: str) -> LegalHold:
    """Release a hold; when no other hold remains, blocked erasure steps of the subject are queued again."""
    hold = get_hold(session, hold_id)
    if hold.released_at is not None:
        raise Conflict("This legal hold was already released", "nothing to do")
    hold.released_at, hold.released_by = utcnow(), actor[:120]
    session.flush()
    record(
        session,
        actor=actor,
        action="legal_hold.released",
        object_type=OBJECT,
        object_id=hold.id,
        details={"subject_id": hold.subject_id},
    )
    if hold_of_subject(session, hold.subject_id) is None:
        from privet.subjects.service import get_subject, holder_ids

        held_steps = select(RequestStep.request_id).where(
            RequestStep.status == "skipped", RequestStep.last_error == HELD
        )
        subjects = holder_ids(session, get_subject(session, hold.subject_id))
        blocked = (
            session.execute(
                select(DsrRequest).where(
                    DsrRequest.id.in_(held_steps),
                    DsrRequest.subject_id.in_(subjects),
                    DsrRequest.status.in_(("running", "waiting")),
                )
            )
            .scalars()
            .all()
        )
        for request in blocked:
            if request.subject_id and hold_of_subject(session, request.subject_id) is None:
                resume_held(session, request, actor=actor)
    return hold


def list_holds(session: Session, *, active_only: bool = True, subject_id: str | None = None) -> list[LegalHold]:
    """Holds, newest first."""
    stmt = select(LegalHold).order_by(LegalHold.created_at.desc())
    if active_only:
        stmt = stmt.where(LegalHold.released_at.is_(None))
    if subject_id:
        stmt = stmt.where(LegalHold.subject_id == subject_id)
    return list(session.execute(stmt).scalars())
