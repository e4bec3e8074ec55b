"""Running jobs: claim a due row with a lease, call its handler, record done / retry with back-off / failed.

Delivery is at least once: a worker killed mid-job leaves its row `running` until the lease runs out, then
another worker claims it again. Handlers therefore make each step idempotent, committing a step's effect
together with the record that it happened (`ctx.session()`), and skip steps already recorded.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import BindParameter, ColumnElement, and_, bindparam, or_, select, update
from sqlalchemy.orm import Session, aliased, sessionmaker

from privet.audit.service import record as audit
from privet.db.engine import rowcount, session_scope
from privet.jobs import dispatch, registry
from privet.jobs.context import JOBS, JobContext, Retry, owned
from privet.jobs.models import Job
from privet.kit.clock import utcnow
from privet.kit.crypto import Keyring
from privet.kit.outage import once_more_on_drop
from privet.settings import Settings

SYSTEM_ACTOR = "system:jobs"
MAX_BACKOFF_SECONDS = 3600.0
ERROR_CHARS = 500
log = logging.getLogger("privet.jobs")


@dataclass(frozen=True)
class Claimed:
    """A job this worker holds the lease of."""

    id: str
    kind: str
    payload: dict
    attempt: int
    max_attempts: int


def worker_name() -> str:
    """This thread's worker id: host, process and thread (shown in `privet jobs list`)."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.current_thread().name}"[:120]


def backoff_seconds(settings: Settings, attempt: int) -> float:
    """Delay after failed attempt number `attempt`: jobs_retry_seconds · 2^(attempt-1), at most an hour."""
    return min(MAX_BACKOFF_SECONDS, settings.jobs_retry_seconds * 2 ** max(0, attempt - 1))


def _due(now: BindParameter[datetime]) -> ColumnElement[bool]:
    return or_(
        and_(JOBS.c.status == "queued", JOBS.c.run_at <= now),
        and_(JOBS.c.status == "running", JOBS.c.lease_until < now),
    )  # its worker is presumed dead


_CLAIMS: dict[tuple[bool, bool], tuple] = {}  # (PostgreSQL?, one job?) -> (pick, take): built once, reused


def _claim_statements(postgresql: bool, one_job: bool) -> tuple:
    """The look-up and the taking UPDATE of `claim`, with `now`, `lease` and `job_id` as parameters."""
    statements = _CLAIMS.get((postgresql, one_job))
    if statements is None:
        now: BindParameter[datetime] = bindparam("now")
        candidate = aliased(Job)
        pick = (
            select(candidate.id)
            .where(
                or_(
                    and_(candidate.status == "queued", candidate.run_at <= now),
                    and_(candidate.status == "running", candidate.lease_until < now),
                )
            )
            .order_by(candidate.run_at, candidate.id)
            .limit(1)
        )
        if one_job:
            pick = pick.where(candidate.id == bindparam("job_id"))
        inner = pick.with_for_update(skip_locked=True) if postgresql else pick
        take = (
            update(JOBS)
            .where(JOBS.c.id == inner.scalar_subquery(), _due(now))
            .values(
                status="running",
                attempts=JOBS.c.attempts + 1,
                worker=bindparam("worker"),
                lease_until=bindparam("lease"),
            )
            .returning(JOBS.c.id, JOBS.c.kind, JOBS.c.payload, JOBS.c.attempts, JOBS.c.max_attempts)
        )
        statements = _CLAIMS[(postgresql, one_job)] = (pick, take)
    return statements


def claim(
    session_factory: sessionmaker[Session],
    settings: Settings,
    *,
    worker: str,
    job_id: str | None = None,
    now: datetime | None = None,
) -> Claimed | None:
    """Atomically take one due job (or `job_id` if due) and lease it to `worker`; None when there is none.

    One UPDATE picks and takes the row: on PostgreSQL its sub-select skips rows other workers have locked
    (FOR UPDATE SKIP LOCKED); SQLite runs one writer at a time, so the same statement is a compare-and-set.
    """
    now = now or utcnow()
    values = {"now": now, "worker": worker, "lease": now + timedelta(seconds=settings.jobs_lease_seconds)}
    if job_id is not None:
        values["job_id"] = job_id
    with session_scope(session_factory) as session:
        postgresql = session.get_bind().dialect.name == "postgresql"
        pick, take = _claim_statements(postgresql, job_id is not None)
        if not postgresql and session.execute(pick, values).first() is None:
            return None  # idle: do not take SQLite's write lock just to find nothing
        # SQLite: a transaction that has read cannot wait for the write lock, so the UPDATE gets its own
        row = session.execute(take, values).first() if postgresql else None
    if not postgresql:
        with session_scope(session_factory) as session:
            row = session.execute(take, values).first()
    if row is None:
        return None
    return Claimed(row.id, row.kind, dict(row.payload or {}), row.attempts, row.max_attempts)


def _describe(exc: BaseException) -> str:
    """`ClassName: message`, cut short. Handlers keep personal data out of their exception messages."""
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {message}"[:ERROR_CHARS] if message else type(exc).__name__


def _settle(
    session_factory: sessionmaker[Session],
    settings: Settings,
    claimed: Claimed,
    worker: str,
    values: dict,
    *,
    failed: bool = False,
) -> bool:
    """Write the outcome if the row is still ours; False when the lease was lost to another worker.

    Tried once more on a new connection when the database dropped the first (the update only applies to a row
    this worker still owns, so a second try never records an outcome twice); otherwise the job would wait for
    its lease to run out.
    """
    return once_more_on_drop(lambda: _settle_once(session_factory, settings, claimed, worker, values, failed=failed))


def _settle_once(
    session_factory: sessionmaker[Session],
    settings: Settings,
    claimed: Claimed,
    worker: str,
    values: dict,
    *,
    failed: bool = False,
) -> bool:
    with session_scope(session_factory) as session:
        session.info[dispatch.SETTINGS_KEY] = settings
        done = (
            rowcount(session.execute(update(JOBS).where(*owned(claimed.id, worker, claimed.attempt)).values(**values)))
            == 1
        )
        if not done:
            log.warning("job %s (%s): lease lost before the outcome was recorded", claimed.id, claimed.kind)
            return False
        if failed:
            audit(
                session,
                actor=SYSTEM_ACTOR,
                action="job.failed",
                object_type="job",
                object_id=claimed.id,
                details={
                    "kind": claimed.kind,
                    "attempts": values.get("attempts", claimed.attempt),
                    "error": (values.get("last_error") or "").split(":")[0],
                },
            )
        elif values.get("status") == "queued":
            dispatch.announce_after_commit(session, claimed.id, values["run_at"])
    return True


def _fail(
    session_factory: sessionmaker[Session], settings: Settings, claimed: Claimed, worker: str, error: str, now: datetime
) -> bool:
    return _settle(
        session_factory,
        settings,
        claimed,
        worker,
        {
            "status": "failed",
            "finished_at": now,
            "lease_until": None,
            "last_error": error,
            "attempts": min(claimed.attempt, claimed.max_attempts),
        },
        failed=True,
    )


def run_one(
    session_factory: sessionmaker[Session],
    settings: Settings,
    keyring: Keyring,
    job_id: str | None = None,
    *,
    worker: str | None = None,
) -> bool:
    """Claim and run one due job (or `job_id`); False when nothing was due."""
    registry.load_handlers()
    worker = worker or worker_name()
    claimed = claim(session_factory, settings, worker=worker, job_id=job_id)
    if claimed is None:
        return False
    if claimed.attempt > claimed.max_attempts:  # its worker died during the last allowed attempt
        _fail(
            session_factory,
            settings,
            claimed,
            worker,
            "WorkerLost: the worker stopped during the last attempt",
            utcnow(),
        )
        return True
    ctx = JobContext(
        session_factory, settings, keyring, claimed.id, claimed.attempt, claimed.attempt >= claimed.max_attempts, worker
    )
    try:
        registry.get_handler(claimed.kind)(ctx, claimed.payload)
    except Retry as wait:
        now = utcnow()
        values = {
            "status": "queued",
            "run_at": now + timedelta(seconds=wait.after_seconds),
            "lease_until": None,
            "worker": None,
            "last_error": f"Retry: {wait.reason}"[:ERROR_CHARS] if wait.reason else None,
        }
        if not wait.counts:
            values["attempts"] = claimed.attempt - 1
        elif claimed.attempt >= claimed.max_attempts:
            _fail(session_factory, settings, claimed, worker, _describe(wait), now)
            return True
        _settle(session_factory, settings, claimed, worker, values)
    except Exception as exc:  # noqa: BLE001 - any handler error is a failed attempt, recorded on the row
        now = utcnow()
        log.warning(
            "job %s (%s) attempt %d/%d failed: %s",
            claimed.id,
            claimed.kind,
            claimed.attempt,
            claimed.max_attempts,
            type(exc).__name__,
        )  # the class only: messages stay in the store
        if claimed.attempt >= claimed.max_attempts:
            _fail(session_factory, settings, claimed, worker, _describe(exc), now)
        else:
            retry_at = now + timedelta(seconds=backoff_seconds(settings, claimed.attempt))
            _settle(
                session_factory,
                settings,
                claimed,
                worker,
                {
                    "status": "queued",
                    "run_at": retry_at,
                    "lease_until": None,
                    "worker": None,
                    "last_error": _describe(exc),
                },
            )
    else:
        if not ctx.settled:
            _settle(
                session_factory,
                settings,
                claimed,
                worker,
                {"status": "done", "finished_at": utcnow(), "lease_until": None, "last_error": None},
            )
    return True


def run_until_idle(
    session_factory: sessionmaker[Session],
    settings: Settings,
    keyring: Keyring,
    *,
    max_jobs: int | None = None,
    stop: threading.Event | None = None,
) -> int:
    """Run due jobs in this thread until none is due (or `max_jobs` ran); returns how many ran."""
    ran = 0
    while (max_jobs is None or ran < max_jobs) and not (stop and stop.is_set()):
        if not run_one(session_factory, settings, keyring):
            break
        ran += 1
    return ran
