"""`privet db ...`: migrations of Privet's own store."""

from __future__ import annotations

import typer

from privet.db import migrate
from privet.db.store import open_engine
from privet.settings import get_settings

app = typer.Typer(help="Privet's own store: migrations and status.", no_args_is_help=True)


@app.command("upgrade")
def upgrade(revision: str = typer.Option("head", help="Migration to upgrade to (default: the newest).")) -> None:
    """Apply Alembic migrations to the store (creates it when empty)."""
    settings = get_settings()
    engine = open_engine(settings)
    try:
        migrate.current_revision(engine)  # clear error when unreachable
        migrate.upgrade(engine, revision, settings)
        typer.echo(f"store at migration {migrate.current_revision(engine)}")
    finally:
        engine.dispose()


@app.command("current")
def current() -> None:
    """Show the store's migration and the newest one this Privet ships."""
    engine = open_engine()
    try:
        typer.echo(f"store: {migrate.current_revision(engine) or 'empty'}  code: {migrate.head_revision()}")
    finally:
        engine.dispose()
