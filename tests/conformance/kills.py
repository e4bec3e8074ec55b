"""The conformance property `kill_resume`: an erasure whose worker dies at a step boundary, then resumes, ends with
the same rows and counts as one never interrupted (the person's rows erased, the counts equal to the rows that
changed, everyone else untouched).

The death is simulated in the process: `Killed` (a BaseException nothing in Privet catches) is raised at the
boundary, so the job stays `running` under its lease and an open company transaction is rolled back, as the server
does for a dead connection. `tests/requests/test_kill_boundaries.py` does the same with SIGKILL in a real worker
process on PostgreSQL and MariaDB.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import timedelta

from sqlalchemy import update

BOUNDARIES = ("before_call", "before_intent", "before_commit", "after_commit", "after_record")
IN_TESTS = ("before_commit", "after_commit")  # the two where the company's commit and Privet's record part ways


class Killed(BaseException):
    """Stands for the worker being killed at a boundary."""


@contextlib.contextmanager
def killed_at(boundary: str) -> Iterator[None]:
    """Patch the request runner so the first step dies at `boundary`."""
    from privet.requests.execution import runner

    call, intent, run_step = runner._call, runner._write_intent, runner.run_step
    fired = []

    def once() -> None:
        if not fired:
            fired.append(boundary)
            raise Killed(boundary)

    def before_call(ctx, work):
        once()
        return call(ctx, work)

    def before_intent(*args, **kwargs):
        once()
        return intent(*args, **kwargs)

    def before_commit(*args, **kwargs):
        intent(*args, **kwargs)
        once()

    def after_commit(ctx, work):
        result = call(ctx, work)
        once()
        return result

    def after_record(ctx, step_id):
        run_step(ctx, step_id)
        once()

    patch = {
        "before_call": ("_call", before_call),
        "before_intent": ("_write_intent", before_intent),
        "before_commit": ("_write_intent", before_commit),
        "after_commit": ("_call", after_commit),
        "after_record": ("run_step", after_record),
    }[boundary]
    original = getattr(runner, patch[0])
    setattr(runner, patch[0], patch[1])
    try:
        yield
    finally:
        setattr(runner, patch[0], original)
        assert fired, f"the erasure never reached {boundary}"


def erase_killed_at(privet, boundary: str, identity_type: str, identity: str):
    """File and verify an erasure, let its worker die at `boundary`, let the lease run out, resume; the Answer."""
    from privet.jobs.models import Job
    from privet.kit.clock import utcnow

    request_id = privet.verified("erasure", identity_type, identity)
    with killed_at(boundary), contextlib.suppress(Killed):
        privet.drain()
    with privet.session() as session:  # the dead worker's lease runs out
        session.execute(update(Job).where(Job.status == "running").values(lease_until=utcnow() - timedelta(seconds=1)))
    privet.drain()
    return privet.answer(request_id)
