"""Handing committed jobs to the backend: wake the inline workers, or send a Celery message per job.

Enqueuing only writes a row in the caller's transaction; the jobs are announced after that transaction commits
(a SQLAlchemy `after_commit` event), so a worker never looks for a row that is not there yet, and a rolled-back
transaction announces nothing. A job lost between the commit and the announcement is still a row: the inline
workers poll, and Celery workers re-send forgotten rows (see `celery_backend.sweep`).
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime

from sqlalchemy import event
from sqlalchemy.orm import Session

from privet.jobs.broker import send_job
from privet.kit.clock import utcnow
from privet.settings import Settings, get_settings

PENDING_KEY = "privet.jobs.pending"  # session.info: [(job_id, run_at)] announced at the next commit
SETTINGS_KEY = "privet.jobs.settings"  # session.info: the settings jobs of this session go by
# A job due later than this is not sent now: a worker's sweep sends it when due. Celery keeps messages with a
# countdown in the worker's memory, and Redis hands them out again after its visibility timeout (an hour).
MAX_COUNTDOWN_SECONDS = 60.0
WAKE = threading.Event()  # set after a commit that enqueued: idle inline workers look at once
log = logging.getLogger("privet.jobs")

_configured: Settings | None = None
_install_lock = threading.Lock()
_installed = False


def configure(settings: Settings | None) -> Settings | None:
    """Use `settings` (backend, broker) for jobs enqueued in this process; returns the previous ones."""
    global _configured
    previous, _configured = _configured, settings
    return previous


def settings_for(session: Session) -> Settings:
    """The settings jobs enqueued in `session` go by: the session's own, the process's, or the environment's."""
    return session.info.get(SETTINGS_KEY) or _configured or get_settings()


def announce_after_commit(session: Session, job_id: str, run_at: datetime) -> None:
    """Announce `job_id` to the backend once `session`'s transaction commits."""
    _install()
    session.info.setdefault(PENDING_KEY, []).append((job_id, run_at))


def _install() -> None:
    """Listen on every Session once, lazily (nothing happens at import time)."""
    global _installed
    if _installed:
        return
    with _install_lock:
        if not _installed:
            event.listen(Session, "after_commit", _after_commit)
            event.listen(Session, "after_rollback", _after_rollback)
            _installed = True


def _after_rollback(session: Session) -> None:
    # A savepoint rolled back keeps the outer transaction's jobs; an id announced for nothing is harmless.
    if not session.in_nested_transaction():
        session.info.pop(PENDING_KEY, None)


def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint released: the rows are not visible to workers yet
        return
    pending = session.info.pop(PENDING_KEY, None)
    if not pending:
        return
    settings = settings_for(session)
    if settings.jobs_backend == "celery" and settings.jobs_broker_url:
        announce_celery(settings, pending)
    WAKE.set()


def announce_celery(settings: Settings, pending: list[tuple[str, datetime]]) -> None:
    """Send one `privet.run_job` message per job; a broker that is down only delays them (the sweep re-sends)."""
    now = utcnow()
    for job_id, run_at in pending:
        countdown = max(0.0, (run_at - now).total_seconds())
        if countdown > MAX_COUNTDOWN_SECONDS:
            continue
        try:
            send_job(settings, job_id, countdown=countdown)
        except Exception as exc:  # noqa: BLE001 - the commit is done; never fail the caller over a message
            log.warning(
                "could not send job %s to the broker (%s); a worker's sweep will send it later",
                job_id,
                type(exc).__name__,
            )
