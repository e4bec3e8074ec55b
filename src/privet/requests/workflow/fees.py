"""Fees (P18): a request past the free number, with a fee configured (PRIVET_REQUESTS_FEE), waits in `fee_due`
until an officer records the fee paid or waives it; then it runs (or waits for approval where its type needs
one). The person is told that the fee is due, and again when it is settled. Each settlement is audited.

The deadline is not moved by the wait: the laws do not say the period stops for a fee, so the earlier reading is
kept (as everywhere in `privet.requests.law.deadlines`). An officer who will not charge waives the fee; one who will
not answer refuses with a reason code (groundlessly repetitive, manifestly excessive).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from privet.kit.clock import utcnow
from privet.kit.crypto import Keyring
from privet.kit.errors import InvalidInput, Problem
from privet.requests import service
from privet.requests.execution import executor
from privet.requests.intake.verify import check_note
from privet.requests.messages import notify
from privet.requests.models import DsrRequest
from privet.settings import Settings

OUTCOMES = ("paid", "waived")


def settle(
    session: Session,
    keyring: Keyring,
    settings: Settings,
    request: DsrRequest,
    *,
    outcome: str,
    note: str | None,
    actor: str,
) -> DsrRequest:
    """Record the fee of a `fee_due` request paid (note: e.g. the payment's reference) or waived (note: why, which
    is required); the person is told and the request goes ahead."""
    if outcome not in OUTCOMES:
        raise InvalidInput("Unknown fee outcome", "use paid or waived", [Problem("unknown outcome", "outcome")])
    service.lock(session, request)
    service.require_status(request, ("fee_due",), f"marked fee {outcome}")
    note = check_note(note, "reason")
    if outcome == "waived" and not note:
        raise InvalidInput(
            "A waiver needs a reason",
            "say why no fee is charged (kept in the request's record)",
            [Problem("missing", "reason")],
        )
    now = utcnow()
    request.fee = {
        **(request.fee or {}),
        "status": outcome,
        "settled_by": actor[:120],
        "settled_at": now.isoformat(),
        "note": note,
    }
    session.flush()
    service.audit(
        session,
        request,
        f"fee_{outcome}",
        actor=actor,
        amount=request.fee.get("amount"),
        currency=request.fee.get("currency"),
        note=bool(note),
    )
    notify.queue(
        session,
        request,
        "fee_settled",
        outcome=outcome,
        amount=request.fee.get("amount"),
        currency=request.fee.get("currency"),
    )
    if request.type in settings.requests_manual_approval:
        request.status = "pending_approval"
        session.flush()
        return request
    executor.start(session, keyring, settings, request, actor=actor)
    return request
