"""The `privet` command. Each domain mounts its own sub-command group here."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import typer

from privet.kit.errors import PrivetError

if TYPE_CHECKING:
    from privet.settings import Settings

app = typer.Typer(
    help="Privet: privacy operations for a company's own systems.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


# Sub-command groups: name -> (module, attribute). Imported only when used, so `privet serve` starts fast.
GROUPS = {
    "db": ("privet.db.cli", "app"),
    "taxonomy": ("privet.taxonomy.cli", "app"),
    "datamap": ("privet.datamap.cli", "app"),
    "subjects": ("privet.subjects.cli", "app"),
    "notices": ("privet.notices.cli", "app"),
    "consent": ("privet.consent.cli", "app"),
    "campaigns": ("privet.consent.campaigns.cli", "app"),
    "webhooks": ("privet.consent.webhooks.cli", "app"),
    "audit": ("privet.audit.cli", "app"),
    "users": ("privet.auth.cli", "users_app"),
    "apikeys": ("privet.auth.cli", "apikeys_app"),
    "requests": ("privet.requests.cli", "app"),
    "tasks": ("privet.requests.manual.cli", "app"),
    "jobs": ("privet.jobs.cli", "app"),
    "retention": ("privet.retention.cli", "app"),
    "registers": ("privet.registers.cli", "app"),
    "incidents": ("privet.registers.incidents_cli", "app"),
    "report": ("privet.reports.cli", "app"),
}


def _mount(only: str | None = None) -> None:
    """Attach the sub-command groups (all of them, or just the one being run)."""
    import importlib

    mounted = {group.name for group in app.registered_groups}
    for name, (module, attr) in GROUPS.items():
        if name not in mounted and only in (None, name):
            app.add_typer(getattr(importlib.import_module(module), attr), name=name)
    if only in (None, "demo") and not any(cmd.name == "demo" for cmd in app.registered_commands):
        from privet.demo.cli import demo

        app.command("demo")(demo)


@app.command("serve")
def serve(
    host: str = typer.Option(None, help="Address to listen on (default: PRIVET_HOST)."),
    port: int = typer.Option(None, help="Port to listen on (default: PRIVET_PORT)."),
) -> None:
    """Serve the API, the privacy centre and the admin console."""
    import uvicorn

    from privet.db.migrate import require_current
    from privet.db.store import open_engine
    from privet.settings import get_settings

    settings = get_settings()
    engine = open_engine(settings)
    require_current(engine)  # fail before binding the port, with a clear message
    engine.dispose()
    _warn_about_senders(settings)
    typer.echo(f"Privet on http://{host or settings.host}:{port or settings.port}  (API docs at /docs)")
    # proxy_headers off: uvicorn would believe X-Forwarded-For from 127.0.0.1; PRIVET_TRUSTED_PROXIES decides instead
    uvicorn.run(
        "privet.app:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=settings.workers,
        log_level=settings.log_level,
        access_log=False,
        proxy_headers=False,
    )


def _warn_about_senders(settings: Settings) -> None:
    """Say loudly at start-up what subjects cannot receive: no sender is assumed (see privet.subjects.senders)."""
    from privet.subjects.senders import KINDS, cannot_deliver, sender_kind

    problems = {channel: cannot_deliver(channel, settings) for channel in KINDS}
    for channel, why in problems.items():
        if why:
            typer.secho(
                f"WARNING: one-time codes cannot be delivered by {channel}: {why}", fg="red", bold=True, err=True
            )
        elif sender_kind(channel, settings) == "console":
            typer.secho(
                f"WARNING: {channel} codes and messages are printed to standard output (console sender): "
                "for development only",
                fg="yellow",
                bold=True,
                err=True,
            )
    if all(problems.values()):
        typer.secho(
            "WARNING: no sender is configured, so subjects cannot verify by code and /readyz answers 503; "
            "set PRIVET_MAIL_SENDER=smtp (and PRIVET_SMTP_*) or PRIVET_SMS_SENDER=http "
            "(and PRIVET_SMS_GATEWAY_URL)",
            fg="red",
            bold=True,
            err=True,
        )


@app.command("init")
def init(
    demo: bool = typer.Option(False, "--demo", help="Also load the demo company when the store has none."),
    company: str = typer.Option(None, help="Demo company to load (keptek or zkteco)."),
) -> None:
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
        migrate.upgrade(engine, settings=settings)  # 0008 seals an existing audit chain with the key
        with store_session(settings, engine=engine) as session:
            created = ensure_first_admin(session)
        if created:
            username, password = created
            typer.secho("First admin created. This password is shown once; change it after logging in:", fg="yellow")
            typer.secho(f"  username: {username}\n  password: {password}", bold=True)
        if demo:
            from privet.demo.service import load_demo_if_empty

            message = load_demo_if_empty(settings, engine, company or settings.demo_company)
            typer.echo(message)
    finally:
        engine.dispose()


def main() -> None:
    """Entry point: user errors print one clear message and exit 2, never a stack trace."""
    first = next((arg for arg in sys.argv[1:] if not arg.startswith("-")), None)
    _mount(first if first in GROUPS or first in {"serve", "init", "demo"} else None)
    try:
        app()
    except PrivetError as exc:
        typer.secho(f"error: {exc.render()}", fg="red", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
