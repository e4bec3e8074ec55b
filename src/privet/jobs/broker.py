"""Celery's side of the message: the app for a broker, and sending `privet.run_job(job_id)` on it.

The workers (`celery_backend`) and the after-commit announcement (`dispatch`) both use it.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from privet.kit.errors import InvalidInput, Unavailable
from privet.settings import Settings

if TYPE_CHECKING:
    from celery import Celery

TASK_NAME = "privet.run_job"
QUEUE = "privet"

_senders: dict[str, Celery] = {}
_senders_lock = threading.Lock()


def check_configured(settings: Settings) -> str:
    """The broker URL, or a clear error when the celery backend is not configured."""
    if settings.jobs_backend != "celery":
        raise InvalidInput(
            "The job backend is not celery",
            "set PRIVET_JOBS_BACKEND=celery and PRIVET_JOBS_BROKER_URL, or run inline workers with `privet jobs work`",
        )
    if not settings.jobs_broker_url:
        raise InvalidInput(
            "No Celery broker is configured",
            "set PRIVET_JOBS_BROKER_URL, e.g. redis://127.0.0.1:6379/0 or amqp://guest:guest@127.0.0.1:5672//",
        )
    return settings.jobs_broker_url


def make_celery(broker_url: str) -> Celery:
    """A Celery app for `broker_url` (Redis or RabbitMQ) with Privet's delivery settings."""
    try:
        from celery import Celery
    except ModuleNotFoundError:
        raise Unavailable("Celery is not installed", "pip install 'privet[celery]'") from None
    app = Celery("privet", broker=broker_url, set_as_current=False)
    app.conf.update(
        task_acks_late=True,  # acknowledged after the run: a killed worker's message comes back
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,  # a worker holds one message at a time, not a batch others wait behind
        task_ignore_result=True,
        result_backend=None,  # the job row is the state
        task_default_queue=QUEUE,
        task_serializer="json",
        accept_content=["json"],
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        # a worker whose broker went away waits for it (Celery's own back-off) however long it takes, instead
        # of giving up after 100 tries: its jobs resume when the broker is back (the sweep re-sends lost ones)
        broker_connection_max_retries=None,
        worker_send_task_events=False,
        worker_redirect_stdouts=False,
        # a broker that is down must not hold a committed HTTP request for long: the sweep sends the job later
        broker_connection_timeout=3,
        task_publish_retry_policy={"max_retries": 2, "interval_start": 0, "interval_step": 0.5, "interval_max": 1},
    )
    return app


def send_job(settings: Settings, job_id: str, *, countdown: float = 0.0) -> None:
    """Publish `privet.run_job(job_id)` on the configured broker."""
    url = check_configured(settings)
    app = _senders.get(url)
    if app is None:
        with _senders_lock:
            app = _senders.setdefault(url, make_celery(url))
    app.send_task(TASK_NAME, args=[job_id], countdown=countdown or None, queue=QUEUE)
