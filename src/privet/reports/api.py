"""Report routes: records of processing (HTML, CSV, JSON), the evidence of the promises kept (JSON, HTML), impact
assessments, and the cross-border register."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field

from privet.auth.deps import Caller, require
from privet.http.routes import DB
from privet.registers.crossborder_api import router as crossborder_router
from privet.reports import evidence, pia, ropa
from privet.reports.models import ImpactAssessment

router = APIRouter(prefix="/reports", tags=["reports"])
router.include_router(crossborder_router)
Reader = Depends(require("registers:read"))
Writer = Depends(require("registers:write"))
_MEDIA = {"html": "text/html; charset=utf-8", "csv": "text/csv; charset=utf-8"}


class QuestionOut(BaseModel):
    key: str
    question: str
    answer: str | None


class AssessmentOut(BaseModel):
    reference: str
    activity: str
    activity_name: str
    triggers: list[str]
    status: str
    datamap_version: int | None
    questions: list[QuestionOut]
    outcome: str | None
    conclusion: str | None
    concluded_at: str | None
    concluded_by: str | None
    retain_until: str | None
    created_at: str | None


class AnswersIn(BaseModel):
    answers: dict[str, Annotated[str, Field(max_length=20_000)]] = Field(
        max_length=200, description="Question key -> answer text."
    )


class ConcludeIn(BaseModel):
    outcome: Literal["acceptable", "acceptable_with_measures", "not_acceptable"]
    conclusion: str = Field(max_length=20_000)
    retain_years: int = Field(
        pia.MIN_RETENTION_YEARS,
        ge=pia.MIN_RETENTION_YEARS,
        le=100,
        description="Kept at least this many years (PIPL Art 56: three or more).",
    )
    at: datetime | None = None


@router.get(
    "/ropa",
    dependencies=[Reader],
    response_model=None,
    responses={
        200: {
            "description": "The records in the format asked for.",
            "content": {
                "text/html": {"schema": {"type": "string"}},
                "text/csv": {"schema": {"type": "string"}},
                "application/json": {"schema": {"type": "object"}},
            },
        }
    },
    summary="Records of processing activities (GDPR Art 30 / PIPL) from the data map: html, csv or json.",
)
def records(
    db: DB,
    format: Literal["html", "csv", "json"] = "html",
    lang: Annotated[
        Literal["en", "zh_CN"], Query(description="Language of the headings and of the names that have a translation.")
    ] = "en",
) -> Response | dict:
    if format == "json":
        return ropa.build(db, lang)
    headers = {"Content-Disposition": 'attachment; filename="records-of-processing.csv"'} if format == "csv" else {}
    return Response(ropa.render(db, format, lang), media_type=_MEDIA[format], headers=headers)


@router.get(
    "/evidence",
    dependencies=[Reader],
    response_model=None,
    responses={
        200: {
            "description": "The evidence in the format asked for.",
            "content": {
                "text/html": {"schema": {"type": "string"}},
                "application/json": {"schema": {"type": "object"}},
            },
        }
    },
    summary="Evidence for every promise P1-P45: its mechanism, whether the data map and registers configure "
    "it (what is missing if not), and the latest run or check that exercised it.",
)
def evidence_report(
    db: DB,
    request: Request,
    format: Literal["json", "html"] = "json",
    lang: Literal["en", "zh_CN"] = "en",
) -> Response | dict:
    settings = request.app.state.settings
    if format == "json":
        return evidence.build(db, settings)
    return Response(evidence.render(db, settings, "html", lang), media_type=_MEDIA["html"])


def _out(row: ImpactAssessment) -> AssessmentOut:
    return AssessmentOut(**pia.as_dict(row))


@router.get("/pia", dependencies=[Reader], summary="Impact assessments (run POST /reports/pia/sync for new drafts).")
def list_assessments(db: DB, status: Literal["draft", "concluded", "superseded"] | None = None) -> list[AssessmentOut]:
    return [_out(r) for r in pia.list_assessments(db, status=status)]


@router.post(
    "/pia/sync",
    dependencies=[Writer],
    summary="Draft an assessment for each data map activity that needs one (PIPL Art 55); the new ones.",
)
def sync(db: DB, caller: Caller) -> list[AssessmentOut]:
    return [_out(r) for r in pia.sync_drafts(db, actor=caller.actor)]


@router.get("/pia/{reference}", dependencies=[Reader], summary="One assessment with its questionnaire.")
def show(reference: str, db: DB) -> AssessmentOut:
    return _out(pia.get_assessment(db, reference))


@router.post("/pia/{reference}/answers", dependencies=[Writer], summary="Answer questions of a draft.")
def answer(reference: str, body: AnswersIn, db: DB, caller: Caller) -> AssessmentOut:
    return _out(pia.answer(db, reference, body.answers, actor=caller.actor))


@router.post(
    "/pia/{reference}/conclude",
    dependencies=[Writer],
    summary="Conclude a fully answered draft; kept at least three years.",
)
def conclude(reference: str, body: ConcludeIn, db: DB, caller: Caller) -> AssessmentOut:
    return _out(
        pia.conclude(
            db,
            reference,
            outcome=body.outcome,
            conclusion=body.conclusion,
            actor=caller.actor,
            at=body.at,
            retain_years=body.retain_years,
        )
    )


@router.delete(
    "/pia/{reference}",
    status_code=204,
    dependencies=[Writer],
    summary="Delete an assessment; refused before a concluded one's retention date.",
)
def delete(reference: str, db: DB, caller: Caller) -> Response:
    pia.delete(db, reference, actor=caller.actor)
    return Response(status_code=204)
