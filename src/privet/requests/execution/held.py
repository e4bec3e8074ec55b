"""What a legal hold does to a request's execution: the active hold on a subject (following merges), the erasure
step it blocks, and the blocked steps queued again once no hold remains. Placing and releasing holds is
`privet.requests.holds`."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from privet.kit.clock import utcnow
from privet.requests import service
from privet.requests.execution.steps import enqueue_step, fresh_steps
from privet.requests.models import DsrRequest, LegalHold, RequestStep

HELD = "blocked by a legal hold"  # step.last_error of a step the hold kept from running


def active_hold(session: Session, subject_ids: list[str]) -> LegalHold | None:
    """The oldest active hold on any of these subject ids (a subject and those merged into it)."""
    if not subject_ids:
        return None
    return session.execute(
        select(LegalHold)
        .where(LegalHold.subject_id.in_(subject_ids), LegalHold.released_at.is_(None))
        .order_by(LegalHold.created_at)
        .limit(1)
    ).scalar_one_or_none()


def hold_of_subject(session: Session, subject_id: str | None) -> LegalHold | None:
    """The active hold on this subject (following merges), if any."""
    from privet.subjects.service import get_subject, holder_ids

    if subject_id is None:
        return None
    return active_hold(session, holder_ids(session, get_subject(session, subject_id)))


def hold_summary(hold: LegalHold) -> dict:
    """What a request records about the hold blocking it (no personal data: the officer's reason and case ref)."""
    return {
        "hold_id": hold.id,
        "reason": hold.reason,
        "reference": hold.reference,
        "since": hold.created_at.isoformat(),
    }


def resume_held(session: Session, request: DsrRequest, *, actor: str) -> None:
    """A hold was released: queue the steps it blocked."""
    service.lock(session, request)
    held = [s for s in fresh_steps(session, request) if s.status == "skipped" and s.last_error == HELD]
    for step in held:
        step.status, step.last_error = "pending", None
    request.status = "running"
    request.result = {k: v for k, v in (request.result or {}).items() if k != "legal_hold"}
    session.flush()
    for step in held:
        enqueue_step(session, step)
    service.audit(session, request, "resumed_after_hold", actor=actor, steps=len(held))


def block_step(session: Session, step: RequestStep, hold: LegalHold, *, actor: str) -> None:
    """A hold appeared after the step was queued: do not erase; the request says why."""
    request = service.lock(session, step.request_id)
    step.status, step.last_error, step.finished_at = "skipped", HELD, utcnow()
    request.result = {**(request.result or {}), "legal_hold": hold_summary(hold)}
    request.status = "waiting"
    session.flush()
    service.audit(session, request, "erasure_blocked", actor=actor, hold_id=hold.id, datastore=step.datastore_key)
