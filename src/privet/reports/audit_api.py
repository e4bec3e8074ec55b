"""Audit chain routes: list, verify."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy import select

from privet.audit import service
from privet.audit.models import AuditEvent
from privet.auth.deps import require
from privet.http.routes import DB

router = APIRouter(prefix="/audit", tags=["audit"])
Reader = Depends(require("audit:read"))


class EventOut(BaseModel):
    seq: int
    at: str
    actor: str
    action: str
    object_type: str
    object_id: str
    details: dict
    prev_hash: str
    hash: str


class VerificationOut(BaseModel):
    ok: bool
    checked: int
    first_bad_seq: int | None
    reason: str | None
    keyed_from: int | None = Field(
        description="The first event hashed with the installation's key; null while the chain is empty or not sealed."
    )
    legacy_events: int = Field(
        description="Events written before the chain was keyed: proven unchanged only since "
        "the chain was sealed, not before."
    )


@router.get("/events", dependencies=[Reader], summary="Audit events in chain order, newest last.")
def list_events(
    db: DB,
    after: Annotated[int, Query(ge=0, le=2**62)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    object_type: str | None = None,
    object_id: str | None = None,
) -> list[EventOut]:
    stmt = select(AuditEvent).where(AuditEvent.seq > after).order_by(AuditEvent.seq).limit(limit)
    if object_type:
        stmt = stmt.where(AuditEvent.object_type == object_type)
    if object_id:
        stmt = stmt.where(AuditEvent.object_id == object_id)
    return [EventOut(**service.as_json(e)) for e in db.execute(stmt).scalars()]


@router.get("/verify", dependencies=[Reader], summary="Verify the keyed hash chain; names the first bad event.")
def verify(db: DB) -> VerificationOut:
    result = service.verify(db)
    return VerificationOut(
        ok=result.ok,
        checked=result.checked,
        first_bad_seq=result.first_bad_seq,
        reason=result.reason,
        keyed_from=result.keyed_from,
        legacy_events=result.legacy,
    )
