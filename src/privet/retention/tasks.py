"""The daily retention sweep as a recurring job (inline threads or Celery)."""

from __future__ import annotations

from privet.jobs.registry import handler, periodic

DAY = 86_400


@periodic("retention.sweep", every_seconds=DAY)
def sweep_daily(ctx, payload: dict) -> dict:  # noqa: ANN001 - a jobs.service.JobContext
    """Resume an unfinished run, else start one (nothing at all when the data map has no rules); the run's own
    record says what it did."""
    from privet.retention import service
    from privet.retention.rules import load_rules

    with ctx.sessionmaker() as session:
        if not load_rules(session):
            return {"run": None, "status": "no rules"}
        resume = service.unfinished(session) is not None
    done = service.run(ctx.sessionmaker, ctx.settings, ctx.keyring, actor="job:retention", resume=resume)
    return {"run": done.id, "status": done.status}


@handler("retention.run")
def run_recorded(ctx, payload: dict) -> dict:  # noqa: ANN001 - a jobs.service.JobContext
    """Sweep (or, for a dry run, count) the run `payload["run_id"]` started or resumed from the console; a job
    taken up again after its worker was killed continues where the run's record stopped."""
    from privet.retention import service

    with ctx.sessionmaker() as session:
        actor = service.get_run(session, payload["run_id"]).actor
    done = service.run(ctx.sessionmaker, ctx.settings, ctx.keyring, actor=actor, run_id=payload["run_id"])
    return {"run": done.id, "status": done.status}


@periodic("retention.children", every_seconds=DAY)
def children_daily(ctx, payload: dict) -> dict:  # noqa: ANN001 - a jobs.service.JobContext
    """The children sweep (P27), daily."""
    from privet.retention import children

    with ctx.session() as session:
        return children.sweep(session, ctx.keyring, ctx.settings, actor="job:retention")
