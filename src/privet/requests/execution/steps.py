"""A request's steps (one per datastore) as records and jobs: read fresh under concurrent workers, queued once each.

The job kinds are registered by these names (`privet.requests.tasks`); queued jobs of an existing store name them.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from privet.requests.models import DsrRequest, RequestStep

STEP_JOB = "requests.step"
PACKAGE_JOB = "requests.package"
KEEP_ROWS = ("access", "portability")  # explanation needs only where data was found, not the rows


def fresh_steps(session: Session, request: DsrRequest) -> list[RequestStep]:
    """The request's steps as the store has them now (another worker may have just changed one)."""
    return list(
        session.execute(
            select(RequestStep)
            .where(RequestStep.request_id == request.id)
            .order_by(RequestStep.position)
            .execution_options(populate_existing=True)
        ).scalars()
    )


def enqueue_step(session: Session, step: RequestStep) -> None:
    """Queue the job that runs one step (one unfinished job per step: queuing it again while one waits is a no-op)."""
    from privet.jobs.service import enqueue

    enqueue(session, STEP_JOB, {"step_id": step.id}, dedupe_key=f"step:{step.id}")
