"""The consent side of requests: withdrawal, restriction/objection, and account closure's withdraw-everything.

Each change is a new record in the append-only consent ledger (P17: earlier records stay as they were), with the
request's reference as evidence so the ledger and the request point at each other.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from privet.kit.errors import PrivetError
from privet.requests.models import DsrRequest

STAFF_CHANNELS = ("staff_phone", "staff_email", "staff_letter", "agent")


def _method(request: DsrRequest) -> str:
    if request.channel in STAFF_CHANNELS:
        return "staff"
    return "form" if request.channel == "privacy_centre" else "api"


def _record(
    session: Session,
    request: DsrRequest,
    *,
    purpose: str,
    event: str,
    actor: str,
    subject_id: str | None = None,
    visitor_id: str | None = None,
) -> str:
    from privet.consent.ledger.service import record

    evidence = {"source": "dsr", "source_id": request.reference}
    if request.type in ("erasure", "closure"):
        evidence["reason"] = "account closure" if request.type == "closure" else "erasure"
    entry = record(
        session,
        subject_id=subject_id,
        visitor_id=visitor_id,
        purpose=purpose,
        event=event,
        method=_method(request),
        actor=actor,
        language=request.language,
        evidence=evidence,
    )
    return entry.id


def withdraw(session: Session, request: DsrRequest, *, actor: str) -> list[dict]:
    """Withdraw consent for each purpose the request names."""
    return [
        {
            "purpose": p,
            "event": "withdrawn",
            "record_id": _record(
                session, request, purpose=p, event="withdrawn", actor=actor, subject_id=request.subject_id
            ),
        }
        for p in request.details.get("purposes", [])
    ]


def restrict(session: Session, request: DsrRequest, *, actor: str) -> list[dict]:
    """Object to (or restrict) each purpose; a purpose resting on consent alone gets a withdrawal instead."""
    from privet.consent.ledger.rules import current_policy

    policy = current_policy(session)
    wanted = "restricted" if request.details.get("mode") == "restrict" else "objected"
    out = []
    for purpose in request.details.get("purposes", []):
        rule = policy.purposes.get(purpose)
        event = wanted if rule is not None and rule.other_bases else "withdrawn"
        out.append(
            {
                "purpose": purpose,
                "event": event,
                "record_id": _record(
                    session, request, purpose=purpose, event=event, actor=actor, subject_id=request.subject_id
                ),
            }
        )
    return out


def end_sessions(session: Session, request: DsrRequest, *, actor: str) -> None:
    """A finished erasure or account closure ends every session of the person issued before (P45); audited."""
    from privet.audit.service import record
    from privet.subjects.sessions import end_all

    subject_id = request.subject_id
    assert subject_id is not None  # called for a verified request only (`executor.finish` checks)
    end_all(session, subject_id)
    record(
        session,
        actor=actor,
        action="subject.sessions_ended",
        object_type="subject",
        object_id=subject_id,
        details={"reason": request.type, "request": request.reference},
    )


def withdraw_all(session: Session, request: DsrRequest, *, actor: str) -> list[dict]:
    """Withdraw every consent in force for the subject (its merged ids and linked visitors included)."""
    from privet.consent.ledger.projection import states
    from privet.consent.ledger.rules import POSITIVE_EVENTS
    from privet.consent.visitors import holders
    from privet.subjects.service import get_subject, holder_ids

    assert request.subject_id is not None  # an erasure runs once verified, its subject known
    subject = get_subject(session, request.subject_id)
    out, seen = [], set()
    for state in states(session, holders(session, holder_ids(session, subject))):
        if state.event not in POSITIVE_EVENTS:
            continue
        visitor = state.holder[2:] if state.holder.startswith("v:") else None
        key = (visitor, state.purpose)
        if key in seen:
            continue
        seen.add(key)
        holder = "visitor" if visitor else "subject"
        try:
            record_id = _record(
                session,
                request,
                purpose=state.purpose,
                event="withdrawn",
                actor=actor,
                subject_id=None if visitor else subject.id,
                visitor_id=visitor,
            )
        except PrivetError as exc:  # a purpose the data map no longer declares: no use of it is allowed anyway
            out.append({"purpose": state.purpose, "event": None, "holder": holder, "skipped": exc.detail})
            continue
        out.append({"purpose": state.purpose, "event": "withdrawn", "record_id": record_id, "holder": holder})
    return out
