"""A worker process that kills itself (SIGKILL: no clean-up, like a power cut) at one boundary of a request step.

Usage: python tests/requests/kill_worker.py BOUNDARY jobs work --once. BOUNDARY is one of `BOUNDARIES` or `none`;
settings come from PRIVET_* variables, as for `privet` itself.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

BOUNDARIES = {
    "before_call": "the step is marked running; the company's database not yet touched",
    "before_intent": "the erasure's statements ran in the company's open transaction; nothing recorded anywhere",
    "before_commit": "the intent is recorded in Privet; the company's transaction is not committed",
    "after_commit": "the company's database committed; Privet has not recorded the outcome",
    "after_record": "the outcome is recorded and committed; the process dies before anything else",
}


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _patch(boundary: str) -> None:
    from privet.requests.execution import runner

    call, intent, run_step = runner._call, runner._write_intent, runner.run_step
    if boundary == "before_call":
        runner._call = lambda ctx, work: _die()
    elif boundary == "before_intent":
        runner._write_intent = lambda *args, **kwargs: _die()
    elif boundary == "before_commit":

        def written_then_die(*args, **kwargs):
            intent(*args, **kwargs)
            _die()

        runner._write_intent = written_then_die
    elif boundary == "after_commit":

        def committed_then_die(ctx, work):
            call(ctx, work)
            _die()

        runner._call = committed_then_die
    elif boundary == "after_record":

        def recorded_then_die(ctx, step_id):
            run_step(ctx, step_id)
            _die()

        runner.run_step = recorded_then_die
    elif boundary != "none":
        raise SystemExit(f"unknown boundary {boundary!r}")


def main() -> None:
    """Patch the boundary, then hand over to the real CLI."""
    from privet import cli

    _patch(sys.argv[1])
    sys.argv = ["privet", *sys.argv[2:]]
    cli.main()


if __name__ == "__main__":
    main()
