"""Background jobs: list, retry, run a worker (inline) or a Celery worker."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from privet.kit.cliutil import cli_actor

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy import Engine
    from sqlalchemy.orm import Session, sessionmaker

    from privet.kit.crypto import Keyring
    from privet.settings import Settings

app = typer.Typer(help="Background jobs: list, retry, run a worker (inline) or a Celery worker.", no_args_is_help=True)


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else "-"


@app.command("list")
def list_jobs(
    status: str = typer.Option(None, help="Only this status: queued, running, done or failed."),
    kind: str = typer.Option(None, help="Only jobs of this kind."),
    limit: int = typer.Option(50, min=1, max=1000, help="Show at most this many, newest first."),
) -> None:
    """List jobs with their state, attempts, next run and last error."""
    from privet.db.store import store_session
    from privet.jobs import service

    with store_session() as session:
        jobs, total = service.list_jobs(session, status=status, kind=kind, limit=limit)
        rows = [
            (
                j.id,
                j.kind,
                j.status,
                f"{j.attempts}/{j.max_attempts}",
                _when(j.run_at if j.status == "queued" else j.finished_at or j.lease_until),
                j.last_error or "",
            )
            for j in jobs
        ]
    typer.echo(f"{'ID':<28} {'KIND':<28} {'STATUS':<8} {'TRIES':>5} {'NEXT/DONE':<20} LAST ERROR")
    for job_id, job_kind, state, tries, when, error in rows:
        typer.echo(f"{job_id:<28} {job_kind[:28]:<28} {state:<8} {tries:>5} {when:<20} {error[:100]}")
    if total > len(rows):
        typer.echo(f"({len(rows)} of {total}; raise --limit or filter by --status / --kind)")


@app.command("retry")
def retry(
    job_id: str = typer.Argument(..., help="A failed job's id (see `privet jobs list --status failed`)."),
) -> None:
    """Queue a failed job again with fresh attempts."""
    from privet.db.store import store_session
    from privet.jobs import service

    with store_session() as session:
        service.retry_job(session, job_id, actor=cli_actor())
    typer.echo(f"job {job_id} is queued again")


def _open_runtime() -> tuple[Settings, Engine, sessionmaker[Session], Keyring]:
    from privet.db.engine import make_sessionmaker
    from privet.db.migrate import require_current
    from privet.db.store import open_engine
    from privet.kit.crypto import Keyring
    from privet.settings import get_settings

    settings = get_settings()
    engine = open_engine(settings)
    try:
        require_current(engine)
        keyring = Keyring.from_settings(settings)
    except BaseException:
        engine.dispose()
        raise
    return settings, engine, make_sessionmaker(engine), keyring


@app.command("work")
def work(
    threads: int = typer.Option(None, min=1, max=64, help="Worker threads (default: PRIVET_JOBS_THREADS, at least 1)."),
    once: bool = typer.Option(False, "--once", help="Run the jobs due now until none is left, then exit."),
) -> None:
    """Run inline job workers in the foreground until Ctrl-C (several may run, on several machines)."""
    from privet.db.engine import session_scope
    from privet.jobs import dispatch, inline, service

    settings, engine, factory, keyring = _open_runtime()
    previous = dispatch.configure(settings)
    try:
        if once:
            with session_scope(factory) as session:
                service.schedule_due(session)
            ran = service.run_until_idle(factory, settings, keyring)
            typer.echo(f"ran {ran} job(s)")
            return
        count = threads or max(1, settings.jobs_threads)
        typer.echo(f"running {count} job worker thread(s); Ctrl-C stops them after the jobs in flight")
        inline.work(factory, settings, keyring, count)
        typer.echo("stopped")
    finally:
        dispatch.configure(previous)
        engine.dispose()


@app.command("celery")
def celery(
    concurrency: int = typer.Option(4, min=1, max=512, help="Jobs this worker runs at the same time."),
    pool: str = typer.Option("prefork", help="Celery pool: prefork (processes), threads or solo."),
    loglevel: str = typer.Option("info", help="Celery log level: debug, info, warning or error."),
) -> None:
    """Run a Celery worker for the configured broker (PRIVET_JOBS_BACKEND=celery, PRIVET_JOBS_BROKER_URL)."""
    from privet.jobs import broker, celery_backend
    from privet.kit.errors import InvalidInput

    if pool not in ("prefork", "threads", "solo"):
        raise InvalidInput(f"Unknown pool {pool!r}", "use prefork, threads or solo")
    from privet.settings import get_settings

    broker.check_configured(get_settings())
    settings, engine, _factory, _keyring = _open_runtime()  # fail early: store reachable and current
    engine.dispose()
    celery_backend.run_worker(settings, concurrency=concurrency, pool=pool, loglevel=loglevel)
