"""Cross-border transfer routes (P29), mounted under /reports/crossborder by `privet.reports.api`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from privet.auth.deps import Caller, require
from privet.http.routes import DB, IsoDateTime
from privet.registers import crossborder, crossborder_alerts

router = APIRouter(prefix="/crossborder", tags=["cross-border transfers"])
Reader = Depends(require("registers:read"))
Writer = Depends(require("registers:write"))


class TransferIn(BaseModel):
    destination: str = Field(description="Region the data goes to (ISO 3166, EU, EEA).")
    mechanism: str | None = Field(
        None,
        description="standard_contract, certification, security_assessment, "
        "exemption, adequacy, sccs or bcr; required.",
    )
    mechanism_reference: str | None = Field(None, max_length=400, description="Filing, certificate or approval.")
    recipient: str = Field(max_length=160, description="Recipient key or organisation name.")
    categories: list[str] = Field(min_length=1, max_length=100)
    subject_count: int | None = Field(
        None, ge=1, le=10**10, description="People whose data went (when ids are not given)."
    )
    sensitive_subject_count: int | None = Field(None, ge=0, le=10**10)
    subject_ids: list[str] | None = Field(
        None,
        max_length=100_000,
        description="Privet subject ids: checked for separate cross-border consent and counted as distinct people.",
    )
    sensitive_subject_ids: list[str] | None = Field(None, max_length=100_000)
    origin: str | None = Field(None, description="Region the data leaves (default: the organisation's).")
    activity: str | None = Field(None, description="Processing activity key of the data map.")
    purpose: str | None = None
    important_data: bool = False
    at: IsoDateTime | None = Field(None, description="When the transfer happened (default now).")
    note: str | None = Field(None, max_length=2000)


class TransferOut(BaseModel):
    reference: str
    transferred_at: str
    origin: str
    destination: str
    mechanism: str
    mechanism_reference: str | None
    recipient: str
    activity: str | None
    purpose: str | None
    categories: list[str]
    subject_count: int
    sensitive_subject_count: int
    counting: str
    filtered_out: dict[str, int]
    important_data: bool
    note: str | None
    recorded_by: str


class YearOut(BaseModel):
    year: int
    since: str
    people: int
    sensitive_people: int
    counting: str
    transfers: int
    required: str
    required_text: str
    source: str


class RecordedOut(BaseModel):
    transfer: TransferOut
    year: YearOut
    alerts: list[dict]


class StatusOut(BaseModel):
    year: YearOut
    alerts: list[dict]


class CheckIn(BaseModel):
    subject_ids: list[str] = Field(min_length=1, max_length=100_000)
    purpose: str = Field(min_length=1, max_length=160)
    destination: str = Field(min_length=1, max_length=80)
    categories: list[str] | None = Field(None, max_length=200)


class CheckOut(BaseModel):
    allowed: list[str]
    refused: dict[str, int]


@router.post(
    "/transfers",
    status_code=201,
    dependencies=[Writer],
    summary="Record a transfer; refused without a mechanism; subjects without consent filtered out.",
)
def record(body: TransferIn, db: DB, caller: Caller) -> RecordedOut:
    result = crossborder.record_transfer(db, actor=caller.actor, **body.model_dump())
    return RecordedOut(
        transfer=TransferOut(**crossborder.as_dict(result.transfer)),
        year=YearOut(**result.counts.as_dict()),
        alerts=result.alerts,
    )


@router.get("/transfers", dependencies=[Reader], summary="Recorded transfers, newest first.")
def list_all(
    db: DB,
    year: Annotated[int | None, Query(ge=2000, le=2200)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[TransferOut]:
    return [TransferOut(**crossborder.as_dict(t)) for t in crossborder.list_transfers(db, year=year, limit=limit)]


@router.get("/transfers/{reference}", dependencies=[Reader], summary="One transfer.")
def show(reference: str, db: DB) -> TransferOut:
    return TransferOut(**crossborder.as_dict(crossborder.get_transfer(db, reference)))


@router.get(
    "/status",
    dependencies=[Reader],
    summary="People transferred out of CN since 1 January, the mechanism that requires, and alerts.",
)
def status(db: DB, at: IsoDateTime | None = None, ciio: bool = False) -> StatusOut:
    return StatusOut(
        year=YearOut(**crossborder.year_counts(db, at=at, ciio=ciio).as_dict()),
        alerts=crossborder_alerts.alerts(db, at=at, ciio=ciio),
    )


@router.post(
    "/check",
    dependencies=[Reader],
    summary="Which subjects may have their data transferred (separate cross-border consent).",
)
def check(body: CheckIn, db: DB) -> CheckOut:
    found = crossborder.check_consent(
        db, body.subject_ids, purpose=body.purpose, destination=body.destination, categories=body.categories
    )
    return CheckOut(allowed=found.allowed, refused=found.refused)
