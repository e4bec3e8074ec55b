"""The Celery backend: messages carry only a job id; the job row stays the state (no result backend).

A message is sent after the enqueuing transaction commits. Tasks are acknowledged late with a prefetch of one,
so a message whose worker dies is delivered again (RabbitMQ at once, Redis after its visibility timeout), and
every worker sweeps the store now and then: jobs whose message was lost (a crash between commit and send) or
whose lease ran out (a killed worker) are sent again. A duplicate message is harmless: claiming a row is atomic.
"""

from __future__ import annotations

import logging
import os
import threading
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from privet.jobs import broker, dispatch
from privet.jobs.broker import TASK_NAME, check_configured, make_celery
from privet.jobs.models import Job
from privet.kit.clock import utcnow
from privet.settings import Settings

if TYPE_CHECKING:
    from celery import Celery

SWEEP_BATCH = 500
log = logging.getLogger("privet.jobs")

_runtime: dict = {}
_runtime_lock = threading.Lock()


def sweep(session: Session, settings: Settings, *, grace_seconds: float) -> int:
    """Mark for sending jobs that no worker has: expired leases and due jobs older than the grace; returns count.

    The chosen jobs are sent when `session` commits. A queued job's lease_until is reused as "sent; send again
    if still queued after this".
    """
    now = utcnow()
    resend_after = now + timedelta(seconds=settings.jobs_lease_seconds)
    expired = and_(Job.status == "running", Job.lease_until < now)
    forgotten = and_(
        Job.status == "queued",
        Job.run_at <= now - timedelta(seconds=grace_seconds),
        or_(Job.lease_until.is_(None), Job.lease_until <= now),
    )
    stmt = select(Job.id, Job.run_at).where(or_(expired, forgotten)).order_by(Job.run_at).limit(SWEEP_BATCH)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)  # two workers sweeping take different rows
    rows = session.execute(stmt).all()
    if not rows:
        return 0
    ids = [row.id for row in rows]
    # An expired running row goes back to queued; run_one would take it over anyway, but re-queued it no
    # longer looks expired, so the next sweep does not send it again.
    session.execute(
        update(Job)
        .where(Job.id.in_(ids), or_(expired, forgotten))
        .values(status="queued", worker=None, lease_until=resend_after)
        .execution_options(synchronize_session=False)
    )
    for row in rows:
        dispatch.announce_after_commit(session, row.id, now)
    return len(ids)


def _worker_runtime(settings: Settings) -> tuple:
    """Engine, sessions and keyring for tasks in this process (a prefork child builds its own after the fork)."""
    from privet.db.engine import make_engine, make_sessionmaker
    from privet.kit.crypto import Keyring

    with _runtime_lock:
        if _runtime.get("pid") != os.getpid():
            engine = make_engine(
                settings.sqlalchemy_url, pool_size=settings.db_pool_size, max_overflow=settings.db_max_overflow
            )
            _runtime.update(
                pid=os.getpid(), sessionmaker=make_sessionmaker(engine), keyring=Keyring.from_settings(settings)
            )
        return _runtime["sessionmaker"], _runtime["keyring"]


def worker_app(settings: Settings) -> Celery:
    """The Celery app a worker runs: the `privet.run_job` task bound to `settings`."""
    app = make_celery(check_configured(settings))

    @app.task(name=TASK_NAME, ignore_result=True)
    def run_job(job_id: str) -> None:
        """Run one job by id (nothing happens when it is not due, finished, or held by a live worker)."""
        from privet.jobs.runner import run_one

        session_factory, keyring = _worker_runtime(settings)
        run_one(session_factory, settings, keyring, job_id)

    return app


def sweep_interval(settings: Settings) -> float:
    """Seconds between sweeps: a quarter of the lease, between 1 and 30."""
    return max(1.0, min(30.0, settings.jobs_lease_seconds / 4))


class Sweeper(threading.Thread):
    """Every few seconds: enqueue recurring jobs that are due and re-send jobs no worker has."""

    def __init__(self, settings: Settings, interval: float) -> None:
        super().__init__(name="privet-job-sweeper", daemon=True)
        self.settings, self.interval, self.stopping = settings, interval, threading.Event()

    def run(self) -> None:
        from privet.db.engine import make_engine, make_sessionmaker, session_scope
        from privet.jobs.context import take_write_lock
        from privet.jobs.service import schedule_due

        engine = make_engine(self.settings.sqlalchemy_url, pool_size=1, max_overflow=0)
        factory = make_sessionmaker(engine)
        first = True
        while first or not self.stopping.wait(self.interval):  # a restarted worker sweeps at once
            first = False
            try:
                with session_scope(factory) as session:
                    session.info[dispatch.SETTINGS_KEY] = self.settings
                    take_write_lock(session)
                    schedule_due(session)
                    sent = sweep(session, self.settings, grace_seconds=self.interval)
                if sent:
                    log.info("job sweep: sent %d job(s) again", sent)
            except Exception as exc:  # noqa: BLE001 - a store or broker hiccup: try again next round
                log.warning("job sweep failed: %s", type(exc).__name__)
            finally:
                engine.dispose()  # hold no connection between rounds (the pool may fork children meanwhile)

    def stop(self) -> None:
        """Stop after the current round."""
        self.stopping.set()


def run_worker(
    settings: Settings, *, concurrency: int, pool: str, loglevel: str, sweep_seconds: float | None = None
) -> None:
    """Run a Celery worker on the configured broker in the foreground (returns when it shuts down)."""
    from celery.signals import worker_ready, worker_shutdown

    from privet.jobs import registry

    app = worker_app(settings)
    dispatch.configure(settings)
    registry.load_handlers()  # before the pool forks: every process starts with the handlers imported
    sweeper = Sweeper(settings, sweep_seconds or sweep_interval(settings))
    # started once the pool's processes exist, so they are not forked from a process with a busy thread
    worker_ready.connect(lambda **_: sweeper.start(), weak=False)
    worker_shutdown.connect(lambda **_: sweeper.stop(), weak=False)
    app.worker_main(
        [
            "worker",
            f"--concurrency={concurrency}",
            f"--pool={pool}",
            f"--loglevel={loglevel}",
            f"--queues={broker.QUEUE}",
            f"--hostname=privet-{os.getpid()}@%h",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ]
    )
