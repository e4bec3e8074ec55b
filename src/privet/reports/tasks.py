"""Recurring job: draft impact assessments for data map activities that need one (PIPL Art 55).

Registered when `privet.reports.tasks` is listed in `privet.jobs.registry.HANDLER_MODULES`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from privet.jobs.registry import periodic

if TYPE_CHECKING:
    from privet.jobs.context import JobContext

HOUR = 3_600


@periodic("reports.pia_drafts", every_seconds=HOUR)
def pia_drafts_hourly(ctx: JobContext, payload: dict) -> dict:
    """Open a draft for each activity of the applied data map with an Art 55 trigger and no current assessment."""
    from privet.reports import pia

    with ctx.session() as session:
        created = pia.sync_drafts(session, actor="job:reports")
        return {"drafted": len(created)}
