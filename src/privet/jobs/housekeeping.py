"""Built-in recurring job: forget finished jobs after a while so the table stays small."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import delete

from privet.jobs.models import Job
from privet.jobs.registry import periodic
from privet.kit.clock import utcnow

if TYPE_CHECKING:
    from privet.jobs.context import JobContext

KEEP_DONE_DAYS = 30  # failed jobs stay until someone retries or looks at them


@periodic("jobs.purge_done", every_seconds=24 * 3600)
def purge_done(ctx: JobContext, payload: dict) -> None:
    """Delete jobs that finished successfully more than KEEP_DONE_DAYS ago."""
    cutoff = utcnow() - timedelta(days=KEEP_DONE_DAYS)
    with ctx.session() as session:
        session.execute(
            delete(Job)
            .where(Job.status == "done", Job.finished_at < cutoff)
            .execution_options(synchronize_session=False)
        )
