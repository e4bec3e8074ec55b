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
        None, "--expect-head", help="SEQ:HASH printed earlier by `privet audit head` and kept outside the database; "
                                    "also catches newest events removed and a rewrite by someone holding the key.",
)) -> None:
    """Check every event with the installation's key; exit 1 naming the first changed, removed, inserted or
    reordered event, and say what is proven for events written before the chain was keyed."""
    anchor = _parse_anchor(expect_head) if expect_head else None
    with store_session() as session:
        result = service.verify(session, anchor=anchor)
    if not result.ok:
        if result.unsealed:
            typer.echo(f"audit chain NOT PROVEN: {result.reason}", err=True)
        else:
            typer.echo(f"audit chain BROKEN at event {result.first_bad_seq}: {result.reason} "
                       f"({result.checked} events before it verified)", err=True)
        if result.unsealed:
            typer.echo("if you have just upgraded Privet, run `privet audit seal` once; otherwise compare with a "
                       "head you kept (`privet audit verify --expect-head SEQ:HASH`)", err=True)
        raise typer.Exit(1)
    typer.echo(f"audit chain intact: {result.checked} events verified")
    for line in _proven(result, anchor):
        typer.echo(f"  {line}")


def _proven(result: service.Verification, anchor: tuple[int, str] | None) -> list[str]:
    """What the check above proves, and what it cannot."""
    lines = []
    keyed = result.checked - result.legacy
    if keyed:
        lines.append(f"events {result.keyed_from}-{result.checked} carry keyed hashes: none was changed, inserted, "
                     "removed or reordered by anyone without this installation's key")
    if result.legacy:
        lines.append(f"events 1-{result.legacy} were written before the chain was keyed: they are proven unchanged "
                     f"since event {result.keyed_from} sealed them, not before (plain hashes anyone could recompute)")
    if anchor:
        lines.append(f"the chain matches the head you kept (event {anchor[0]}): nothing up to it was removed or "
                     "rewritten, even by a key holder")
    else:
        lines.append("removing the newest events and putting back a head row saved earlier is only caught against "
                     "a head kept outside the database (--expect-head)")
    return lines


@app.command("seal")
def seal() -> None:
    """Key a chain written before chains were keyed (done by `privet db upgrade`): its events become provable
    from now on. Only after an upgrade: sealing a chain someone replaced would vouch for the replacement."""
    with store_session() as session:
        before = service.verify(session)
        if not before.unsealed and before.ok:
            typer.echo("the audit chain is keyed already" if before.checked else "the audit chain is empty: its first "
                       "event will be keyed")
            return
        if not before.unsealed:  # broken, not just unsealed
            raise InvalidInput(f"The audit chain is broken at event {before.first_bad_seq}: {before.reason}",
                               "find out what changed before sealing; a seal would vouch for it")
        seq = service.seal(session, actor="system:cli")
    typer.echo(f"audit chain sealed: events 1-{seq - 1} are proven unchanged from now on by event {seq}")


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
