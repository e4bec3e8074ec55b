"""Inline workers on a committed store: concurrent workers never run a job twice; threads in `privet serve`."""

from __future__ import annotations

import threading
import time
from collections import Counter

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from privet.db.engine import session_scope
from privet.jobs.inline import InlineWorkers
from privet.jobs.models import Job
from privet.jobs.service import enqueue, run_until_idle
from privet.kit.crypto import Keyring
from privet.settings import Settings
from tests.jobs.conftest import SharedStore
from tests.jobs.handlers import CALLS


def wait_until(condition, what: str, seconds: float = 30.0) -> None:
    """Poll `condition()` until true; fail (not hang) when it never becomes true."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.05)


def status_counts(store: SharedStore, kinds: tuple[str, ...] = ("test.record", "test.enqueue_child")) -> Counter:
    """Jobs by status (of these kinds only: workers also run recurring jobs)."""
    with store.sessionmaker() as session:
        return Counter(
            dict(
                session.execute(select(Job.status, func.count()).where(Job.kind.in_(kinds)).group_by(Job.status)).all()
            )
        )


def test_concurrent_workers_never_run_a_job_twice(shared_store: SharedStore, settings: Settings) -> None:
    with session_scope(shared_store.sessionmaker) as session:
        session.info["privet.jobs.settings"] = settings
        ids = {enqueue(session, "test.record", {"n": n, "sleep": 0.002}).id for n in range(60)}
    keyring, ran = Keyring.from_settings(settings), []
    start = threading.Barrier(4)

    def worker() -> None:
        start.wait()
        ran.append(run_until_idle(shared_store.sessionmaker, settings, keyring))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    calls = Counter(job_id for job_id, _ in CALLS)
    assert set(calls) == ids and set(calls.values()) == {1}
    assert sum(ran) == 60 and status_counts(shared_store) == {"done": 60}


def test_inline_threads_pick_up_committed_jobs(shared_store: SharedStore, settings: Settings) -> None:
    workers = InlineWorkers(shared_store.sessionmaker, settings, Keyring.from_settings(settings), 2).start()
    try:
        with session_scope(shared_store.sessionmaker) as session:
            session.info["privet.jobs.settings"] = settings
            job_id = enqueue(session, "test.enqueue_child", {}).id
        wait_until(lambda: status_counts(shared_store)["done"] == 2, "the job and its child")
        assert job_id in {called for called, _ in CALLS}
    finally:
        assert workers.stop(timeout=10)
    assert not any(thread.is_alive() for thread in workers.threads)


def test_serve_runs_inline_workers_and_stops_them(shared_store: SharedStore, settings: Settings) -> None:
    from privet.app import create_app

    serving = settings.model_copy(
        update={"database_url": shared_store.url, "jobs_threads": 2, "webhook_delivery_in_process": False}
    )
    app = create_app(serving)  # builds its own engine: the lifespan starts the job threads
    with TestClient(app):
        with session_scope(app.state.sessionmaker) as session:
            job_id = enqueue(session, "test.record", {}).id
        wait_until(lambda: status_counts(shared_store)["done"] == 1, "the job run by the app's threads")
        threads = [t for t in threading.enumerate() if t.name.startswith("privet-job-")]
        assert len(threads) == 2
    assert (job_id, 1) in CALLS
    assert not any(t.is_alive() for t in threads)


def test_no_threads_when_the_backend_is_celery(shared_store: SharedStore, settings: Settings) -> None:
    from privet.app import create_app

    app = create_app(
        settings.model_copy(
            update={
                "database_url": shared_store.url,
                "jobs_backend": "celery",
                "jobs_broker_url": "redis://127.0.0.1:6379/0",
                "webhook_delivery_in_process": False,
            }
        )
    )
    before = {t.name for t in threading.enumerate()}
    with TestClient(app):
        assert not {t.name for t in threading.enumerate() if t.name.startswith("privet-job-")} - before
