"""`privet webhooks`: register endpoints for consent changes, watch deliveries, run a delivery worker."""

from __future__ import annotations

import time
from datetime import datetime

import typer

from privet.kit.cliutil import cli_actor as _actor

app = typer.Typer(help="Webhooks for consent changes: add, list, deliver.", no_args_is_help=True)


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else "-"


@app.command("add")
def add(
    url: str = typer.Argument(..., help="The receiver's https URL (plain http only for loopback hosts)."),
    event: list[str] = typer.Option(
        None, "--event", help="An event to send (default: consent.changed); repeat for several."
    ),
) -> None:
    """Register an endpoint; its signing secret is printed once."""
    from privet.consent.webhooks import service as webhooks
    from privet.db.store import store_session
    from privet.kit.crypto import Keyring
    from privet.settings import get_settings

    keyring = Keyring.from_settings(get_settings())
    with store_session() as session:
        endpoint, secret = webhooks.add_endpoint(session, keyring, url=url, events=event or None, actor=_actor())
        endpoint_id, events = endpoint.id, endpoint.events
    typer.echo(f"added webhook endpoint {endpoint_id} for {', '.join(events)}")
    typer.secho("Signing secret (it cannot be shown again; give it to the receiver now):", fg="yellow")
    typer.secho(f"  {secret}", bold=True)


@app.command("list")
def list_endpoints() -> None:
    """List endpoints with their state and events (secrets are never shown)."""
    from privet.consent.webhooks import service as webhooks
    from privet.db.store import store_session

    with store_session() as session:
        rows = [
            (e.id, "active" if e.active else "inactive", ",".join(e.events), e.url)
            for e in webhooks.list_endpoints(session)
        ]
    typer.echo(f"{'ID':<28} {'STATE':<9} {'EVENTS':<18} URL")
    for endpoint_id, state, events, url in rows:
        typer.echo(f"{endpoint_id:<28} {state:<9} {events:<18} {url}")


@app.command("deactivate")
def deactivate(endpoint_id: str = typer.Argument(..., help="The endpoint's id (see `privet webhooks list`).")) -> None:
    """Stop sending to an endpoint; its pending deliveries are cancelled."""
    from privet.consent.webhooks import service as webhooks
    from privet.db.store import store_session

    with store_session() as session:
        webhooks.deactivate_endpoint(session, endpoint_id, actor=_actor())
    typer.echo(f"deactivated webhook endpoint {endpoint_id}")


@app.command("deliveries")
def deliveries(
    status: str = typer.Option(None, help="Only this status: pending, delivered, failed or cancelled."),
    endpoint: str = typer.Option(None, help="Only this endpoint's deliveries (its id)."),
    limit: int = typer.Option(50, min=1, max=1000, help="Show at most this many, newest first."),
) -> None:
    """List deliveries with attempts, next try and last error."""
    from privet.consent.webhooks import service as webhooks
    from privet.db.store import store_session

    with store_session() as session:
        rows = [
            (
                d.id,
                d.status,
                d.attempts,
                _when(d.next_attempt_at if d.status == "pending" else d.delivered_at),
                d.payload.get("purpose", ""),
                d.last_error or "",
            )
            for d in webhooks.list_deliveries(session, status=status, endpoint_id=endpoint, limit=limit)
        ]
    typer.echo(f"{'ID':<28} {'STATUS':<10} {'TRIES':>5} {'NEXT/DONE':<20} {'PURPOSE':<20} LAST ERROR")
    for delivery_id, state, attempts, when, purpose, error in rows:
        typer.echo(f"{delivery_id:<28} {state:<10} {attempts:>5} {when:<20} {purpose[:20]:<20} {error}")


@app.command("redeliver")
def redeliver(
    delivery_id: str = typer.Argument(..., help="A failed delivery's id (see `deliveries --status failed`)."),
) -> None:
    """Queue a failed delivery again with fresh attempts."""
    from privet.consent.webhooks import service as webhooks
    from privet.db.store import store_session

    with store_session() as session:
        webhooks.redeliver(session, delivery_id, actor=_actor())
    typer.echo(f"delivery {delivery_id} is queued again")


@app.command("deliver")
def deliver(
    once: bool = typer.Option(False, "--once", help="Deliver what is due now, then exit."),
    interval: float = typer.Option(1.0, min=0.05, help="Seconds to wait between rounds when idle."),
) -> None:
    """Run a delivery worker (several may run side by side on PostgreSQL); Ctrl-C stops it."""
    from privet.consent.webhooks.delivery import deliver_due
    from privet.db.engine import make_sessionmaker
    from privet.db.migrate import require_current
    from privet.db.store import open_engine
    from privet.kit.crypto import Keyring
    from privet.settings import get_settings

    settings = get_settings()
    keyring, engine = Keyring.from_settings(settings), open_engine(settings)
    try:
        require_current(engine)
        factory = make_sessionmaker(engine)
        while True:
            report = deliver_due(factory, keyring, settings)
            if report.attempted or once:
                typer.echo(
                    f"attempted {report.attempted}: delivered {report.delivered}, retrying "
                    f"{report.retried}, failed {report.failed}"
                )
            if once:
                break
            if report.attempted < 100:  # a full round means more is waiting: go on at once
                time.sleep(interval)
    except KeyboardInterrupt:
        typer.echo("stopped")
    finally:
        engine.dispose()
