"""`privet audit ...`: verify, seal, anchor and export the audit chain."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from privet.audit import anchors, service
from privet.db.store import store_session
from privet.kit.clock import utcnow
from privet.kit.crypto import Keyring
from privet.kit.errors import InvalidInput
from privet.settings import Settings, get_settings

app = typer.Typer(help="The tamper-evident audit chain.", no_args_is_help=True)


@app.command("verify")
def verify(
    expect_head: str = typer.Option(
        None,
        "--expect-head",
        help="SEQ:HASH printed earlier by `privet audit head` and kept outside the database; "
        "also catches newest events removed and a rewrite by someone holding the key.",
    ),
) -> None:
    """Check every event with the installation's key (and the anchor file, when set); exit 1 naming the first
    changed, removed, inserted or reordered event, and say what is proven for events written before keying."""
    anchor = _parse_anchor(expect_head) if expect_head else None
    settings = get_settings()
    kept = _read_anchor_file(settings)
    with store_session(settings) as session:
        result = service.verify(session, anchor=anchor, anchors=list(kept.pinned.items()) if kept else ())
    if kept and kept.problems:
        typer.echo(
            f"audit anchors in {settings.audit_anchor_file} CANNOT BE TRUSTED: " + "; ".join(kept.problems), err=True
        )
    if not result.ok:
        if result.unsealed:
            typer.echo(f"audit chain NOT PROVEN: {result.reason}", err=True)
            typer.echo(
                "if you have just upgraded Privet, run `privet audit seal` once; otherwise compare with a "
                "head you kept (`privet audit verify --expect-head SEQ:HASH`)",
                err=True,
            )
        else:
            typer.echo(
                f"audit chain BROKEN at event {result.first_bad_seq}: {result.reason} "
                f"({result.checked} events before it verified)",
                err=True,
            )
        raise typer.Exit(1)
    typer.echo(f"audit chain intact: {result.checked} events verified")
    for line in _proven(result, anchor, kept, settings):
        typer.echo(f"  {line}")
    if kept and kept.problems:
        raise typer.Exit(1)


def _read_anchor_file(settings: Settings) -> anchors.Anchors | None:
    path = settings.audit_anchor_file
    if path is None:
        return None
    if not path.exists():
        raise InvalidInput(
            f"The audit anchor file {path} does not exist",
            "run `privet audit anchor` to start it, or correct PRIVET_AUDIT_ANCHOR_FILE",
        )
    return anchors.read(path, Keyring.from_settings(settings))


def _proven(
    result: service.Verification, anchor: tuple[int, str] | None, kept: anchors.Anchors | None, settings: Settings
) -> list[str]:
    """What the check above proves, and what it cannot."""
    lines = []
    if result.checked > result.legacy:
        lines.append(
            f"events {result.keyed_from}-{result.checked} carry keyed hashes: none was changed, inserted, "
            "removed or reordered by anyone without this installation's key"
        )
    if result.legacy:
        lines.append(
            f"events 1-{result.legacy} were written before the chain was keyed: they are proven unchanged "
            f"since event {result.keyed_from} sealed them, not before (plain hashes anyone could recompute)"
        )
    if anchor:
        lines.append(
            f"the chain matches the head you kept (event {anchor[0]}): nothing up to it was removed or "
            "rewritten, even by a key holder"
        )
    if kept and kept.last:
        lines.append(
            f"the chain matches all {len(kept.pinned)} anchors in {settings.audit_anchor_file} (the last: "
            f"event {kept.last['seq']} at {kept.last['at']}): nothing up to it was removed or rewritten, "
            "even by a key holder, unless the file itself was rewritten"
        )
    if not anchor and not (kept and kept.last):
        lines.append(
            "removing the newest events and putting back a head row saved earlier is caught only against "
            "a head kept outside the database (--expect-head, or PRIVET_AUDIT_ANCHOR_FILE)"
        )
    return lines


@app.command("anchor")
def anchor(
    public_key: bool = typer.Option(
        False, "--public-key", help="Print the anchors' public key (PEM) instead, for whoever checks the file."
    ),
) -> None:
    """Append the chain's head, signed, to PRIVET_AUDIT_ANCHOR_FILE (run it periodically, e.g. hourly from cron)."""
    settings = get_settings()
    keyring = Keyring.from_settings(settings)
    if public_key:
        typer.echo(anchors.public_key_pem(keyring), nl=False)
        return
    path = settings.audit_anchor_file
    if path is None or not path.parent.is_dir():
        raise InvalidInput(
            "No folder for the audit anchor file" if path else "No audit anchor file configured",
            "set PRIVET_AUDIT_ANCHOR_FILE to a file outside the store, in a folder that exists",
        )
    kept = _read_anchor_file(settings) if path.exists() else None
    if kept and kept.problems:
        raise InvalidInput(
            f"The audit anchor file cannot be trusted: {'; '.join(kept.problems)}",
            "find out who changed it before anchoring again",
        )
    with store_session(settings) as session:
        check = service.verify(session, anchors=list(kept.pinned.items()) if kept else ())
        seq, digest = service.head(session)
    if not check.ok:  # an anchor vouches for the chain as it is: never for a broken one
        typer.echo(
            f"not anchored: the audit chain does not verify (event {check.first_bad_seq}: {check.reason}); "
            "find out what changed first",
            err=True,
        )
        raise typer.Exit(1)
    if seq == 0:
        typer.echo("the audit chain is empty: nothing to anchor yet")
        return
    line = anchors.append(path, keyring, seq, digest, utcnow())
    typer.echo(f"anchored event {line['seq']} ({line['hash']}) in {path}")


@app.command("seal")
def seal() -> None:
    """Key a chain written before chains were keyed (done by `privet db upgrade`): its events become provable
    from now on. Only after an upgrade: sealing a chain someone replaced would vouch for the replacement."""
    with store_session() as session:
        before = service.verify(session)
        if not before.unsealed and before.ok:
            typer.echo(
                "the audit chain is keyed already"
                if before.checked
                else "the audit chain is empty: its first event will be keyed"
            )
            return
        if not before.unsealed:  # broken, not just unsealed
            typer.echo(
                f"not sealed: the audit chain is broken at event {before.first_bad_seq}: {before.reason}; "
                "find out what changed first (a seal would vouch for it)",
                err=True,
            )
            raise typer.Exit(1)
        seq = service.seal(session, actor="system:cli")
        assert seq is not None  # an unsealed chain (checked just above) gets its sealing event
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
def export(
    output: Path = typer.Option(None, "--output", "-o", help="File to write (default: standard output)."),
    since: int = typer.Option(0, help="Only events after this sequence number."),
) -> None:
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
