"""Background jobs: list them, retry failed ones."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from privet.auth.deps import Caller, require
from privet.http.routes import DB
from privet.jobs import service

router = APIRouter(prefix="/jobs", tags=["jobs"])
Admin = Depends(require("jobs:admin"))


class JobOut(BaseModel):
    """One background job: what it is, where it stands, and its last error (never personal data)."""

    model_config = ConfigDict(from_attributes=True)
    id: str
    kind: str
    payload: dict = Field(description="Ids and flags the handler needs.")
    status: str = Field(description="queued, running, done or failed.")
    attempts: int
    max_attempts: int
    run_at: datetime = Field(description="Not before this time (later after a failure: back-off).")
    lease_until: datetime | None = Field(description="A running job not finished by then is taken up again.")
    worker: str | None
    last_error: str | None
    dedupe_key: str | None
    created_at: datetime
    finished_at: datetime | None


class JobPage(BaseModel):
    """A page of jobs, newest first."""

    items: list[JobOut]
    total: int = Field(description="Jobs matching the filters, on every page.")
    limit: int
    offset: int


@router.get("", dependencies=[Admin], summary="Jobs newest first, filtered by status and kind, a page at a time.")
def list_jobs(
    db: DB,
    status: str | None = Query(
        None,
        description="queued, running, done or failed.",
        json_schema_extra={"enum": ["queued", "running", "done", "failed"]},
    ),
    kind: str | None = Query(None, max_length=80, description="Only jobs of this kind."),
    limit: int = Query(50, ge=1, le=1000, description="At most this many."),
    offset: int = Query(0, ge=0, le=10**9, description="Skip this many (the next page)."),
) -> JobPage:
    rows, total = service.list_jobs(db, status=status, kind=kind, limit=limit, offset=offset)
    return JobPage(items=[JobOut.model_validate(job) for job in rows], total=total, limit=limit, offset=offset)


@router.get("/{job_id}", dependencies=[Admin], summary="One job.")
def show_job(job_id: str, db: DB) -> JobOut:
    return JobOut.model_validate(service.find_job(db, job_id))


@router.post("/{job_id}/retry", dependencies=[Admin], summary="Queue a failed job again with fresh attempts.")
def retry_job(job_id: str, db: DB, principal: Caller) -> JobOut:
    return JobOut.model_validate(service.retry_job(db, job_id, actor=principal.actor))
