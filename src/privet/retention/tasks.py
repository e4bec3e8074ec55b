"""Retention as jobs (inline threads or Celery): the daily sweep, and the runs started from the console."""

from __future__ import annotations

from typing import TYPE_CHECKING

from privet.jobs.registry import handler, periodic

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from privet.jobs.context import JobContext
    from privet.jobs.models import Job

DAY = 86_400
RUN_JOB = "retention.run"  # one live job per run: its dedupe key is `job_key(run_id)`


def job_key(run_id: str) -> str:
    """The dedupe key of a run's `retention.run` job."""
    return f"{RUN_JOB}:{run_id}"


@periodic("retention.sweep", every_seconds=DAY)
def sweep_daily(ctx: JobContext, payload: dict) -> dict:
    """Resume an unfinished run, else start one (nothing at all when the data map has no rules); the run's own
    record says what it did."""
    from privet.retention import service
    from privet.retention.rules import load_rules

    with ctx.sessionmaker() as session:
        if not load_rules(session):
            return {"run": None, "status": "no rules"}
        unfinished = service.unfinished(session)
        if unfinished is not None and live_job(session, unfinished.id) is not None:
            return {"run": unfinished.id, "status": "its own job is on it"}  # never two workers on one run
        resume = unfinished is not None
    done = service.run(ctx.sessionmaker, ctx.settings, ctx.keyring, actor="job:retention", resume=resume)
    return {"run": done.id, "status": done.status}


def live_job(session: Session, run_id: str) -> Job | None:
    """The run's `retention.run` job while it is queued or running (a worker is, or will be, on the run)."""
    from sqlalchemy import select

    from privet.jobs.models import Job

    return session.scalar(select(Job).where(Job.dedupe_key == job_key(run_id), Job.status.in_(("queued", "running"))))


@handler(RUN_JOB)
def run_recorded(ctx: JobContext, payload: dict) -> dict:
    """Sweep (or, for a dry run, count) the run `payload["run_id"]` started or resumed from the console; a job
    taken up again after its worker was killed continues where the run's record stopped."""
    from privet.retention import service

    with ctx.sessionmaker() as session:
        actor = service.get_run(session, payload["run_id"]).actor
    done = service.run(ctx.sessionmaker, ctx.settings, ctx.keyring, actor=actor, run_id=payload["run_id"])
    return {"run": done.id, "status": done.status}


@periodic("retention.children", every_seconds=DAY)
def children_daily(ctx: JobContext, payload: dict) -> dict:
    """The children sweep (P27), daily."""
    from privet.retention import children

    with ctx.session() as session:
        return children.sweep(session, ctx.keyring, ctx.settings, actor="job:retention")
