"""The Celery backend with real workers on Redis and on RabbitMQ: sent after commit, run, killed, finished."""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path

import pytest

from privet.db.engine import session_scope
from privet.jobs import broker as job_broker
from privet.jobs import dispatch
from privet.jobs.service import enqueue
from privet.kit.clock import utcnow
from privet.settings import Settings
from tests.jobs.conftest import SharedStore
from tests.jobs.processes import WorkerProcess, job_status, steps_of, wait_for
from tests.support.brokers import broker, purge_queue, queue_length


@pytest.fixture
def queue(monkeypatch: pytest.MonkeyPatch) -> str:
    """A queue of this test's own: other test runs may share the broker."""
    name = f"privet-test-{secrets.token_hex(4)}"
    monkeypatch.setattr(job_broker, "QUEUE", name)
    return name


@pytest.mark.parametrize(
    ("broker_kind", "shared_store"), [("redis", "postgresql"), ("rabbitmq", "sqlite")], indirect=["shared_store"]
)
def test_celery_workers_run_jobs_and_finish_a_killed_workers_job(
    broker_kind: str, shared_store: SharedStore, settings: Settings, queue: str, tmp_path: Path
) -> None:
    url = broker(broker_kind)
    celery_settings = settings.model_copy(update={"jobs_backend": "celery", "jobs_broker_url": url})
    env = shared_store.env(celery_settings, PRIVET_JOBS_BACKEND="celery", PRIVET_JOBS_BROKER_URL=url)
    log = tmp_path / "celery.log"
    try:
        with session_scope(shared_store.sessionmaker) as session:
            session.info[dispatch.SETTINGS_KEY] = celery_settings
            quick = enqueue(session, "test.steps", {"steps": 1}).id
            later = enqueue(session, "test.steps", {"steps": 1}, run_at=utcnow() + timedelta(hours=1)).id
            session.flush()
            assert queue_length(url, queue) == 0  # nothing is sent before the commit
        assert queue_length(url, queue) == 1  # the later job is sent by a sweep once it is due

        first = WorkerProcess(log, queue, env, "jobs", "celery", "--concurrency", "2", "--loglevel", "warning")
        try:
            wait_for(lambda: job_status(shared_store, quick)[0] == "done", "the first job", first)
            with session_scope(shared_store.sessionmaker) as session:
                session.info[dispatch.SETTINGS_KEY] = celery_settings
                long = enqueue(session, "test.steps", {"steps": 2, "sleep": 1.0}).id
            wait_for(lambda: steps_of(shared_store, long), "step 1 of the long job", first)
        finally:
            first.kill()
        assert steps_of(shared_store, long) == [(1, 1)] and job_status(shared_store, long) == ("running", 1)

        second = WorkerProcess(log, queue, env, "jobs", "celery", "--concurrency", "2", "--loglevel", "warning")
        try:
            wait_for(lambda: job_status(shared_store, long)[0] == "done", "another worker to finish it", second)
        finally:
            second.kill()
        assert job_status(shared_store, long) == ("done", 2)
        assert [step for step, _ in steps_of(shared_store, long)] == [1, 2]
        assert steps_of(shared_store, long)[-1] == (2, 2)
        assert job_status(shared_store, later) == ("queued", 0)
    finally:
        purge_queue(url, queue)
