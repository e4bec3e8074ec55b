"""The audit log a page at a time, newest first, with the chain's verification status.

The chain is walked whole at least every WHOLE_EVERY (per process and store); in between, a page walks only the
events after the newest one the last walk found good (when that event is still there, unchanged), and says when
the whole chain was walked. A walk costs time in proportion to the chain, which only grows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from fastapi import APIRouter, Request
from sqlalchemy import func, select
from starlette.responses import HTMLResponse

from privet.audit.models import AuditEvent
from privet.audit.service import Verification, verify
from privet.http.routes import DB
from privet.kit.clock import utcnow
from privet.web.admin.common import guard, page

router = APIRouter(prefix="/audit")
PAGE_SIZE = 50
WHOLE_EVERY = timedelta(minutes=10)


@dataclass(frozen=True)
class _Walked:
    seq: int  # the newest event found good
    hash: str
    whole_at: datetime  # when the chain up to it was last walked from its first event


_walked: dict[str, _Walked] = {}  # store URL → the last good walk


def _store(db: DB) -> str:
    bind = db.get_bind()
    return str(getattr(bind, "url", None) or bind.engine.url)


def check_chain(db: DB) -> tuple[Verification, datetime | None]:
    """The chain's verification, and when the events before the ones walked now were walked whole (None: the
    whole chain was walked now)."""
    now, known = utcnow(), _walked.get(_store(db))
    if known is not None and (
        now - known.whole_at > WHOLE_EVERY
        or db.scalar(select(AuditEvent.hash).where(AuditEvent.seq == known.seq)) != known.hash
    ):
        known = None  # due for a whole walk, or the chain is not the one walked (restored, replaced)
    check = verify(db, since=(known.seq, known.hash) if known else None)
    if check.ok and check.checked:
        head = db.scalar(select(AuditEvent.hash).where(AuditEvent.seq == check.checked))
        assert head is not None, "the event just verified is in the store (the same transaction)"
        _walked[_store(db)] = _Walked(check.checked, head, known.whole_at if known else now)
    return check, known.whole_at if known else None


def _int(value: str | None) -> int | None:
    try:
        return min(max(0, int(value)), 2**62) if value else None  # a seq; past 2^63 the store overflows
    except ValueError:
        return None


@router.get("", dependencies=guard("audit:read"), response_class=HTMLResponse)
def audit_log(request: Request, db: DB) -> HTMLResponse:
    """Events newest first (`before=<seq>` pages back), filtered by action prefix; the chain verified (walked whole
    at least every WHOLE_EVERY, the newer events at each load)."""
    action = (request.query_params.get("action") or "").strip()[:80]
    before = _int(request.query_params.get("before"))
    stmt = select(AuditEvent)
    if action:
        stmt = stmt.where(AuditEvent.action.startswith(action, autoescape=True))
    if before:
        stmt = stmt.where(AuditEvent.seq < before)
    events = list(db.scalars(stmt.order_by(AuditEvent.seq.desc()).limit(PAGE_SIZE)))
    total = db.scalar(select(func.count()).select_from(AuditEvent)) or 0
    head = db.scalar(select(func.max(AuditEvent.seq))) or 0
    older = events[-1].seq if len(events) == PAGE_SIZE else None
    check, whole_at = check_chain(db)
    return page(
        request,
        "admin/audit.html",
        {
            "events": events,
            "check": check,
            "whole_at": whole_at,
            "total": total,
            "action": action,
            "before": before,
            "older": older,
            "head": head,
        },
        section="audit",
    )
