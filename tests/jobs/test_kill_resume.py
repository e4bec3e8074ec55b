"""`privet jobs work` killed with SIGKILL mid-job: restarted, it finishes the job, each step exactly once."""

from __future__ import annotations

from pathlib import Path

import pytest

from privet.db.engine import session_scope
from privet.jobs import dispatch
from privet.jobs.service import enqueue
from privet.settings import Settings
from tests.jobs.conftest import SharedStore
from tests.jobs.processes import WorkerProcess, job_status, steps_of, wait_for


@pytest.mark.parametrize("shared_store", ["sqlite"], indirect=True)
def test_killed_inline_worker_resumes_after_restart(
    shared_store: SharedStore, settings: Settings, tmp_path: Path
) -> None:
    with session_scope(shared_store.sessionmaker) as session:
        session.info[dispatch.SETTINGS_KEY] = settings
        job_id = enqueue(session, "test.steps", {"steps": 2, "sleep": 1.0}).id
    env, log = shared_store.env(settings), tmp_path / "worker.log"
    first = WorkerProcess(log, "unused", env, "jobs", "work", "--threads", "2")
    try:
        wait_for(lambda: steps_of(shared_store, job_id), "step 1", first)
    finally:
        first.kill()  # during step 2's work, before it commits
    assert steps_of(shared_store, job_id) == [(1, 1)]
    assert job_status(shared_store, job_id) == ("running", 1)  # the dead worker still holds the lease

    second = WorkerProcess(log, "unused", env, "jobs", "work", "--threads", "2")
    try:
        wait_for(lambda: job_status(shared_store, job_id)[0] == "done", "the job to finish", second)
    finally:
        second.stop()
    assert job_status(shared_store, job_id) == ("done", 2)
    assert [step for step, _ in steps_of(shared_store, job_id)] == [1, 2]  # each step once
    assert steps_of(shared_store, job_id)[-1] == (2, 2)  # resumed on the second attempt, not restarted
    assert second.process.returncode == 0 and "stopped" in second.output()
