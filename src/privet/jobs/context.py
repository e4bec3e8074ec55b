"""What a job handler gets (`JobContext`) and may raise (`Retry`); the lease checks the runner shares with it."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import text, update
from sqlalchemy.orm import Session, sessionmaker

from privet.db.engine import rowcount, session_scope
from privet.jobs import dispatch
from privet.jobs.models import Job
from privet.kit.clock import utcnow
from privet.kit.crypto import Keyring
from privet.settings import Settings

JOBS = Job.__table__


class Retry(Exception):
    """Raised by a handler that is waiting for something (a callback, a person): run it again later.

    It does not count as a failed attempt unless `counts=True`.
    """

    def __init__(self, after_seconds: float, reason: str | None = None, *, counts: bool = False) -> None:
        super().__init__(reason or f"retry in {after_seconds:g} s")
        self.after_seconds, self.reason, self.counts = max(0.0, float(after_seconds)), reason, counts


@dataclass
class JobContext:
    """What a handler gets besides its payload."""

    sessionmaker: sessionmaker[Session]
    settings: Settings
    keyring: Keyring
    job_id: str
    attempt: int
    final_attempt: bool
    worker: str

    settled: bool = False  # the job's row was marked done in the handler's last transaction

    @contextlib.contextmanager
    def session(self, *, write: bool = True, last: bool = False) -> Iterator[Session]:
        """A session committed when the block ends without error (rolled back otherwise).

        On SQLite a `write` session holds the store's write lock from its start (see `take_write_lock`), so keep
        slow work (network calls) outside the block. `last`: the handler does nothing after this block, so the
        job is marked done in the same commit as its last effect (one transaction fewer per job).
        """
        with session_scope(self.sessionmaker) as session:
            session.info[dispatch.SETTINGS_KEY] = self.settings  # jobs enqueued here use this job's backend
            if write:
                take_write_lock(session)
            yield session
            if last:
                self.settled = (
                    rowcount(
                        session.execute(
                            update(JOBS)
                            .where(*owned(self.job_id, self.worker, self.attempt))
                            .values(status="done", finished_at=utcnow(), lease_until=None, last_error=None)
                        )
                    )
                    == 1
                )

    def extend_lease(self) -> bool:
        """Push the lease out by jobs_lease_seconds (long steps); False when another worker took the job over."""
        with session_scope(self.sessionmaker) as session:
            lease = utcnow() + timedelta(seconds=self.settings.jobs_lease_seconds)
            return (
                rowcount(
                    session.execute(
                        update(JOBS).where(*owned(self.job_id, self.worker, self.attempt)).values(lease_until=lease)
                    )
                )
                == 1
            )


def take_write_lock(session: Session) -> None:
    """SQLite: take the write lock now, waiting for it like any first write.

    A SQLite transaction that has read and then writes cannot wait for the lock: it fails at once with
    "database is locked" when another connection writes meanwhile (busy workers do, all the time). Writing
    first (an UPDATE of no row) makes the transaction wait its turn instead. PostgreSQL needs nothing.
    """
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("UPDATE jobs SET id = id WHERE 1 = 0"))


def owned(job_id: str, worker: str, attempt: int) -> tuple:
    """The job's row is still this worker's: not finished, not taken over after the lease ran out."""
    # the row is still ours: not finished, not taken over by another worker after our lease ran out
    return JOBS.c.id == job_id, JOBS.c.status == "running", JOBS.c.worker == worker, JOBS.c.attempts == attempt
