"""`privet incidents record | list | show | notices | notified | close` (P26)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import overload

import typer

from privet.kit.cliutil import cli_actor

app = typer.Typer(help="Incidents: record, clocks, draft notices to people and the regulator.", no_args_is_help=True)


@overload
def parse_time(value: str, option: str) -> datetime: ...
@overload
def parse_time(value: str | None, option: str) -> datetime | None: ...
def parse_time(value: str | None, option: str) -> datetime | None:
    """An ISO 8601 time with its zone (InvalidInput otherwise)."""
    from privet.kit.errors import InvalidInput

    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"{option}: {value!r} is not a time", "write e.g. 2026-03-01T10:00:00+08:00") from None
    if moment.tzinfo is None:
        raise InvalidInput(f"{option}: the time needs its zone", "write e.g. 2026-03-01T10:00:00+08:00")
    return moment


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "-"


@app.command("record")
def record(
    title: str = typer.Option(..., "--title", help="A few words; no personal data."),
    severity: str = typer.Option(
        ...,
        "--severity",
        help="general, relatively_major, major or especially_major (PRC levels 一般, 较大, 重大, 特别重大).",
    ),
    discovered: str = typer.Option(
        ..., "--discovered", help="When it was discovered, ISO 8601 with zone; the clocks start here."
    ),
    occurred: str | None = typer.Option(None, "--occurred", help="When it occurred, ISO 8601 with zone."),
    category: list[str] = typer.Option(..., "--category", help="Affected data category key (repeatable)."),
    subjects: int = typer.Option(..., "--subjects", min=0, help="Number of people affected (estimate)."),
    ciio: bool = typer.Option(
        False,
        "--ciio",
        help="The organisation is a critical information infrastructure operator (PRC: report within 1 hour).",
    ),
    high_risk: bool = typer.Option(False, "--high-risk", help="Likely high risk to people: they must be told."),
    regime: list[str] = typer.Option([], "--regime", help="prc or gdpr (repeatable; default from the data map)."),
    what: str | None = typer.Option(None, "--what", help="What happened (English)."),
    what_zh: str | None = typer.Option(None, "--what-zh", help="What happened (Chinese)."),
    consequences: str | None = typer.Option(None, "--consequences", help="Likely consequences (English)."),
    consequences_zh: str | None = typer.Option(None, "--consequences-zh", help="Likely consequences (Chinese)."),
    measures: str | None = typer.Option(None, "--measures", help="Measures taken (English)."),
    measures_zh: str | None = typer.Option(None, "--measures-zh", help="Measures taken (Chinese)."),
    advice: str | None = typer.Option(None, "--advice", help="What people can do (English)."),
    advice_zh: str | None = typer.Option(None, "--advice-zh", help="What people can do (Chinese)."),
) -> None:
    """Record an incident and print the notification clocks it starts."""
    from privet.db.store import store_session
    from privet.registers import incidents

    written = {
        "what_happened": {"en": what, "zh_CN": what_zh},
        "consequences": {"en": consequences, "zh_CN": consequences_zh},
        "measures": {"en": measures, "zh_CN": measures_zh},
        "advice": {"en": advice, "zh_CN": advice_zh},
    }
    facts = {k: {lang: t for lang, t in v.items() if t} for k, v in written.items()}
    with store_session() as session:
        row = incidents.record_incident(
            session,
            actor=cli_actor(),
            title=title,
            severity=severity,
            discovered_at=parse_time(discovered, "--discovered"),
            occurred_at=parse_time(occurred, "--occurred"),
            categories=category,
            subjects_affected=subjects,
            ciio=ciio,
            high_risk=high_risk,
            regimes=regime or None,
            facts={k: v for k, v in facts.items() if v},
        )
        reference, found = row.reference, incidents.clocks(row)
    typer.echo(f"Recorded incident {reference}.")
    _print_clocks(found)


def _print_clocks(found: list) -> None:
    from privet.kit.clock import utcnow

    if not found:
        typer.echo("No notification clock applies (a general incident without high risk): handle and record it.")
    now = utcnow()
    for c in found:
        due = _when(c.due_at) if c.due_at else "without undue delay"
        typer.echo(f"  {c.key:<15} {c.state(now):<8} due {due}  — {c.rule}")


@app.command("list")
def list_incidents(
    due: bool = typer.Option(False, "--due", help="List the clocks not yet done instead (overdue first)."),
    status: str | None = typer.Option(None, "--status", help="open or closed."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Incidents, newest first; or, with --due, the notices still to send."""
    from privet.db.store import store_session
    from privet.kit.clock import utcnow
    from privet.registers import incidents

    now = utcnow()
    with store_session() as session:
        if due:
            rows = [(i.reference, c.key, state, c.due_at) for i, c, state in incidents.due(session, now=now)]
            if as_json:
                typer.echo(
                    json.dumps(
                        [
                            {"reference": r, "clock": k, "state": s, "due_at": d.isoformat() if d else None}
                            for r, k, s, d in rows
                        ],
                        indent=2,
                    )
                )
                return
            typer.echo(f"{'INCIDENT':<12} {'CLOCK':<15} {'STATE':<8} DUE")
            for ref, key, state, due_at in rows:
                typer.echo(f"{ref:<12} {key:<15} {state:<8} {_when(due_at) if due_at else 'without undue delay'}")
            return
        found = [incidents.as_dict(i, now) for i in incidents.list_incidents(session, status=status)]
    if as_json:
        typer.echo(json.dumps(found, indent=2, ensure_ascii=False))
        return
    typer.echo(f"{'INCIDENT':<12} {'DISCOVERED':<17} {'SEVERITY':<17} {'PEOPLE':>8} {'STATUS':<7} OPEN CLOCKS")
    for i in found:
        open_clocks = ", ".join(f"{c['key']} ({c['state']})" for c in i["clocks"] if c["state"] != "done") or "-"
        typer.echo(
            f"{i['reference']:<12} {i['discovered_at'][:16]:<17} {i['severity']:<17} "
            f"{i['subjects_affected']:>8} {i['status']:<7} {open_clocks}"
        )


@app.command("show")
def show(reference: str = typer.Argument(..., help="Incident reference (I-…).")) -> None:
    """One incident: its facts and clocks."""
    from privet.db.store import store_session
    from privet.registers import incidents

    with store_session() as session:
        row = incidents.get_incident(session, reference)
        data, found = incidents.as_dict(row), incidents.clocks(row)
    typer.echo(f"{data['reference']}  {data['title']}  [{data['status']}]")
    typer.echo(
        f"  severity {data['severity']}, {data['subjects_affected']} people, CIIO: "
        f"{'yes' if data['ciio'] else 'no'}, high risk: {'yes' if data['high_risk'] else 'no'}, "
        f"regimes: {', '.join(data['regimes']) or '-'}"
    )
    typer.echo(f"  occurred {data['occurred_at'] or '-'}, discovered {data['discovered_at']}")
    typer.echo(f"  categories: {', '.join(data['categories'])}")
    for key, texts in data["facts"].items():
        for lang, text in texts.items():
            typer.echo(f"  {key} [{lang}]: {text}")
    _print_clocks(found)


@app.command("notices")
def notices(
    reference: str = typer.Argument(..., help="Incident reference (I-…)."),
    audience: str | None = typer.Option(None, "--to", help="people or regulator (default both)."),
    language: str | None = typer.Option(None, "--language", help="en or zh_CN (default both)."),
) -> None:
    """Print draft notices to the people affected and to the regulator, in English and Chinese."""
    from privet.db.store import store_session
    from privet.registers import incidents, incidents_notices

    with store_session() as session:
        row = incidents.get_incident(session, reference)
        found = incidents_notices.drafts(
            session,
            row,
            audiences=(audience,) if audience else incidents_notices.AUDIENCES,
            languages=(language,) if language else incidents.LANGUAGES,
        )
    for d in found:
        typer.echo(f"===== to {d['audience']} ({d['language']}) =====")
        typer.echo(f"Subject: {d['subject']}\n")
        typer.echo(d["body"])


@app.command("notified")
def notified(
    reference: str = typer.Argument(..., help="Incident reference (I-…)."),
    clock: str = typer.Option(..., "--clock", help="prc_regulator, gdpr_authority or people."),
    at: str | None = typer.Option(None, "--at", help="When the notice went out, ISO 8601 with zone (default now)."),
) -> None:
    """Record that a clock's notice went out."""
    from privet.db.store import store_session
    from privet.registers import incidents

    with store_session() as session:
        incidents.mark_notified(session, reference, clock, actor=cli_actor(), at=parse_time(at, "--at"))
    typer.echo(f"Recorded: {clock} of {reference.upper()} notified.")


@app.command("close")
def close(reference: str = typer.Argument(..., help="Incident reference (I-…).")) -> None:
    """Close an incident."""
    from privet.db.store import store_session
    from privet.registers import incidents

    with store_session() as session:
        incidents.close_incident(session, reference, actor=cli_actor())
    typer.echo(f"Closed {reference.upper()}.")
