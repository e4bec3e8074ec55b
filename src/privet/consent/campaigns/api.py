"""`/campaigns`: material-change campaigns with their counts (P30); failed messages queued again."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi import Path as PathParam
from pydantic import BaseModel, Field

from privet.auth.deps import Caller, require
from privet.consent.campaigns import service
from privet.consent.models import Campaign, CampaignMessage
from privet.http.routes import DB

router = APIRouter(prefix="/campaigns", tags=["campaigns"])
Reader = Depends(require("notices:read"))
Writer = Depends(require("notices:write"))
CampaignId = Annotated[str, PathParam(min_length=1, max_length=32, description="The campaign id.")]


class CountsOut(BaseModel):
    people: int = Field(description="People whose consent to a changed purpose was given before the change.")
    queued: int = Field(description="Messages not sent yet (waiting, or being retried).")
    sent: int = Field(description="Messages the mail server or SMS gateway accepted.")
    failed: int = Field(description="Messages that failed on every attempt.")
    no_address: int = Field(description="People with no e-mail address or phone number to write to.")
    reconsented: int = Field(
        description="People who gave consent again, since the change, to every changed purpose they had consented to."
    )


class CampaignOut(BaseModel):
    id: str
    notice: str
    version: int
    purposes: list[str]
    moment: datetime = Field(description="When the change takes hold: consent given before it is not enough.")
    created_at: datetime
    counts: CountsOut


class MessageOut(BaseModel):
    id: str
    subject_id: str
    purposes: list[str]
    channel: str | None
    language: str
    status: Literal["queued", "sent", "failed", "no_address"]
    attempts: int
    last_error: str | None = Field(description="The last attempt's error (its class; never an address).")
    sent_at: datetime | None


class CampaignDetailOut(CampaignOut):
    messages: list[MessageOut]


class RetriedOut(BaseModel):
    queued: int = Field(description="Failed messages queued again.")


def campaign_out(db: DB, campaign: Campaign) -> dict:
    """The campaign with its counts as they stand."""
    return {
        "id": campaign.id,
        "notice": campaign.notice_key,
        "version": campaign.notice_version,
        "purposes": campaign.purposes,
        "moment": campaign.moment,
        "created_at": campaign.created_at,
        "counts": service.counts(db, campaign).as_dict(),
    }


def message_out(m: CampaignMessage) -> dict:
    """One message without any address."""
    return {
        "id": m.id,
        "subject_id": m.subject_id,
        "purposes": m.purposes,
        "channel": m.channel,
        "language": m.language,
        "status": m.status,
        "attempts": m.attempts,
        "last_error": m.last_error,
        "sent_at": m.sent_at,
    }


@router.get("", dependencies=[Reader], summary="Every material-change campaign, newest first, with its counts.")
def list_campaigns(db: DB) -> list[CampaignOut]:
    return [CampaignOut(**campaign_out(db, c)) for c in service.list_campaigns(db)]


@router.get("/{campaign_id}", dependencies=[Reader], summary="One campaign with its counts and messages.")
def show_campaign(
    campaign_id: CampaignId,
    db: DB,
    status: Annotated[
        Literal["queued", "sent", "failed", "no_address"] | None, Query(description="Only messages of this status.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> CampaignDetailOut:
    campaign = service.get_campaign(db, campaign_id)
    return CampaignDetailOut(
        **campaign_out(db, campaign),
        messages=[message_out(m) for m in service.messages(db, campaign, status=status, limit=limit)],
    )


@router.post("/{campaign_id}/retry", dependencies=[Writer], summary="Queue the campaign's failed messages again.")
def retry(campaign_id: CampaignId, db: DB, principal: Caller) -> RetriedOut:
    return RetriedOut(queued=service.retry_failed(db, service.get_campaign(db, campaign_id), actor=principal.actor))
