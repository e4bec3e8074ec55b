"""`privet consent`: show, grant, withdraw, channel, decide, import, rebuild."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from privet.consent.decisions.cli import decide_command
from privet.kit.cliutil import cli_actor as _actor

if TYPE_CHECKING:
    from privet.kit.crypto import Keyring

app = typer.Typer(
    help="The consent ledger: show, grant, withdraw, channel preferences, decide, import, rebuild.",
    no_args_is_help=True,
)
app.command("decide")(decide_command)

TYPE = typer.Option(
    ...,
    "--type",
    help="Identity type: email, phone, user_id, device_serial, wechat_openid, ...; "
    "with show also visitor (a banner visitor's id, v-...)",
)
VALUE = typer.Option(..., "--value", help="The identity value (it is only used to find the subject).")


def _keyring() -> Keyring:
    from privet.kit.crypto import Keyring
    from privet.settings import get_settings

    return Keyring.from_settings(get_settings())


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else "-"


@app.command("show")
def show(identity_type: str = TYPE, value: str = VALUE) -> None:
    """Show a subject's current consent per purpose and the full ledger history."""
    from privet.consent.overview import overview
    from privet.consent.visitors import visitor_view
    from privet.db.store import store_session
    from privet.kit.errors import NotFound
    from privet.subjects.service import find_subject

    with store_session() as session:
        if identity_type == "visitor":
            view = visitor_view(session, value)
            if view["subject_id"] is None:
                typer.echo(f"banner visitor {value} (not signed in)")
            else:
                typer.echo(f"banner visitor {value}, signed in as subject {view['subject_id']}")
                view = overview(session, view["subject_id"])
        else:
            subject = find_subject(session, _keyring(), identity_type, value)
            if subject is None:
                raise NotFound(
                    "No subject holds this identity",
                    "check the type and value (a banner visitor: --type visitor), or grant a consent first",
                )
            view = overview(session, subject.id)
            typer.echo(f"subject {view['subject_id']}")
        typer.echo(f"{'PURPOSE':<34} {'STATE':<11} {'BASIS':<17} {'KIND':<13} SINCE")
        for s in view["states"]:
            typer.echo(f"{s.purpose:<34} {s.event:<11} {s.legal_basis:<17} {s.separate_kind or '-':<13} {_when(s.at)}")
        typer.echo("\nhistory:")
        for r in view["history"]:
            typer.echo(f"  {_when(r.at)}  {r.event:<10} {r.purpose:<34} {r.method:<8} record {r.id}")


def _record(
    event: str,
    identity_type: str,
    value: str,
    purpose: str,
    categories: list[str] | None,
    method: str,
    guardian_id: str | None,
    at: datetime | None,
) -> None:
    from privet.consent.ledger import service as ledger
    from privet.consent.ledger.checks import aware
    from privet.db.store import store_session
    from privet.subjects.service import get_or_create_subject

    keyring = _keyring()
    with store_session() as session:
        subject, created = get_or_create_subject(session, keyring, identity_type, value, actor=_actor())
        entry = ledger.record(
            session,
            subject_id=subject.id,
            purpose=purpose,
            event=event,
            method=method,
            actor=_actor(),
            categories=categories or None,
            guardian_id=guardian_id,
            at=aware(at.astimezone() if at and at.tzinfo is None else at),
        )
        line = (
            f"{'created subject ' + subject.id + '; ' if created else ''}recorded {entry.event} for "
            f"{entry.purpose} ({entry.legal_basis}{', ' + entry.separate_kind if entry.separate_kind else ''})"
            f", record {entry.id}"
        )
    typer.echo(line)


PURPOSE = typer.Option(..., "--purpose", help="A purpose key the applied data map declares.")
CATEGORIES = typer.Option(None, "--category", help="A data category covered (repeat for several).")
METHOD = typer.Option("staff", "--method", help="How it was collected: staff, form, api, guardian, banner, import.")
GUARDIAN = typer.Option(None, "--guardian-id", help="Subject id of the verified guardian giving a child's consent.")
AT = typer.Option(None, "--at", help="When the person acted (ISO 8601; default now; no zone = local time).")


@app.command("grant")
def grant(
    identity_type: str = TYPE,
    value: str = VALUE,
    purpose: str = PURPOSE,
    category: list[str] = CATEGORIES,
    method: str = METHOD,
    guardian_id: str = GUARDIAN,
    at: datetime = AT,
) -> None:
    """Record that a person gave consent to a purpose (the subject is created if unknown)."""
    _record("given", identity_type, value, purpose, category, method, guardian_id, at)


@app.command("withdraw")
def withdraw(
    identity_type: str = TYPE, value: str = VALUE, purpose: str = PURPOSE, method: str = METHOD, at: datetime = AT
) -> None:
    """Record that a person withdrew consent to a purpose (earlier records stay as they were)."""
    _record("withdrawn", identity_type, value, purpose, None, method, None, at)


@app.command("channel")
def channel(
    identity_type: str = TYPE,
    value: str = VALUE,
    purpose: str = PURPOSE,
    channel: str = typer.Option(..., "--channel", help="email, sms or push."),
    on: bool = typer.Option(..., "--on/--off", help="Whether the person wants these messages on this channel."),
) -> None:
    """Record a person's choice of marketing messages on one channel (service notices cannot be switched off)."""
    from privet.consent import channels
    from privet.db.store import store_session
    from privet.kit.errors import NotFound
    from privet.subjects.service import find_subject

    with store_session() as session:
        subject = find_subject(session, _keyring(), identity_type, value)
        if subject is None:
            raise NotFound("No subject holds this identity", "check the type and value")
        channels.set_preference(session, subject.id, purpose, channel, on, actor=_actor())
    typer.echo(f"{purpose} by {channel}: {'on' if on else 'off'}")


@app.command("import")
def import_(
    file: Path = typer.Argument(..., help="CSV or JSON-lines export of another consent tool."),
    fmt: str = typer.Option(None, "--format", help="csv or jsonl (default: from the file name)."),
    method: str = typer.Option("import", "--method", help="Collection method recorded for rows that name none."),
    skip_invalid: bool = typer.Option(
        False, "--skip-invalid", help="Import the valid rows and report the bad ones, instead of nothing."
    ),
) -> None:
    """Import consent records: columns identity_type, identity, purpose, event, at, and optional method,
    categories (;-separated), notice_version, jurisdiction. All or nothing unless --skip-invalid."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from privet.consent.ledger.importer import import_records
    from privet.db.store import store_session

    total = _count_lines(file)
    with (
        Progress(
            TextColumn("importing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), transient=True
        ) as bar,
        store_session() as session,
    ):
        task = bar.add_task("import", total=total)
        report = import_records(
            session,
            _keyring(),
            file,
            fmt=fmt,
            method=method,
            skip_invalid=skip_invalid,
            actor=_actor(),
            progress=lambda done: bar.update(task, completed=done),
        )
    typer.echo(f"imported {report.imported} of {report.rows} rows; {report.subjects_created} new subjects")
    if report.skipped:
        typer.secho(f"skipped {report.skipped} invalid rows:", fg="yellow")
        for problem in report.problems:
            typer.echo(f"  {problem.render()}")


def _count_lines(path: Path) -> int | None:
    try:
        with path.open("rb") as handle:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
    except OSError:
        return None  # the importer says what is wrong with the path


@app.command("rebuild")
def rebuild(batch: int = typer.Option(100_000, "--batch", help="Ledger records folded per statement.")) -> None:
    """Rebuild the current-state projection exactly from the ledger."""
    from privet.consent.ledger import projection
    from privet.db.store import store_session

    with store_session() as session:
        rows = projection.rebuild(session, batch=batch, actor=_actor())
    typer.echo(f"rebuilt the projection: {rows} current states")
