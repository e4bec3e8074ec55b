"""The `privet` command. Each domain mounts its own sub-command group here."""

from __future__ import annotations

import sys

import typer

from privet.kit.errors import PrivetError

app = typer.Typer(help="Privet: privacy operations for a company's own systems.", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False)


def _mount() -> None:
    if app.registered_groups:
        return
    from privet.audit.cli import app as audit_app
    from privet.auth.cli import apikeys_app, users_app
    from privet.datamap.cli import app as datamap_app
    from privet.db.cli import app as db_app
    from privet.demo.cli import demo
    from privet.taxonomy.cli import app as taxonomy_app

    app.add_typer(db_app, name="db")
    app.add_typer(taxonomy_app, name="taxonomy")
    app.add_typer(datamap_app, name="datamap")
    app.add_typer(audit_app, name="audit")
    app.add_typer(users_app, name="users")
    app.add_typer(apikeys_app, name="apikeys")
    app.command("demo")(demo)


@app.command("serve")
def serve(host: str = typer.Option(None, help="Address to listen on (default: PRIVET_HOST)."),
          port: int = typer.Option(None, help="Port to listen on (default: PRIVET_PORT).")) -> None:
    """Serve the API, the privacy centre and the admin console."""
    import uvicorn

    from privet.db.migrate import require_current
    from privet.db.store import open_engine
    from privet.settings import get_settings

    settings = get_settings()
    engine = open_engine(settings)
    require_current(engine)  # fail before binding the port, with a clear message
    engine.dispose()
    typer.echo(f"Privet on http://{host or settings.host}:{port or settings.port}  (API docs at /docs)")
    uvicorn.run("privet.app:create_app", factory=True, host=host or settings.host, port=port or settings.port,
                workers=settings.workers, log_level=settings.log_level, access_log=False)


@app.command("init")
def init(demo: bool = typer.Option(False, "--demo", help="Also load the demo company when the store has none."),
         company: str = typer.Option(None, help="Demo company to load (keptek or zkteco).")) -> None:
    """Create or upgrade the store, create the first admin (password printed once), optionally load a demo."""
    from privet.auth.service import ensure_first_admin
    from privet.db import migrate
    from privet.db.store import open_engine, store_session
    from privet.kit.keys import master_secret
    from privet.settings import get_settings

    settings = get_settings()
    master_secret(settings, create=True)
    engine = open_engine(settings)
    try:
        migrate.current_revision(engine)
        migrate.upgrade(engine)
        with store_session(settings, engine=engine) as session:
            created = ensure_first_admin(session)
        if created:
            username, password = created
            typer.secho("First admin created. This password is shown once; change it after logging in:",
                        fg="yellow")
            typer.secho(f"  username: {username}\n  password: {password}", bold=True)
        if demo:
            from privet.demo.service import load_demo_if_empty

            message = load_demo_if_empty(settings, engine, company or settings.demo_company)
            typer.echo(message)
    finally:
        engine.dispose()


def main() -> None:
    """Entry point: user errors print one clear message and exit 2, never a stack trace."""
    _mount()
    try:
        app()
    except PrivetError as exc:
        typer.secho(f"error: {exc.render()}", fg="red", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
