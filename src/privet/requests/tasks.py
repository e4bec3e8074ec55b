"""Job handlers of data-subject requests (imported by the job runtime through `privet.jobs.registry`).

Each takes ids in its payload and opens its own sessions; see `execution.runner` (steps), `execution.packaging`
(packages), `messages.notify` (messages to the requester) and `workflow` (the sweeps). The kinds are stored in
queued jobs' rows: they never change when code moves.
"""

from __future__ import annotations

import logging

from privet.jobs.context import JobContext
from privet.jobs.registry import handler, periodic
from privet.requests.execution import packaging, runner
from privet.requests.messages import notify
from privet.requests.workflow import service as workflow

log = logging.getLogger("privet.requests")
HOUR = 3600


@handler("requests.step")
def step_job(ctx: JobContext, payload: dict) -> None:
    """Run one step of a request against its datastore."""
    runner.run_step(ctx, payload["step_id"])


@handler("requests.package")
def package_job(ctx: JobContext, payload: dict) -> None:
    """Build and store an access package, complete the request, send the link."""
    packaging.run_package(ctx, payload["request_id"])


@handler(notify.MESSAGE_JOB)
def message_job(ctx: JobContext, payload: dict) -> None:
    """Send one message to a requester (retried with back-off while the mail server or gateway is down)."""
    notify.run_message(ctx, payload)


@periodic("requests.housekeeping", every_seconds=HOUR)
def housekeeping_job(ctx: JobContext, payload: dict) -> None:
    """Expire unverified requests past their window (purging them), purge expired packages and their rows."""
    from privet.requests.packages.service import purge_expired

    with ctx.session() as session:
        expired = workflow.expire_unverified(session)
        purged = purge_expired(session)
        dropped = packaging.drop_expired_rows(session)
    log.info("requests housekeeping: %d expired, %d packages purged, %d steps' rows dropped", expired, purged, dropped)


@periodic("requests.reminders", every_seconds=24 * HOUR)
def reminders_job(ctx: JobContext, payload: dict) -> None:
    """Remind the privacy contact of overdue and soon-due requests."""
    with ctx.session() as session:
        workflow.remind(session, ctx.settings)


@periodic("requests.backups", every_seconds=24 * HOUR)
def backups_job(ctx: JobContext, payload: dict) -> None:
    """Mark erasures whose backup date has passed and tell the privacy contact which backups must be gone (P22)."""
    from privet.requests.workflow.backups import remind

    with ctx.session() as session:
        remind(session, ctx.settings)
