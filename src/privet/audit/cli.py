"""`privet audit ...`: verify and export the audit chain."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from privet.audit import service
from privet.db.store import store_session

app = typer.Typer(help="The tamper-evident audit chain.", no_args_is_help=True)


@app.command("verify")
def verify() -> None:
    """Check every event's hash and link; exit 1 naming the first changed, removed or reordered event."""
    with store_session() as session:
        result = service.verify(session)
    if result.ok:
        typer.echo(f"audit chain intact: {result.checked} events verified")
        return
    typer.echo(f"audit chain BROKEN at event {result.first_bad_seq}: {result.reason} "
               f"({result.checked} events before it verified)", err=True)
    raise typer.Exit(1)


@app.command("export")
def export(output: Path = typer.Option(None, "--output", "-o", help="File to write (default: standard output)."),
           since: int = typer.Option(0, help="Only events after this sequence number.")) -> None:
    """Write the chain as JSON lines, one event per line, in order."""
    out = output.open("w", encoding="utf-8") if output else sys.stdout
    count = 0
    try:
        with store_session() as session:
            for event in service.iter_events(session, since_seq=since):
                out.write(json.dumps(service.as_json(event), ensure_ascii=False) + "\n")
                count += 1
    finally:
        if output:
            out.close()
    if output:
        typer.echo(f"wrote {count} events to {output}")
