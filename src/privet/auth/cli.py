"""`privet users` and `privet apikeys`: manage who may use Privet. Secrets are printed once."""

from __future__ import annotations

import sys
from datetime import datetime, timedelta

import typer

from privet.kit.cliutil import cli_actor as _actor

users_app = typer.Typer(help="Admin console users.", no_args_is_help=True)
apikeys_app = typer.Typer(help="API keys for services.", no_args_is_help=True)


def _read_password(from_stdin: bool) -> str | None:
    # stdin, not an argument: arguments end up in shell history and the process list
    if not from_stdin:
        return None
    return sys.stdin.readline().rstrip("\r\n")


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "-"


@users_app.command("create")
def create_user(
    username: str = typer.Argument(..., help="The login name: a short handle such as `li.wei`, not an e-mail."),
    role: str = typer.Option(..., help="admin, privacy_officer, agent or auditor."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from standard input instead of generating one."
    ),
) -> None:
    """Create a user; a generated password is printed once and must be changed at first login."""
    from privet.auth import service
    from privet.db.store import store_session

    password = _read_password(password_stdin)
    with store_session() as session:
        user, generated = service.create_user(session, username, role, password=password, actor=_actor())
        user_id = user.id
    typer.echo(f"created user {username} ({role}), id {user_id}")
    if generated:
        typer.secho("One-time password (shown only now; it must be changed at first login):", fg="yellow")
        typer.secho(f"  {generated}", bold=True)


@users_app.command("list")
def list_users() -> None:
    """List users with role, state and last login."""
    from privet.auth import service
    from privet.db.store import store_session

    with store_session() as session:
        rows = [
            (
                u.username,
                u.role,
                "active" if u.active else "inactive",
                "must change password" if u.must_change_password else "",
                _when(u.last_login_at),
            )
            for u in service.list_users(session)
        ]
    typer.echo(f"{'USERNAME':<24} {'ROLE':<16} {'STATE':<9} {'LAST LOGIN':<21} NOTE")
    for name, role, state, note, last in rows:
        typer.echo(f"{name:<24} {role:<16} {state:<9} {last:<21} {note}")


@users_app.command("set-role")
def set_role(
    username: str = typer.Argument(..., help="The user's username or id."),
    role: str = typer.Argument(..., help="admin, privacy_officer, agent or auditor."),
) -> None:
    """Change a user's role."""
    from privet.auth import service
    from privet.db.store import store_session

    with store_session() as session:
        service.set_role(session, service.find_user(session, username), role, actor=_actor())
    typer.echo(f"{username} is now {role}")


@users_app.command("deactivate")
def deactivate(username: str = typer.Argument(..., help="The user's username or id.")) -> None:
    """Deactivate a user and end their sessions (the user is kept for the audit record)."""
    from privet.auth import service
    from privet.db.store import store_session

    with store_session() as session:
        service.deactivate_user(session, service.find_user(session, username), actor=_actor())
    typer.echo(f"{username} is deactivated")


@users_app.command("unlock")
def unlock(username: str = typer.Argument(..., help="The user's username or id.")) -> None:
    """End a user's login lock (or wait) after failed logins, and forget those failures."""
    from privet.auth import logins, service
    from privet.db.store import store_session
    from privet.kit.crypto import Keyring
    from privet.settings import get_settings

    settings = get_settings()
    with store_session(settings) as session:
        user = service.find_user(session, username)
        was = logins.unlock(session, Keyring.from_settings(settings), settings, user, actor=_actor())
    if was is None:
        typer.echo(f"{username} had no failed logins on record; nothing to unlock")
    else:
        state = "locked" if was.locked else "waiting" if was.not_before else "not locked"
        typer.echo(f"{username} unlocked (was {state} after {was.failures} failed logins in a row)")


@users_app.command("reset-password")
def reset_password(
    username: str = typer.Argument(..., help="The user's username or id."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the new password from standard input instead of generating one."
    ),
) -> None:
    """Set a new one-time password (printed once when generated) and end the user's sessions."""
    from privet.auth import service
    from privet.db.store import store_session

    password = _read_password(password_stdin)
    with store_session() as session:
        generated = service.set_password(
            session, service.find_user(session, username), password, actor=_actor(), must_change=True
        )
    typer.echo(f"password of {username} reset; it must be changed at the next login")
    if generated:
        typer.secho("One-time password (shown only now):", fg="yellow")
        typer.secho(f"  {generated}", bold=True)


@apikeys_app.command("create")
def create_key(
    name: str = typer.Argument(..., help="What will use the key, e.g. `crm-sync`."),
    scope: list[str] = typer.Option(..., "--scope", help="A scope the key holds; repeat for several."),
    expires_in_days: int = typer.Option(None, min=1, help="Stop working after this many days (default: never)."),
) -> None:
    """Create an API key and print its secret once."""
    from privet.auth import service
    from privet.db.store import store_session
    from privet.kit.clock import utcnow

    expires = utcnow() + timedelta(days=expires_in_days) if expires_in_days else None
    with store_session() as session:
        key, secret = service.create_api_key(session, name, scope, actor=_actor(), expires_at=expires)
        prefix, scopes = key.prefix, key.scopes
    typer.echo(f"created API key {prefix} ({name}) with scopes: {', '.join(scopes)}")
    typer.secho("Secret (it cannot be shown again; store it in your service's secret store now):", fg="yellow")
    typer.secho(f"  {secret}", bold=True)


@apikeys_app.command("list")
def list_keys() -> None:
    """List API keys: prefix, name, scopes, last use and state. Secrets are never shown."""
    from privet.auth import service
    from privet.db.store import store_session
    from privet.kit.clock import utcnow

    now = utcnow()
    with store_session() as session:
        keys = service.list_api_keys(session)
    typer.echo(f"{'PREFIX':<12} {'NAME':<20} {'STATE':<8} {'LAST USED':<21} SCOPES")
    for k in keys:
        state = "revoked" if k.revoked_at else "expired" if k.expires_at and k.expires_at <= now else "active"
        typer.echo(f"{k.prefix:<12} {k.name[:20]:<20} {state:<8} {_when(k.last_used_at):<21} {','.join(k.scopes)}")


@apikeys_app.command("revoke")
def revoke_key(key: str = typer.Argument(..., help="The key's prefix (pk_...) or id.")) -> None:
    """Revoke an API key at once (this returns when no running server accepts it any more)."""
    from privet.auth import service
    from privet.db.store import store_session

    with store_session() as session:  # committed here: from now on every running server refuses the key
        revoked = service.revoke_api_key(session, key, actor=_actor())
        prefix = revoked.prefix
    typer.echo(f"revoked API key {prefix}")
