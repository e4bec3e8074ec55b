"""`privet report crossborder record | list | status | check` (P29)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from privet.kit.cliutil import cli_actor

app = typer.Typer(
    help="Cross-border transfers: the register, the yearly PIPL thresholds, the consent check.", no_args_is_help=True
)


def _ids(path: Path | None) -> list[str] | None:
    """Subject ids, one a line (blank lines and # comments skipped)."""
    if path is None:
        return None
    from privet.kit.errors import InvalidInput

    if not path.is_file():
        raise InvalidInput(f"No such file: {path}", "give a text file with one Privet subject id a line")
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


@app.command("record")
def record(
    destination: str = typer.Option(..., "--destination", help="Region the data goes to (ISO 3166, EU, EEA)."),
    mechanism: str | None = typer.Option(
        None,
        "--mechanism",
        help="standard_contract, certification, security_assessment, exemption, adequacy, sccs or bcr (required).",
    ),
    recipient: str = typer.Option(..., "--recipient", help="Recipient key or organisation name."),
    category: list[str] = typer.Option(..., "--category", help="Data category key carried (repeatable)."),
    subjects: int | None = typer.Option(None, "--subjects", min=1, help="Number of people (when ids are not given)."),
    sensitive_subjects: int | None = typer.Option(
        None,
        "--sensitive-subjects",
        min=0,
        help="How many of them with sensitive data (default: all when a category is sensitive).",
    ),
    subject_ids: Path | None = typer.Option(
        None,
        "--subject-ids",
        help="File of Privet subject ids, one a line: checked for separate cross-border consent, counted as distinct.",
    ),
    activity: str | None = typer.Option(None, "--activity", help="Processing activity key of the data map."),
    purpose: str | None = typer.Option(None, "--purpose", help="Purpose key (default: the activity's)."),
    origin: str | None = typer.Option(None, "--origin", help="Region the data leaves (default: the organisation's)."),
    reference: str | None = typer.Option(
        None, "--mechanism-reference", help="Filing number, certificate or approval of the mechanism."
    ),
    important_data: bool = typer.Option(False, "--important-data", help="The transfer includes important data."),
    at: str | None = typer.Option(None, "--at", help="When it happened, ISO 8601 with zone (default now)."),
) -> None:
    """Record a transfer; refused without a mechanism; people without separate consent are left out."""
    from privet.db.store import store_session
    from privet.registers import crossborder
    from privet.registers.incidents_cli import parse_time

    with store_session() as session:
        result = crossborder.record_transfer(
            session,
            actor=cli_actor(),
            destination=destination,
            mechanism=mechanism,
            recipient=recipient,
            categories=category,
            subject_count=subjects,
            sensitive_subject_count=sensitive_subjects,
            subject_ids=_ids(subject_ids),
            origin=origin,
            activity=activity,
            purpose=purpose,
            mechanism_reference=reference,
            important_data=important_data,
            at=parse_time(at, "--at"),
        )
        row, counts = crossborder.as_dict(result.transfer), result.counts
    left = ", ".join(f"{k} {v}" for k, v in sorted(result.filtered_out.items()))
    typer.echo(
        f"Recorded transfer {row['reference']}: {row['subject_count']} people "
        f"({row['sensitive_subject_count']} with sensitive data) to {row['destination']} via "
        f"{row['mechanism']}" + (f"; left out: {left}" if left else "") + "."
    )
    _print_year(counts.as_dict())
    for alert in result.alerts:
        typer.echo(f"ALERT {alert['kind']}: {alert['message']}")


def _print_year(y: dict) -> None:
    typer.echo(
        f"Since 1 January {y['year']}: {y['people']} people, {y['sensitive_people']} with sensitive data "
        f"({y['counting']} count, {y['transfers']} transfers) → {y['required_text']}."
    )
    for s in y.get("stored_abroad", []):
        typer.echo(
            f"  stored in {s['datastore']} ({s['region']}): {s['people']} people"
            + (f" — not counted: {s['problem']}" if s["problem"] else "")
        )
    typer.echo(f"Source: {y['source']}.")


@app.command("list")
def list_transfers(
    year: int | None = typer.Option(None, "--year", help="Only this calendar year (China Standard Time)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Recorded transfers, newest first."""
    from privet.db.store import store_session
    from privet.registers import crossborder

    with store_session() as session:
        rows = [crossborder.as_dict(t) for t in crossborder.list_transfers(session, year=year)]
    if as_json:
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    typer.echo(f"{'TRANSFER':<12} {'WHEN':<17} {'ROUTE':<9} {'MECHANISM':<20} {'PEOPLE':>8} {'SENSITIVE':>9} RECIPIENT")
    for r in rows:
        typer.echo(
            f"{r['reference']:<12} {r['transferred_at'][:16]:<17} {r['origin'] + '→' + r['destination']:<9} "
            f"{r['mechanism']:<20} {r['subject_count']:>8} {r['sensitive_subject_count']:>9} {r['recipient']}"
        )


@app.command("status")
def status(
    ciio: bool = typer.Option(
        False,
        "--ciio",
        help="The organisation is a critical information infrastructure operator (always a security assessment).",
    ),
    at: str | None = typer.Option(None, "--at", help="Count the year containing this time (default now)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """People transferred out of CN since 1 January, the mechanism that requires, and alerts."""
    from privet.db.store import store_session
    from privet.registers import crossborder, crossborder_alerts
    from privet.registers.incidents_cli import parse_time

    moment = parse_time(at, "--at")
    with store_session() as session:
        counts = crossborder.year_counts(session, at=moment, ciio=ciio).as_dict()
        found = crossborder_alerts.alerts(session, at=moment, ciio=ciio)
    if as_json:
        typer.echo(json.dumps({"year": counts, "alerts": found}, indent=2, ensure_ascii=False))
        return
    _print_year(counts)
    for alert in found:
        typer.echo(f"ALERT {alert['kind']}: {alert['message']}")
    if not found:
        typer.echo("No alerts.")


@app.command("check")
def check(
    subject_ids: Path = typer.Option(..., "--subject-ids", help="File of Privet subject ids, one a line."),
    purpose: str = typer.Option(..., "--purpose", help="Purpose key of the transfer."),
    destination: str = typer.Option(..., "--destination", help="Region the data would go to."),
    category: list[str] = typer.Option([], "--category", help="Data category key (repeatable)."),
    output: Path | None = typer.Option(None, "-o", "--output", help="Write the ids that may go to this file."),
) -> None:
    """Which subjects may have their data transferred: those without the separate consent are filtered out."""
    from privet.db.store import store_session
    from privet.registers import crossborder

    with store_session() as session:
        found = crossborder.check_consent(
            session, _ids(subject_ids) or [], purpose=purpose, destination=destination, categories=category or None
        )
    if output is not None:
        output.write_text("".join(f"{s}\n" for s in found.allowed), encoding="utf-8")
    left = ", ".join(f"{k} {v}" for k, v in sorted(found.refused.items())) or "none"
    typer.echo(f"{len(found.allowed)} may be transferred; left out: {left}.")
