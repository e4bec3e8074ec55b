"""Incident routes: record, list, what is due, show, mark a notice sent, close, draft notices (P26)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from privet.auth.deps import Caller, require
from privet.http.routes import DB
from privet.kit.clock import utcnow
from privet.registers import incidents, incidents_notices
from privet.registers.incidents_models import Incident

router = APIRouter(prefix="/incidents", tags=["incidents"])
Reader = Depends(require("registers:read"))
Writer = Depends(require("registers:write"))


class Texts(BaseModel):
    en: str | None = Field(None, max_length=4000)
    zh_CN: str | None = Field(None, max_length=4000)


class Facts(BaseModel):
    what_happened: Texts
    consequences: Texts | None = None
    measures: Texts | None = None
    advice: Texts | None = None


class IncidentIn(BaseModel):
    title: str = Field(min_length=1, max_length=200, description="A few words; no personal data.")
    severity: Literal["general", "relatively_major", "major", "especially_major"] = Field(
        description="PRC level: 一般, 较大, 重大, 特别重大."
    )
    discovered_at: datetime = Field(description="When the organisation became aware (starts the clocks).")
    occurred_at: datetime | None = None
    categories: list[str] = Field(min_length=1, max_length=100)
    subjects_affected: int = Field(ge=0, le=10**10, description="Number of people affected (an estimate if unknown).")
    ciio: bool = Field(False, description="The organisation is a critical information infrastructure operator.")
    high_risk: bool = Field(False, description="Likely high risk to people: they must be told.")
    regimes: list[Literal["prc", "gdpr"]] | None = Field(
        None, max_length=2, description="Default: from the data map profile."
    )
    facts: Facts


class ClockOut(BaseModel):
    key: str
    audience: str
    rule: str
    hours: int | None
    due_at: str | None
    done_at: str | None
    state: str


class IncidentOut(BaseModel):
    reference: str
    title: str
    severity: str
    occurred_at: str | None
    discovered_at: str
    categories: list[str]
    subjects_affected: int
    ciio: bool
    high_risk: bool
    regimes: list[str]
    facts: dict
    status: str
    recorded_by: str
    clocks: list[ClockOut]


class DueOut(BaseModel):
    reference: str
    title: str
    clock: ClockOut


class NotifiedIn(BaseModel):
    clock: str = Field(description="prc_regulator, gdpr_authority or people.")
    at: datetime | None = Field(None, description="When the notice went out (default now).")


class NoticeOut(BaseModel):
    audience: str
    language: str
    subject: str
    body: str


def _out(incident: Incident) -> IncidentOut:
    return IncidentOut(**incidents.as_dict(incident))


@router.post("", status_code=201, dependencies=[Writer], summary="Record an incident; its clocks start at discovery.")
def record(body: IncidentIn, db: DB, caller: Caller) -> IncidentOut:
    facts = {k: v for k, v in body.facts.model_dump().items() if v}
    row = incidents.record_incident(
        db,
        actor=caller.actor,
        title=body.title,
        severity=body.severity,
        discovered_at=body.discovered_at,
        occurred_at=body.occurred_at,
        categories=body.categories,
        subjects_affected=body.subjects_affected,
        ciio=body.ciio,
        high_risk=body.high_risk,
        regimes=body.regimes,
        facts=facts,
    )
    return _out(row)


@router.get("", dependencies=[Reader], summary="Incidents, newest discovery first.")
def list_all(
    db: DB, status: Literal["open", "closed"] | None = None, limit: Annotated[int, Query(ge=1, le=1000)] = 200
) -> list[IncidentOut]:
    return [_out(i) for i in incidents.list_incidents(db, status=status, limit=limit)]


@router.get("/due", dependencies=[Reader], summary="Notification clocks not yet done: overdue first.")
def due(db: DB) -> list[DueOut]:
    now = utcnow()
    return [
        DueOut(reference=i.reference, title=i.title, clock=ClockOut(**c.as_dict(now)))
        for i, c, _ in incidents.due(db, now=now)
    ]


@router.get("/{reference}", dependencies=[Reader], summary="One incident with its clocks.")
def show(reference: str, db: DB) -> IncidentOut:
    return _out(incidents.get_incident(db, reference))


@router.post("/{reference}/notified", dependencies=[Writer], summary="Record that a clock's notice went out.")
def notified(reference: str, body: NotifiedIn, db: DB, caller: Caller) -> IncidentOut:
    return _out(incidents.mark_notified(db, reference, body.clock, actor=caller.actor, at=body.at))


@router.post("/{reference}/close", dependencies=[Writer], summary="Close an incident.")
def close(reference: str, db: DB, caller: Caller) -> IncidentOut:
    return _out(incidents.close_incident(db, reference, actor=caller.actor))


@router.get(
    "/{reference}/notices",
    dependencies=[Reader],
    summary="Draft notices to people and to the regulator, in English and Chinese.",
)
def notices(
    reference: str,
    db: DB,
    audience: Literal["people", "regulator"] | None = None,
    language: Literal["en", "zh_CN"] | None = None,
) -> list[NoticeOut]:
    incident = incidents.get_incident(db, reference)
    found = incidents_notices.drafts(
        db,
        incident,
        audiences=(audience,) if audience else incidents_notices.AUDIENCES,
        languages=(language,) if language else incidents.LANGUAGES,
    )
    return [NoticeOut(**d) for d in found]
