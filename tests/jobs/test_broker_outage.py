"""The Celery backend when its Redis goes away: a Redis started by the test is stopped mid-run; jobs enqueued
meanwhile wait (their rows are the state), and run once Redis is back: the worker reconnects by itself and its
sweep sends the messages that could not be sent."""

from __future__ import annotations

import secrets
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from privet.db.engine import session_scope
from privet.jobs import broker as job_broker
from privet.jobs import dispatch
from privet.jobs.service import enqueue
from privet.settings import Settings
from tests.jobs.conftest import SharedStore
from tests.jobs.processes import WorkerProcess, job_status, wait_for
from tests.support.services import unavailable


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class OwnRedis:
    """A redis-server of this test's own on a free loopback port, without persistence (a stop loses its queue)."""

    def __init__(self, folder: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            unavailable("redis-server", FileNotFoundError("redis-server is not installed"))
        self.binary, self.folder, self.port = binary, folder, _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.folder),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("the test's redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


@pytest.fixture
def redis(tmp_path: Path):
    server = OwnRedis(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.mark.parametrize("shared_store", ["postgresql"], indirect=True)
def test_jobs_wait_while_redis_is_stopped_and_resume_when_it_is_back(
    shared_store: SharedStore, settings: Settings, redis: OwnRedis, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    queue = f"privet-test-{secrets.token_hex(4)}"
    monkeypatch.setattr(job_broker, "QUEUE", queue)
    celery_settings = settings.model_copy(update={"jobs_backend": "celery", "jobs_broker_url": redis.url})
    env = shared_store.env(celery_settings, PRIVET_JOBS_BACKEND="celery", PRIVET_JOBS_BROKER_URL=redis.url)

    def add(count: int) -> list[str]:
        with session_scope(shared_store.sessionmaker) as session:
            session.info[dispatch.SETTINGS_KEY] = celery_settings
            return [enqueue(session, "test.steps", {"steps": 1}).id for _ in range(count)]

    worker = WorkerProcess(
        tmp_path / "celery.log", queue, env, "jobs", "celery", "--concurrency", "1", "--loglevel", "warning"
    )
    try:
        before = add(2)
        wait_for(lambda: all(job_status(shared_store, j)[0] == "done" for j in before), "jobs before the stop", worker)

        redis.stop()
        started = time.monotonic()
        during = add(3)  # committed; their messages cannot be sent (the commit still succeeds)
        assert time.monotonic() - started < 30
        time.sleep(3)  # the worker has lost its broker: nothing runs, nothing fails
        assert [job_status(shared_store, j) for j in during] == [("queued", 0)] * 3
        assert worker.process.poll() is None, worker.output()  # it waits for the broker; it did not give up

        redis.start()  # the same port, empty: the messages sent before the stop are gone too
        back = time.monotonic()
        after = add(1)
        wait_for(
            lambda: all(job_status(shared_store, j)[0] == "done" for j in during + after),
            "the jobs once Redis is back",
            worker,
            seconds=60,
        )
        assert [job_status(shared_store, j)[1] for j in during + after] == [1] * 4  # each ran once
        assert time.monotonic() - back < 60
    finally:
        worker.kill()
