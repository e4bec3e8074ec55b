"""Officer actions on a request (each audited) and the periodic sweeps: expiry of unverified requests, reminders.

Officer notes and reasons are stored as written and must hold no personal data (`verify.check_note` refuses
e-mail addresses and phone numbers).
"""

from __future__ import annotations

import logging
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from privet.kit.clock import utcnow
from privet.kit.crypto import Keyring
from privet.kit.errors import InvalidInput, Problem
from privet.requests import service
from privet.requests.execution import executor
from privet.requests.execution.steps import enqueue_step, fresh_steps
from privet.requests.intake.verify import check_note
from privet.requests.messages import notify
from privet.requests.models import DsrRequest
from privet.settings import Settings

log = logging.getLogger("privet.requests")


def approve(session: Session, keyring: Keyring, settings: Settings, request: DsrRequest, *, actor: str) -> DsrRequest:
    """Approve a request waiting for an officer; its work starts at once."""
    service.lock(session, request)
    if request.status == "fee_due":
        from privet.kit.errors import Conflict

        raise Conflict(
            f"Request {request.reference} waits for its fee; it cannot be approved yet",
            f"record the fee paid or waived first: privet requests fee {request.reference} --paid|--waive",
        )
    service.require_status(request, ("pending_approval",), "approved")
    request.approved_by, request.approved_at = actor[:120], utcnow()
    service.audit(session, request, "approved", actor=actor, fee=bool(request.fee))
    executor.start(session, keyring, settings, request, actor=actor)
    return request


def refuse(session: Session, request: DsrRequest, *, code: str, note: str | None, actor: str) -> DsrRequest:
    """Refuse with a reason code; the requester is told the reason, the law and where to complain (PIPL Art 50)."""
    from privet.requests.law.triage import check_code

    service.lock(session, request)
    service.require_status(request, service.OPEN, "refused")
    check_code(code, request.type, profile=request.profile)
    note = check_note(note)
    stopped = 0
    for step in fresh_steps(session, request):
        if step.status in ("pending", "waiting", "skipped", "failed"):
            step.status, step.finished_at, stopped = "skipped", utcnow(), stopped + 1
    request.status, request.refusal_code, request.refusal_note = "refused", code, note
    request.completed_at = utcnow()
    session.flush()
    service.audit(session, request, "refused", actor=actor, code=code, steps_stopped=stopped)
    notify.queue(session, request, "refused", code=code, note=note)
    return request


def extend(session: Session, request: DsrRequest, *, reason: str, actor: str) -> DsrRequest:
    """Extend the deadline once where the profile allows it (GDPR two months, CCPA 45 days), telling the person."""
    from privet.requests.law.deadlines import extended_due

    service.lock(session, request)
    service.require_status(request, service.ACTIVE, "extended")
    note = check_note(reason, "reason")
    if not note:
        raise InvalidInput(
            "An extension needs a reason",
            "say why more time is needed (it is sent to the person)",
            [Problem("missing", "reason")],
        )
    previous = request.due_on
    assert previous is not None  # set when the request was verified (every active request was)
    request.extended_to = extended_due(
        request.profile, request.type, previous, already_extended=request.extended_to is not None
    )
    request.extension_reason = note
    session.flush()
    service.audit(
        session,
        request,
        "extended",
        actor=actor,
        previous=service.day(previous),
        extended_to=service.day(request.extended_to),
    )
    notify.queue(session, request, "extended", due=request.extended_to, previous=previous, reason=note)
    return request


def assign(session: Session, request: DsrRequest, *, assignee: str | None, actor: str) -> DsrRequest:
    """Give the request to an officer (a user name), or take it back with None."""
    service.require_status(request, service.OPEN, "assigned")
    if assignee is not None and (not assignee.strip() or len(assignee) > 120):
        raise InvalidInput(
            "An assignee is a user name of 1 to 120 characters",
            "send the officer's user name",
            [Problem("invalid", "assignee")],
        )
    request.assignee = assignee.strip() if assignee else None
    service.audit(session, request, "assigned", actor=actor, assignee=request.assignee)
    return request


def complete(
    session: Session, keyring: Keyring, settings: Settings, request: DsrRequest, *, note: str | None, actor: str
) -> DsrRequest:
    """Close a complaint (answered by a person) with the officer's outcome note, or an erasure held for review
    because of its exceptions (PRIVET_ERASURE_EXCEPTIONS=review: it ends completed_with_exceptions and the person
    is told what was not erased and why); the person is told."""
    service.lock(session, request)
    reviewed = (
        request.type in service.ERASURE_TYPES
        and bool((request.result or {}).get("exceptions"))
        and all(s.status in ("done", "skipped") for s in fresh_steps(session, request))
    )
    if request.type != "complaint" and not reviewed:
        raise InvalidInput(
            "Only complaints, and erasures waiting for review of their exceptions, are completed by hand",
            "other requests complete when their steps do; use run to retry failed steps",
        )
    service.require_status(
        request, ("waiting", "running") if request.type == "complaint" else ("waiting",), "completed"
    )
    outcome = check_note(note)
    result = {"outcome": outcome} if request.type == "complaint" else {"review_note": outcome}
    executor.finish(session, keyring, settings, request, actor=actor, result=result)
    return request


def run(session: Session, keyring: Keyring, settings: Settings, request: DsrRequest, *, actor: str) -> int:
    """Queue again the steps that failed or were left without a job; returns how many were queued."""
    service.lock(session, request)
    service.require_status(request, ("running", "waiting", "failed"), "run again")
    queued = []
    for step in fresh_steps(session, request):
        if step.status in ("failed", "pending", "running"):
            if step.status == "failed":
                step.status, step.finished_at = "pending", None
            queued.append(step)
    request.result = {k: v for k, v in (request.result or {}).items() if k not in ("failed", "error")}
    session.flush()
    for step in queued:
        enqueue_step(session, step)
    service.audit(session, request, "rerun", actor=actor, steps=len(queued))
    executor.advance(session, keyring, settings, request, actor=actor)
    return len(queued)


def expire_unverified(session: Session, *, now: datetime | None = None) -> int:
    """Requests never verified by their verify_by: expired, identity and secret details purged."""
    now = now or utcnow()
    stale = (
        session.execute(select(DsrRequest).where(DsrRequest.status == "unverified", DsrRequest.verify_by <= now))
        .scalars()
        .all()
    )
    for request in stale:
        request.status, request.completed_at = "expired", now
        request.identity_enc, request.identity_blind_index = b"", ""
        request.details_enc, request.agent = None, None
        request.declared_region, request.organisation_ref = None, None  # what the person sent: deleted too
        service.audit(session, request, "expired", actor=service.SYSTEM, purged=True)
    session.flush()
    return len(stale)


def _today(session: Session) -> date:
    """Today in the organisation profile's home time zone (deadlines are days there)."""
    from privet.requests.law.deadlines import day_of

    return day_of(service.organisation_profile(session), utcnow())


def deadline_lists(
    session: Session, *, days: int = 3, today: date | None = None
) -> tuple[list[DsrRequest], list[DsrRequest]]:
    """(due within `days` days, overdue) among active requests, soonest first."""
    from privet.requests.queries import due_soon, overdue

    today = today or _today(session)
    return due_soon(session, days=days, today=today), overdue(session, today=today)


def remind(session: Session, settings: Settings, *, today: date | None = None) -> dict[str, int]:
    """Remind the organisation's privacy contact of overdue and soon-due requests (counts go to the log)."""
    from privet.datamap.models import DatamapOrganisation
    from privet.requests.messages.render import send_message

    today = today or _today(session)
    soon, late = deadline_lists(session, today=today)
    contact = session.execute(select(DatamapOrganisation.responsible).limit(1)).scalar_one_or_none() or {}
    sent = 0
    for request in [*late, *soon]:
        if not contact.get("email"):
            break
        due = service.effective_due(request)
        assert due is not None  # both lists are chosen by their due date
        try:
            send_message(
                settings,
                "email",
                contact["email"],
                "overdue_reminder",
                "en",
                reference=request.reference,
                request_type=request.type,
                status=request.status,
                due=due,
                days_left=(due - today).days,
                today=today,
            )
            sent += 1
        except Exception as exc:  # noqa: BLE001 - a reminder that cannot go out must not stop the others
            log.warning("reminder for request %s not sent: %s", request.reference, type(exc).__name__)
    log.info("requests: %d overdue, %d due within 3 days, %d reminders sent", len(late), len(soon), sent)
    counts = {"overdue": len(late), "due_soon": len(soon), "sent": sent}
    if late or soon:
        from privet.audit.service import record

        record(
            session,
            actor=service.SYSTEM,
            action="request.reminders",
            object_type=service.OBJECT,
            object_id="-",
            details=counts,
        )
    return counts
