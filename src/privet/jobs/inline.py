"""The inline backend: worker threads in this process poll the job rows (inside `privet serve` or `privet jobs work`).

Durable because the rows are: a process killed mid-job leaves a `running` row whose lease runs out, and the
next worker to look (after a restart, or in another process) runs it again.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session, sessionmaker

from privet.db.engine import session_scope
from privet.jobs import dispatch, registry
from privet.jobs.context import take_write_lock
from privet.jobs.runner import run_one, worker_name
from privet.kit.crypto import Keyring
from privet.kit.outage import Backoff
from privet.settings import Settings

if TYPE_CHECKING:
    from types import FrameType

IDLE_SECONDS = 1.0  # longest wait between looks when nothing was announced (jobs enqueued by other processes)
SCHEDULE_SECONDS = 5.0  # how often recurring jobs are checked
ERROR_PAUSE_SECONDS = 5.0  # longest pause after store errors (database restarting), before looking again
FIRST_ERROR_PAUSE_SECONDS = 0.1  # the first pause: a dropped connection is replaced by the pool at once
log = logging.getLogger("privet.jobs")


class InlineWorkers:
    """N threads running due jobs until `stop()`."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        settings: Settings,
        keyring: Keyring,
        threads: int,
        *,
        idle_seconds: float = IDLE_SECONDS,
        schedule: bool = True,
    ) -> None:
        self.session_factory, self.settings, self.keyring = session_factory, settings, keyring
        self.count, self.idle_seconds, self.schedule = max(1, threads), idle_seconds, schedule
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []
        self._next_schedule = 0.0
        self._schedule_lock = threading.Lock()

    def start(self) -> InlineWorkers:
        """Start the threads (daemon threads: a process that exits does not wait for a job in flight)."""
        registry.load_handlers()  # a broken handler module stops the start, not the first job
        for number in range(self.count):
            thread = threading.Thread(target=self._loop, name=f"privet-job-{number + 1}", daemon=True)
            thread.start()
            self.threads.append(thread)
        return self

    def stop(self, timeout: float = 30.0) -> bool:
        """Ask the threads to stop after their current job; True when all stopped within `timeout` seconds."""
        self.stopping.set()
        dispatch.WAKE.set()
        deadline = time.monotonic() + timeout
        for thread in self.threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        dispatch.WAKE.clear()  # left up while stopping; other workers in this process would not sleep
        return not any(thread.is_alive() for thread in self.threads)

    def _schedule_if_due(self) -> None:
        """One thread per process checks recurring jobs every SCHEDULE_SECONDS."""
        from privet.jobs.service import schedule_due

        with self._schedule_lock:
            if time.monotonic() < self._next_schedule:
                return
            self._next_schedule = time.monotonic() + SCHEDULE_SECONDS
        with session_scope(self.session_factory) as session:
            session.info[dispatch.SETTINGS_KEY] = self.settings
            take_write_lock(session)
            schedule_due(session)

    def _loop(self) -> None:
        worker = worker_name()
        backoff = Backoff(FIRST_ERROR_PAUSE_SECONDS, ERROR_PAUSE_SECONDS)
        while not self.stopping.is_set():
            try:
                if self.schedule:
                    self._schedule_if_due()
                ran = run_one(self.session_factory, self.settings, self.keyring, worker=worker)
            except Exception as exc:  # noqa: BLE001 - the store away for a moment must not end the worker
                pause = backoff.failed()  # 0.1 s, doubled while the store stays away, at most 5 s
                log.warning("job worker %s: %s; looking again in %.1f s", worker, type(exc).__name__, pause)
                self.stopping.wait(pause)
                continue
            backoff.succeeded()
            # every waiting thread wakes on set(); the flag stays up while stopping so none sleeps on
            if not ran and dispatch.WAKE.wait(self.idle_seconds) and not self.stopping.is_set():
                dispatch.WAKE.clear()


def work(session_factory: sessionmaker[Session], settings: Settings, keyring: Keyring, threads: int) -> None:
    """Run inline workers in the foreground until Ctrl-C (or SIGTERM), then let jobs in flight finish."""
    import signal

    workers = InlineWorkers(session_factory, settings, keyring, threads).start()

    def on_term(_signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        while not workers.stopping.wait(1.0):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        workers.stop(timeout=settings.jobs_lease_seconds)
