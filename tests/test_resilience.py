"""Resilience of a real `privet serve` on PostgreSQL (issue 13): every Privet connection terminated under mixed load,
the store refusing connections for a while, the server and one of its workers killed during consent recordings,
the server killed during an erasure. Errors only for requests in flight at the fault, 503 never 500, full service
again within 2 s, nothing acknowledged lost, nothing applied twice. bench/faults.py measures the same at length.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.support.served import (
    Load,
    Served,
    acknowledged_recordings_kept,
    free_port,
    jobs_settle,
    judge,
)
from tests.support.services import unavailable

RECOVERY_SECONDS = 2.0


@pytest.fixture
def served(tmp_path: Path):
    """Privet served by uvicorn with two worker processes and inline job threads, on a fresh PostgreSQL store."""
    try:
        server = Served(tmp_path, workers=2)
    except sa.exc.OperationalError as exc:
        unavailable("PostgreSQL", exc)
    try:
        server.start()
        server.wait_ready()
        yield server
    finally:
        server.close()


def _no_server_errors(verdict: dict, served: Served) -> None:
    assert verdict["server_errors_500"] == 0, (verdict, served.log_tail())
    assert verdict["errors_later"] == 0, (verdict, served.log_tail())  # only requests in flight at the fault
    assert set(verdict["error_statuses"]) <= {"503"}, verdict  # a problem to retry, never a dropped connection
    assert verdict["recovery_s"] <= RECOVERY_SECONDS, verdict


def test_every_connection_terminated_under_mixed_load(served: Served) -> None:
    """Decisions (single, batch, change feed), recordings and filed requests running jobs, while every connection
    to the store is terminated twice: the decision watch, the writer, the pool and the job workers reconnect."""
    load = Load(served, clients=6, seconds=7.0, after_faults=RECOVERY_SECONDS + 2)
    windows = load.run([(1.5, served.terminate_connections), (3.0, served.terminate_connections)])
    verdict = judge(load.outcomes, windows)
    assert all(n >= 2 for n in load.fault_results), load.fault_results  # both workers' connections at least
    assert verdict["by_kind"].keys() == {"decision", "batch", "changes", "recording", "request"}, verdict
    _no_server_errors(verdict, served)
    late = [o for o in load.outcomes if o.started > windows[-1][1] + RECOVERY_SECONDS]
    assert late and all(200 <= o.status < 300 for o in late)  # full service after the last fault
    kept = acknowledged_recordings_kept(served, load.outcomes)
    assert kept["acknowledged_missing"] == 0 and kept["applied_twice"] == 0, kept
    settled = jobs_settle(served, 30)
    assert settled["jobs_unfinished"] == 0 and "failed" not in settled["jobs"], settled  # retried, then done
    assert served.call("GET", "/readyz", auth=False)[0] == 200


def test_store_refusing_connections_answers_503_then_recovers(served: Served) -> None:
    """While the database refuses connections: 503 problems (decisions, batches, recordings, /readyz), no 500;
    once it accepts them again, every route answers within 2 s."""
    decision = {"visitor_id": "v-outage", "purpose": "analytics.usage"}
    recording = {**decision, "event": "given", "method": "api"}
    routes = [
        ("POST", "/api/v1/decisions", decision),
        ("POST", "/api/v1/decisions/batch", {"items": [decision]}),
        ("GET", "/api/v1/decisions/changes", None),
        ("POST", "/api/v1/consent/records", recording),
    ]
    assert all(200 <= served.call(*route)[0] < 300 for route in routes)
    with served.admin.connect() as conn:
        conn.execute(sa.text(f'ALTER DATABASE "{served.name}" ALLOW_CONNECTIONS false'))
    try:
        served.terminate_connections()
        for _ in range(3):
            for method, path, body in routes:
                status, answer = served.call(method, path, body)
                assert status == 503, (path, status, answer)
                assert answer["title"] == "Service unavailable" and "try again" in answer["hint"], answer
        time.sleep(0.6)  # past the readiness cache
        status, ready = served.call("GET", "/readyz", auth=False)
        assert status == 503 and ready["checks"]["store"].startswith("unreachable"), ready
    finally:
        with served.admin.connect() as conn:
            conn.execute(sa.text(f'ALTER DATABASE "{served.name}" ALLOW_CONNECTIONS true'))
    back = time.monotonic()
    deadline, answers = back + RECOVERY_SECONDS, []
    while time.monotonic() < deadline:
        answers = [served.call(*route)[0] for route in routes * 2]
        if all(200 <= status < 300 for status in answers):
            break
        time.sleep(0.05)
    assert all(200 <= status < 300 for status in answers), answers
    assert served.call("GET", "/readyz", auth=False)[0] in (200, 503)  # the cached answer may still be the old one
    time.sleep(0.6)
    assert served.call("GET", "/readyz", auth=False)[0] == 200


def test_worker_and_server_killed_during_recordings_lose_nothing_acknowledged(served: Served) -> None:
    """SIGKILL of one uvicorn worker, later of the whole server (then started again), while recordings stream in:
    every recording answered 2xx is in the ledger, none is there twice."""

    def kill_and_restart() -> None:
        served.kill()
        served.start()

    load = Load(served, clients=6, seconds=11.0, mix=(("recording", 1),), after_faults=3.0)
    windows = load.run([(1.5, served.kill_one_worker), (3.0, kill_and_restart)])
    assert windows[-1][1] < load.outcomes[-1].ended - 1, windows  # the server was back well before the end
    kept = acknowledged_recordings_kept(served, load.outcomes)
    assert kept["acknowledged"] > 100 and kept["acknowledged_missing"] == 0, kept
    assert kept["applied_twice"] == 0, kept
    late = [o for o in load.outcomes if o.started > windows[-1][1] + 0.5]
    assert late and all(200 <= o.status < 300 for o in late)  # the restarted server records again
    assert all(o.status in (0, 201, 503) for o in load.outcomes), {o.status for o in load.outcomes}


@pytest.mark.parametrize("boundary", ["before_commit", "after_commit"])
def test_server_killed_during_an_erasure_resumes_it_once(
    boundary: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server's inline job thread dies with the server (SIGKILL) inside an erasure's step; the server started
    again takes the step up: the company's rows and the recorded counts equal an uninterrupted erasure's."""
    from privet.settings import get_settings
    from tests.requests.test_kill_boundaries import SECRET, WORKER, Run, _changed, _snapshot

    monkeypatch.setenv("PRIVET_SECRET_KEY", SECRET)  # the audit chain's key, for what the test itself records
    get_settings.cache_clear()
    clean = Run("postgresql", tmp_path / "clean")
    try:
        done = clean.worker("none")
        assert done.returncode == 0, done.stdout + done.stderr
        with clean.sessions() as session:
            rows, counts = _snapshot(clean.url), clean.request(session).steps[0].counts
    finally:
        clean.close()

    run = Run("postgresql", tmp_path / "killed")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRIVET_")}
    env.update(
        {
            "PRIVET_DATABASE_URL": run.settings.database_url,
            "PRIVET_SECRET_KEY": run.settings.secret_key,
            "PRIVET_DATA_DIR": str(run.settings.data_dir),
            "PRIVET_SECRETS": json.dumps(run.settings.secrets),
            "PRIVET_MAIL_SENDER": "console",
            "PRIVET_SMS_SENDER": "console",
            "PRIVET_JOBS_THREADS": "1",
            "PRIVET_JOBS_LEASE_SECONDS": "5",
            "PRIVET_JOBS_RETRY_SECONDS": "0.1",
            "PRIVET_HOST": "127.0.0.1",
            "PRIVET_PORT": str(free_port()),
            "PRIVET_LOG_LEVEL": "warning",
        }
    )
    import subprocess

    def serve(patch: str) -> subprocess.Popen:
        log = (tmp_path / "server.log").open("ab")
        return subprocess.Popen(
            [sys.executable, str(WORKER), patch, "serve"],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=log,
            start_new_session=True,
        )

    try:
        killed = serve(boundary)
        assert killed.wait(90) == -9, (tmp_path / "server.log").read_text()[-2000:]  # died inside the step
        run.lease_ran_out()
        again = serve("none")
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                with run.sessions() as session:
                    if run.request(session).status == "completed":
                        break
                time.sleep(0.2)
        finally:
            again.kill()
            again.wait(10)
        after = _snapshot(run.url)
        assert after == rows  # the same rows as an uninterrupted erasure: nothing applied twice
        with run.sessions() as session:
            request = run.request(session)
            assert request.status == "completed", request.result
            assert request.steps[0].counts == counts  # the changes recorded once
        assert any(change["deleted"] or change["updated"] for change in _changed(run.before, after).values())
    finally:
        run.close()
        get_settings.cache_clear()  # before the environment is restored
