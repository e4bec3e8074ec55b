"""Starting and killing real worker processes for the job tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import select

from privet.jobs.models import Job
from tests.jobs.conftest import SharedStore
from tests.jobs.handlers import progress

WORKER = Path(__file__).with_name("worker.py")


class WorkerProcess:
    """`python tests/jobs/worker.py QUEUE jobs ...` in its own process group, its output in a log file."""

    def __init__(self, log: Path, queue: str, env: dict[str, str], *args: str) -> None:
        self.log = log
        full_env = {**{k: v for k, v in os.environ.items() if not k.startswith("PRIVET_")}, **env}
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, str(WORKER), queue, *args],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=full_env,
                cwd=log.parent,
                start_new_session=True,
            )

    def kill(self) -> None:
        """SIGKILL the whole group (a prefork pool's children too): no clean-up runs, like a power cut."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:  # already gone
            pass
        self.process.wait(10)

    def stop(self) -> None:
        """SIGTERM, the way a service manager stops it, then make sure it is gone."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()

    def output(self) -> str:
        """The last lines the worker wrote (for failure messages)."""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-40:])


def job_status(store: SharedStore, job_id: str) -> tuple[str, int]:
    """(status, attempts) of a job as committed."""
    with store.sessionmaker() as session:
        return tuple(session.execute(select(Job.status, Job.attempts).where(Job.id == job_id)).one())


def steps_of(store: SharedStore, job_id: str) -> list[tuple[int, int]]:
    """(step, attempt) rows `test.steps` committed for a job."""
    return [(step, attempt) for job, step, attempt in progress(store.engine) if job == job_id]


def wait_for(condition, what: str, worker: WorkerProcess, seconds: float = 40.0) -> None:
    """Poll until `condition()`; fail with the worker's output when it never happens or the worker died."""
    deadline = time.monotonic() + seconds
    while not condition():
        if worker.process.poll() is not None:
            raise AssertionError(f"worker exited ({worker.process.returncode}) before {what}:\n{worker.output()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}:\n{worker.output()}")
        time.sleep(0.05)
