"""The job interface: enqueue work in the caller's transaction, list jobs, retry failed ones, recurring jobs.

Running them (`run_one`, `run_until_idle`) lives in `runner`, what a handler gets (`JobContext`, `Retry`) in
`context`; both are re-exported here.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, make_transient_to_detached

from privet.audit.service import record as audit
from privet.jobs import dispatch, registry
from privet.jobs.context import JobContext, Retry
from privet.jobs.models import Job
from privet.jobs.runner import backoff_seconds, claim, run_one, run_until_idle, worker_name
from privet.kit.clock import utcnow
from privet.kit.errors import Conflict, InvalidInput, NotFound
from privet.kit.ids import new_id

if TYPE_CHECKING:
    from sqlalchemy import Table
    from sqlalchemy.dialects.postgresql import Insert as PgInsert
    from sqlalchemy.dialects.sqlite import Insert as SqliteInsert

__all__ = [
    "JobContext",
    "Retry",
    "backoff_seconds",
    "claim",
    "enqueue",
    "find_job",
    "list_jobs",
    "retry_job",
    "run_one",
    "run_until_idle",
    "schedule_due",
    "worker_name",
]

STATUSES = ("queued", "running", "done", "failed")
UNFINISHED = ("queued", "running")
# stores with INSERT ... ON CONFLICT
_UPSERT: dict[str, Callable[[Table], PgInsert | SqliteInsert]] = {"postgresql": pg_insert, "sqlite": sqlite_insert}


def _unfinished_with_key(session: Session, dedupe_key: str) -> Job | None:
    return session.scalars(select(Job).where(Job.dedupe_key == dedupe_key, Job.status.in_(UNFINISHED))).first()


def _release_key(session: Session, dedupe_key: str) -> None:
    """A finished job keeps its key until a new one needs it (the column is unique): take it away."""
    session.execute(
        update(Job)
        .where(Job.dedupe_key == dedupe_key, Job.status.not_in(UNFINISHED))
        .values(dedupe_key=None)
        .execution_options(synchronize_session=False)
    )


def _try_insert(session: Session, job: Job) -> bool:
    """INSERT ... ON CONFLICT (dedupe_key) DO NOTHING: True when the row went in."""
    columns = {c.key: getattr(job, c.key) for c in Job.__table__.columns}
    statement = _UPSERT[session.get_bind().dialect.name](Job.__table__).values(**columns)
    return (
        session.execute(
            statement.on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(Job.__table__.c.id)
        ).first()
        is not None
    )


def _insert_keyed(session: Session, job: Job) -> Job:
    """`job`, inserted, or the unfinished job already holding its key (one statement when the key is free: the
    common case costs no look-up, no savepoint)."""
    session.flush()  # ORM changes of this transaction reach the store before the Core insert
    key = job.dedupe_key
    assert key is not None  # only a job with a key is inserted this way
    job.id = job.id or new_id()
    for _ in range(3):  # a finished job holding the key, or a concurrent enqueue, needs another look
        if _try_insert(session, job):
            make_transient_to_detached(job)
            session.add(job)  # persistent, as if loaded: no second INSERT
            return job
        existing = _unfinished_with_key(session, key)
        if existing is not None:
            return existing
        _release_key(session, key)
    raise Conflict("The job could not be queued", "try again")  # a key taken and freed over and over


def enqueue(
    session: Session,
    kind: str,
    payload: dict | None = None,
    *,
    dedupe_key: str | None = None,
    run_at: datetime | None = None,
    max_attempts: int | None = None,
) -> Job:
    """Add a job in the caller's transaction; the backend hears of it once that transaction commits.

    With `dedupe_key`, an unfinished job holding that key is returned instead of a new one. The payload holds
    ids and flags only, never personal data (it is shown in `privet jobs list`).
    """
    if not kind or len(kind) > 80:
        raise InvalidInput("A job kind is 1 to 80 characters", "use a dotted name such as requests.run_step")
    if max_attempts is not None and max_attempts < 1:
        raise InvalidInput("max_attempts must be at least 1", "leave it out to use PRIVET_JOBS_MAX_ATTEMPTS")
    now = utcnow()
    job = Job(
        kind=kind,
        payload=dict(payload or {}),
        dedupe_key=dedupe_key,
        status="queued",
        attempts=0,
        max_attempts=max_attempts or dispatch.settings_for(session).jobs_max_attempts,
        run_at=run_at or now,
        created_at=now,
    )
    if dedupe_key is None:
        session.add(job)
        session.flush()
    elif session.get_bind().dialect.name in _UPSERT:
        found = _insert_keyed(session, job)
        if found is not job:
            return found
    else:
        existing = _unfinished_with_key(session, dedupe_key)
        if existing is not None:
            return existing
        _release_key(session, dedupe_key)
        try:
            with session.begin_nested():  # a concurrent enqueue of the same key wins; return its job
                session.add(job)
                session.flush()
        except IntegrityError:
            existing = _unfinished_with_key(session, dedupe_key)
            if existing is None:
                raise
            return existing
    dispatch.announce_after_commit(session, job.id, job.run_at)
    return job


def find_job(session: Session, job_id: str, *, for_update: bool = False) -> Job:
    """One job by id as stored now (workers change jobs from other sessions), or NotFound."""
    job = session.get(Job, job_id, populate_existing=True, with_for_update=for_update or None)
    if job is None:
        raise NotFound(f"No job {job_id!r}", "list jobs with `privet jobs list` or GET /api/v1/jobs")
    return job


def list_jobs(
    session: Session, *, status: str | None = None, kind: str | None = None, limit: int = 50, offset: int = 0
) -> tuple[list[Job], int]:
    """Jobs newest first, optionally of one status and kind, with the total count for paging."""
    stmt = select(Job)
    if status is not None:
        if status not in STATUSES:
            raise InvalidInput(f"Unknown job status {status!r}", f"use one of: {', '.join(STATUSES)}")
        stmt = stmt.where(Job.status == status)
    if kind is not None:
        stmt = stmt.where(Job.kind == kind)
    total = session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = session.scalars(
        stmt.order_by(Job.created_at.desc(), Job.id.desc()).limit(max(1, min(limit, 1000))).offset(max(0, offset))
    )
    return list(rows), int(total or 0)


def retry_job(session: Session, job_id: str, *, actor: str) -> Job:
    """Queue a failed job again with fresh attempts (audited)."""
    job = find_job(session, job_id, for_update=True)
    if job.status != "failed":
        raise Conflict(f"Job {job_id} is {job.status}, not failed", "only failed jobs can be retried")
    previous_attempts = job.attempts
    job.status, job.attempts, job.run_at = "queued", 0, utcnow()
    job.finished_at = job.lease_until = job.worker = None
    session.flush()
    audit(
        session,
        actor=actor,
        action="job.retried",
        object_type="job",
        object_id=job.id,
        details={"kind": job.kind, "previous_attempts": previous_attempts},
    )
    dispatch.announce_after_commit(session, job.id, job.run_at)
    return job


def period_key(kind: str, every_seconds: int, now: datetime) -> str:
    """The dedupe key of `kind`'s run for the period holding `now` (periods aligned on the Unix epoch)."""
    return f"periodic:{kind}:{int(now.timestamp()) // every_seconds}"


def schedule_due(session: Session, now: datetime | None = None) -> list[Job]:
    """Enqueue each recurring job whose current period has no job yet; returns the new jobs."""
    registry.load_handlers()
    now = now or utcnow()
    wanted = {period_key(p.kind, p.every_seconds, now): p for p in registry.periodic_jobs()}
    if not wanted:
        return []
    seen = set(session.scalars(select(Job.dedupe_key).where(Job.dedupe_key.in_(wanted))))
    return [
        enqueue(session, p.kind, {"period": int(key.rsplit(":", 1)[1])}, dedupe_key=key, run_at=now)
        for key, p in wanted.items()
        if key not in seen
    ]
