"""The audit log a page at a time, newest first, with the chain's verification status."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy import func, select
from starlette.responses import HTMLResponse

from privet.audit.models import AuditEvent
from privet.audit.service import verify
from privet.kit.web import DB
from privet.web.admin.common import guard, page

router = APIRouter(prefix="/audit")
PAGE_SIZE = 50


def _int(value: str | None) -> int | None:
    try:
        return min(max(0, int(value)), 2**62) if value else None  # a seq; past 2^63 the store overflows
    except ValueError:
        return None


@router.get("", dependencies=guard("audit:read"), response_class=HTMLResponse)
def audit_log(request: Request, db: DB) -> HTMLResponse:
    """Events newest first (`before=<seq>` pages back), filtered by action prefix; the chain verified whole."""
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
    return page(request, "admin/audit.html", {"events": events, "check": verify(db), "total": total,
                                              "action": action, "before": before, "older": older, "head": head},
                section="audit")
