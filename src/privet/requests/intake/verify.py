"""Identity verification of a request (P15): nothing runs and nothing leaves Privet before it.

Three ways to prove the identity a request names: a one-time code sent to it (`send_code` then
`verify_with_code`), a subject session or trusted token whose subject holds it (`verify_with_subject`), or a
staff member's recorded identity check (`record_identity_check`, needs requests:write). Then `verified` links the
subject, starts the deadline clock, triages repeats and fees and either waits for an officer or starts the work.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from privet.kit.clock import utcnow
from privet.kit.crypto import Keyring
from privet.kit.errors import Forbidden, InvalidInput, NotFound, Problem
from privet.requests import service
from privet.requests.models import DsrRequest
from privet.settings import Settings

if TYPE_CHECKING:
    from privet.subjects.verification import StartResult

CHECK_METHODS = ("id_document", "call_back", "known_contact", "signed_letter", "agent_mandate", "in_person")
MAX_NOTE = 500
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[a-z]{2,}", re.I)
_NUMBER = re.compile(r"\+?\d[\d\s().-]{6,}\d")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def looks_personal(text: str) -> bool:
    """True when the text holds something like an e-mail address or a phone number (9+ digits in a run)."""
    if _EMAIL.search(text):
        return True
    return any(len(re.sub(r"\D", "", run)) >= 9 and not _DATE.fullmatch(run.strip()) for run in _NUMBER.findall(text))


def check_note(note: str | None, where: str = "note") -> str | None:
    """An officer's note: short, and without e-mail addresses or phone numbers (notes are not encrypted)."""
    if note is None:
        return None
    text = note.strip()
    hint = "describe what was done without personal data (no names, e-mail addresses or numbers)"
    if len(text) > MAX_NOTE:
        raise InvalidInput(
            f"The {where} is too long", f"keep it under {MAX_NOTE} characters", [Problem("too long", where)]
        )
    if looks_personal(text):
        raise InvalidInput(
            f"The {where} looks like it holds personal data", hint, [Problem("looks like personal data", where, hint)]
        )
    return text or None


def send_code(
    session: Session, keyring: Keyring, settings: Settings, request: DsrRequest, *, client_ip: str | None = None
) -> StartResult:
    """Send a one-time code to the identity the request names (purpose "request")."""
    from privet.subjects import verification

    service.require_status(request, ("unverified",), "verified again")
    value = service.identity_value(keyring, request)
    assert value is not None  # purged only when an unverified request expires (it is unverified still)
    return verification.start(
        session,
        keyring,
        settings,
        identity_type=request.identity_type,
        value=value,
        language=request.language,
        purpose="request",
        client_ip=client_ip,
    )


def offer_code(
    session: Session, keyring: Keyring, settings: Settings, request: DsrRequest, *, client_ip: str | None = None
) -> StartResult | None:
    """`send_code`, but a mail server or gateway that is down (or a throttle) leaves the request filed: None
    means no code went out, and the requester (or staff) can ask again for this reference."""
    from privet.kit.errors import Unavailable
    from privet.subjects.verification import TooManyCodes

    try:
        return send_code(session, keyring, settings, request, client_ip=client_ip)
    except (Unavailable, TooManyCodes) as exc:
        service.audit(session, request, "code_not_sent", actor=service.SYSTEM, error=type(exc).__name__)
        return None


def verify_with_code(
    session: Session, keyring: Keyring, settings: Settings, request: DsrRequest, *, challenge_id: str, code: str
) -> DsrRequest:
    """Check a code sent for this request; a correct one verifies it (the subject is found or created)."""
    from privet.subjects import verification
    from privet.subjects.models import VerificationChallenge

    service.require_status(request, ("unverified",), "verified again")
    challenge = session.get(VerificationChallenge, challenge_id)
    # A code for another identity or purpose must not verify this request (nor be used up trying).
    if (
        challenge is None
        or challenge.purpose != "request"
        or challenge.identity_type != request.identity_type
        or challenge.blind_index != request.identity_blind_index
    ):
        raise NotFound(
            "No code was sent for this request with this challenge id",
            "ask for a code: POST /api/v1/public/requests/{reference}/code",
        )
    proven = verification.check(session, keyring, settings, challenge_id=challenge_id, code=code)
    assert proven.subject_id is not None  # `check` finds or creates the subject (create_subject defaults to True)
    return verified(
        session,
        keyring,
        settings,
        request,
        subject_id=proven.subject_id,
        method="code",
        actor=f"subject:{proven.subject_id}",
    )


def subject_holds(session: Session, request: DsrRequest, subject_id: str) -> bool:
    """True when the (surviving) subject `subject_id` holds the identity the request names."""
    from privet.subjects.service import get_subject, subject_of_blind_index

    holder = subject_of_blind_index(session, request.identity_blind_index)
    if holder is None:
        return False
    try:
        return get_subject(session, subject_id).id == holder.id
    except NotFound:
        return False


def verify_with_subject(
    session: Session, keyring: Keyring, settings: Settings, request: DsrRequest, *, subject_id: str, method: str
) -> DsrRequest:
    """Verify with a subject session or trusted token already proven for `subject_id` (method: session | token)."""
    service.require_status(request, ("unverified",), "verified again")
    if not subject_holds(session, request, subject_id):
        raise Forbidden(
            "This session does not prove the identity the request names",
            "verify with a code sent to that identity: POST /api/v1/public/requests/{reference}/code",
        )
    return verified(
        session, keyring, settings, request, subject_id=subject_id, method=method, actor=f"subject:{subject_id}"
    )


def record_identity_check(
    session: Session,
    keyring: Keyring,
    settings: Settings,
    request: DsrRequest,
    *,
    method: str,
    note: str | None,
    actor: str,
) -> DsrRequest:
    """A staff member checked the requester's identity themselves (P32: phone, letter, agent's mandate)."""
    from privet.subjects.verification import resolve_subject

    service.require_status(request, ("unverified",), "verified again")
    if method not in CHECK_METHODS:
        hint = "use one of: " + ", ".join(CHECK_METHODS)
        raise InvalidInput("Unknown identity check method", hint, [Problem("unknown method", "method", hint)])
    note = check_note(note)
    value = service.identity_value(keyring, request)
    assert value is not None  # purged only when an unverified request expires (it is unverified still)
    subject_id, _ = resolve_subject(session, keyring, request.identity_type, value, create=True, actor=actor)
    assert subject_id is not None  # create=True: found or created
    request.details = {**request.details, "identity_check": {"method": method, "by": actor, "note": note}}
    return verified(session, keyring, settings, request, subject_id=subject_id, method=f"staff:{method}", actor=actor)


def _earlier(session: Session, request: DsrRequest, holders: list[str], since: datetime) -> list[tuple[str, datetime]]:
    """Earlier verified requests of the same type by the same person inside the window."""
    rows = session.execute(
        select(DsrRequest.id, DsrRequest.received_at)
        .where(
            DsrRequest.subject_id.in_(holders),
            DsrRequest.type == request.type,
            DsrRequest.id != request.id,
            DsrRequest.verified_at.is_not(None),
            DsrRequest.received_at >= since,
        )
        .order_by(DsrRequest.received_at)
    )
    return [(r.id, r.received_at) for r in rows]


def verified(
    session: Session,
    keyring: Keyring,
    settings: Settings,
    request: DsrRequest,
    *,
    subject_id: str,
    method: str,
    actor: str,
) -> DsrRequest:
    """The common tail: link the subject, settle the law it is handled under (P41), start the clock, triage, then
    wait for a fee (P18) or an officer's approval, or start the work."""
    from privet.requests.execution import executor
    from privet.requests.intake import jurisdiction
    from privet.requests.law import deadlines, triage
    from privet.requests.messages import notify
    from privet.subjects.jurisdiction import record_organisation
    from privet.subjects.service import get_subject, holder_ids

    subject = get_subject(session, subject_id)
    now = utcnow()
    request.subject_id, request.verified_at = subject.id, now
    request.verify_by = None
    resolution = jurisdiction.resolve(session, keyring, settings, request, subject, actor=actor)
    request.profile, request.profile_source = resolution.profile, resolution.source
    if request.organisation_ref:  # filed as an organisation's representative (P6)
        record_organisation(session, subject, request.organisation_ref, source="request", actor=actor)
    # Days are counted in the profile's home time zone (a request verified at 01:00 in Beijing is that day's).
    received_on = deadlines.day_of(request.profile, request.received_at)
    request.due_on = deadlines.due_on(
        request.profile, request.type, deadlines.day_of(request.profile, now), received_on=received_on
    )
    request.acknowledge_by = deadlines.acknowledge_by(request.profile, received_on)
    window = settings.requests_repeat_window_days
    earlier = _earlier(session, request, holder_ids(session, subject), now - timedelta(days=window))
    request.repeat_of = triage.repeat_of(earlier, now, window)
    request.fee = triage.fee_due(len(earlier) + 1, settings.requests_free_per_window, settings.requests_fee)
    charge = request.fee is not None and request.fee.get("action") == "charge"
    unpaid_repeat = request.fee is not None and not charge  # no fee configured: an officer decides
    needs_approval = request.type in settings.requests_manual_approval or unpaid_repeat
    details = {
        "method": method,
        "subject_id": subject.id,
        "due_on": service.day(request.due_on),
        "repeat_of": request.repeat_of,
        "fee": bool(request.fee),
        "fee_due": charge,
        "needs_approval": needs_approval,
        **resolution.details(),
    }
    if charge:  # nothing runs until the fee is paid or waived (privet.requests.workflow.fees)
        assert request.fee is not None  # `charge` says there is one
        request.status = "fee_due"
        service.audit(session, request, "verified", actor=actor, **details)
        session.flush()
        notify.queue(
            session,
            request,
            "fee_due",
            amount=request.fee["amount"],
            currency=request.fee["currency"],
            free=settings.requests_free_per_window,
            window_days=window,
        )
        return request
    if needs_approval:
        request.status = "pending_approval"
        service.audit(session, request, "verified", actor=actor, **details)
        session.flush()
        return request
    executor.start(session, keyring, settings, request, actor=actor, event=("verified", details))
    return request
