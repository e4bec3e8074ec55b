"""A worker process for the kill-and-resume tests: registers the test handlers, then runs `privet jobs ...`.

Usage: python tests/jobs/worker.py QUEUE jobs work|celery [options]. Settings come from PRIVET_* variables,
as for `privet` itself; QUEUE names the Celery queue so parallel test runs sharing a broker stay apart.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def main() -> None:
    """Register the test handlers and hand over to the real CLI."""
    import tests.jobs.handlers  # noqa: F401 - registers test.steps and friends
    from privet import cli
    from privet.jobs import broker

    broker.QUEUE = sys.argv[1]
    sys.argv = ["privet", *sys.argv[2:]]
    cli.main()


if __name__ == "__main__":
    main()
