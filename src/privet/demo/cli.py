"""`privet demo`: load a demo company (customer databases and data map) into Privet."""

from __future__ import annotations

import typer

from privet.demo.service import DEFAULT_CUSTOMERS


def demo(
    company: str = typer.Option("keptek", "--company", help="Demo company to load: keptek or zkteco."),
    datastore_url: str | None = typer.Option(
        None,
        "--datastore-url",
        help="One SQLAlchemy URL (SQLite, PostgreSQL, MariaDB) for all of the company's datastores. "
        "Default: one SQLite file per datastore under <data_dir>/demo/<company>/.",
    ),
    customers: int = typer.Option(
        DEFAULT_CUSTOMERS, "--customers", min=1, help="Number of customers to generate (rows grow linearly with it)."
    ),
    reset: bool = typer.Option(False, "--reset", help="Drop and regenerate demo tables that already hold data."),
) -> None:
    """Load a demo company: generate its customer databases, register their secrets, apply its data map."""
    from privet.db.store import open_engine
    from privet.demo.generator import company as known_company
    from privet.demo.service import load_demo
    from privet.settings import get_settings

    known_company(company)  # an unknown name fails before anything is opened or created
    settings = get_settings()
    engine = open_engine(settings)
    try:
        typer.echo(load_demo(settings, engine, company, datastore_url=datastore_url, customers=customers, reset=reset))
    finally:
        engine.dispose()
