"""Webhook routes: register endpoints (secret shown once), list and deactivate them, see and redeliver deliveries."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Query, Request
from fastapi import status as http
from pydantic import BaseModel, ConfigDict, Field

from privet.auth.deps import Caller, require
from privet.consent.webhooks import service as webhooks
from privet.http.routes import DB

router = APIRouter(prefix="/webhooks", tags=["webhooks"])
Admin = Depends(require("webhooks:admin"))


class EndpointIn(BaseModel):
    """A receiver to register."""

    url: str = Field(min_length=1, max_length=500, description="https URL (plain http only for loopback hosts).")
    events: list[str] = Field(
        default_factory=lambda: [webhooks.CONSENT_CHANGED],
        min_length=1,
        max_length=10,
        description="Events to send; today: consent.changed.",
    )


class EndpointOut(BaseModel):
    """A registered receiver (its secret is never shown again)."""

    model_config = ConfigDict(from_attributes=True)
    id: str
    url: str
    events: list[str]
    active: bool
    created_at: datetime


class EndpointCreatedOut(BaseModel):
    """The new endpoint and its signing secret, shown in this answer only."""

    endpoint: EndpointOut
    secret: str = Field(description="Verify the Privet-Signature header with it; store it now, it is not shown again.")


class DeliveryOut(BaseModel):
    """One delivery of one change to one endpoint."""

    model_config = ConfigDict(from_attributes=True)
    id: str
    endpoint_id: str
    event: str
    payload: dict
    status: str
    attempts: int
    next_attempt_at: datetime
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime


@router.post(
    "",
    dependencies=[Admin],
    status_code=http.HTTP_201_CREATED,
    summary="Register an endpoint for consent changes; its signing secret is in this answer only.",
)
def add_endpoint(body: EndpointIn, request: Request, db: DB, principal: Caller) -> EndpointCreatedOut:
    endpoint, secret = webhooks.add_endpoint(
        db, request.app.state.keyring, url=body.url, events=body.events, actor=principal.actor
    )
    return EndpointCreatedOut(endpoint=EndpointOut.model_validate(endpoint), secret=secret)


@router.get("", dependencies=[Admin], summary="Registered endpoints, active and deactivated.")
def list_endpoints(db: DB) -> list[EndpointOut]:
    return [EndpointOut.model_validate(e) for e in webhooks.list_endpoints(db)]


@router.get("/deliveries", dependencies=[Admin], summary="Deliveries, newest first; `status=failed` shows failures.")
def list_deliveries(
    db: DB,
    status: str | None = Query(None, description="pending, delivered, failed or cancelled."),
    endpoint_id: str | None = Query(None, description="Only this endpoint's deliveries."),
    limit: int = Query(100, ge=1, le=1000, description="At most this many."),
) -> list[DeliveryOut]:
    return [
        DeliveryOut.model_validate(d)
        for d in webhooks.list_deliveries(db, status=status, endpoint_id=endpoint_id, limit=limit)
    ]


@router.post(
    "/deliveries/{delivery_id}/redeliver",
    dependencies=[Admin],
    summary="Queue a failed delivery again with fresh attempts.",
)
def redeliver(delivery_id: str, db: DB, principal: Caller) -> DeliveryOut:
    return DeliveryOut.model_validate(webhooks.redeliver(db, delivery_id, actor=principal.actor))


@router.delete(
    "/{endpoint_id}",
    dependencies=[Admin],
    summary="Deactivate an endpoint: nothing more is sent to it; its pending deliveries are cancelled.",
)
def deactivate_endpoint(endpoint_id: str, db: DB, principal: Caller) -> EndpointOut:
    return EndpointOut.model_validate(webhooks.deactivate_endpoint(db, endpoint_id, actor=principal.actor))
