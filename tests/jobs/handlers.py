"""Handlers used by the job tests: in-process calls are recorded in CALLS, cross-process progress in the store."""

from __future__ import annotations

import threading
import time

from sqlalchemy import Engine, text

from privet.jobs.registry import handler, periodic
from privet.jobs.service import Retry

PROGRESS = "test_job_progress"
CALLS: list[tuple[str, int]] = []  # (job id, attempt) of every call in this process
_calls_lock = threading.Lock()


def create_progress_table(engine: Engine) -> None:
    """The table `test.steps` records its steps in (no unique key, so a repeated step would show)."""
    with engine.begin() as conn:
        conn.execute(
            text(
                f"CREATE TABLE {PROGRESS} (job_id VARCHAR(32) NOT NULL, step INTEGER NOT NULL, "
                "attempt INTEGER NOT NULL, worker VARCHAR(120) NOT NULL)"
            )
        )


def progress(engine: Engine) -> list[tuple[str, int, int]]:
    """(job id, step, attempt) rows, in step order."""
    with engine.connect() as conn:
        return [
            tuple(row)
            for row in conn.execute(
                text(f"SELECT job_id, step, attempt FROM {PROGRESS} ORDER BY job_id, step, attempt")
            )
        ]


def _called(ctx) -> None:
    with _calls_lock:
        CALLS.append((ctx.job_id, ctx.attempt))


@handler("test.record")
def record(ctx, payload: dict) -> None:
    """Note the call (optionally pausing first, to keep concurrent workers busy)."""
    time.sleep(float(payload.get("sleep", 0)))
    _called(ctx)


@handler("test.fail")
def fail(ctx, payload: dict) -> None:
    """Fail until attempt `succeed_on` (never, without it)."""
    _called(ctx)
    if ctx.attempt < int(payload.get("succeed_on", 10**6)):
        raise ValueError("datastore crm is down")


@handler("test.wait")
def wait(ctx, payload: dict) -> None:
    """Wait for something `times` times, then finish."""
    _called(ctx)
    if len([c for c in CALLS if c[0] == ctx.job_id]) <= int(payload.get("times", 1)):
        raise Retry(float(payload.get("after", 30)), "waiting for the callback")


@handler("test.enqueue_child")
def enqueue_child(ctx, payload: dict) -> None:
    """Enqueue another job from inside a job."""
    from privet.jobs.service import enqueue

    _called(ctx)
    with ctx.session() as session:
        enqueue(session, "test.record", {"parent": ctx.job_id})


@handler("test.steps")
def steps(ctx, payload: dict) -> None:
    """Three resumable steps: each one sleeps, then commits its progress row; steps already recorded are skipped."""
    for step in range(1, int(payload.get("steps", 3)) + 1):
        with ctx.session() as session:
            done = session.execute(
                text(f"SELECT 1 FROM {PROGRESS} WHERE job_id = :job AND step = :step"),
                {"job": ctx.job_id, "step": step},
            ).first()
            if done:
                continue
            time.sleep(float(payload.get("sleep", 0)))
            session.execute(
                text(f"INSERT INTO {PROGRESS} (job_id, step, attempt, worker) VALUES (:job, :step, :attempt, :worker)"),
                {"job": ctx.job_id, "step": step, "attempt": ctx.attempt, "worker": ctx.worker},
            )


@periodic("test.tick", every_seconds=60)
def tick(ctx, payload: dict) -> None:
    """A recurring job."""
    _called(ctx)
