"""`privet audit ...`: verify and export the audit chain."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from privet.audit import service
from privet.db.store import store_session
from privet.kit.errors import InvalidInput

app = typer.Typer(help="The tamper-evident audit chain.", no_args_is_help=True)


@app.command("verify")
def verify(expect_head: str = typer.Option(
        None, "--expect-head", help="SEQ:HASH printed earlier by `privet audit head`; also catches a rewritten chain.",
)) -> None:
    """Check every event's hash and link; exit 1 naming the first changed, removed or reordered event."""
    anchor = _parse_anchor(expect_head) if expect_head else None
    with store_session() as session:
        result = service.verify(session, anchor=anchor)
    if result.ok:
        typer.echo(f"audit chain intact: {result.checked} events verified")
        return
    typer.echo(f"audit chain BROKEN at event {result.first_bad_seq}: {result.reason} "
               f"({result.checked} events before it verified)", err=True)
    raise typer.Exit(1)


@app.command("head")
def head() -> None:
    """Print the chain's last event as SEQ:HASH, to keep outside the database (an anchor for verify)."""
    with store_session() as session:
        seq, digest = service.head(session)
    typer.echo(f"{seq}:{digest}")


def _parse_anchor(text: str) -> tuple[int, str]:
    seq, _, digest = text.partition(":")
    if not seq.isdigit() or len(digest) != 64:
        raise InvalidInput("--expect-head must look like SEQ:HASH", "copy the line `privet audit head` printed")
    return int(seq), digest


@app.command("export")
def export(output: Path = typer.Option(None, "--output", "-o", help="File to write (default: standard output)."),
           since: int = typer.Option(0, help="Only events after this sequence number.")) -> None:
    """Write the chain as JSON lines, one event per line, in order."""
    if output and not output.parent.is_dir():
        raise InvalidInput(f"Cannot write {output}: its folder does not exist", "create the folder first")
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
