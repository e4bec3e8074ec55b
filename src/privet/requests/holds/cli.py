"""`privet requests hold | release | holds`: legal holds that block erasure of a subject's data."""

from __future__ import annotations

import typer

from privet.kit.cliutil import cli_actor, console


def hold(
    subject_id: str = typer.Argument(..., help="The subject's id (`privet subjects lookup` finds it)."),
    reason: str = typer.Option(..., help="Why erasure must wait (no personal data)."),
    reference: str = typer.Option(None, help="Case number or the authority's letter."),
) -> None:
    """Place a legal hold on a subject: erasure of their data is blocked until it is released."""
    from privet.db.store import store_session
    from privet.requests.holds import service as holds

    with store_session() as session:
        placed = holds.place(session, subject_id=subject_id, reason=reason, reference=reference, actor=cli_actor())
        hold_id = placed.id
    typer.echo(f"hold {hold_id} placed on subject {subject_id}")


def release(hold_id: str = typer.Argument(..., help="The hold's id (see `privet requests holds`).")) -> None:
    """Release a legal hold; erasures it blocked run once no other hold remains."""
    from privet.db.store import store_session
    from privet.requests.holds import service as holds

    with store_session() as session:
        holds.release(session, hold_id, actor=cli_actor())
    typer.echo(f"hold {hold_id} released")


def list_holds(all_: bool = typer.Option(False, "--all", help="Include released holds.")) -> None:
    """List legal holds, newest first."""
    from rich.table import Table

    from privet.db.store import store_session
    from privet.requests.holds import service as holds

    table = Table(title="legal holds")
    for column in ("id", "subject", "reason", "reference", "placed", "released"):
        table.add_column(column)
    with store_session() as session:
        for h in holds.list_holds(session, active_only=not all_):
            table.add_row(
                h.id,
                h.subject_id,
                h.reason,
                h.reference or "-",
                f"{h.created_at:%Y-%m-%d} {h.created_by}",
                f"{h.released_at:%Y-%m-%d} {h.released_by}" if h.released_at else "-",
            )
    console().print(table)


def register(app: typer.Typer) -> None:
    """Add the hold commands to `privet requests`."""
    app.command("hold")(hold)
    app.command("release")(release)
    app.command("holds")(list_holds)
