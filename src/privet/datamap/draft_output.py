"""Writing a drafted data map (scaffold, Fides import, discovery): validated YAML with the placeholders a reviewer
must replace marked inline, to a file (never over one without --force) or to standard output."""

from __future__ import annotations

import re
from pathlib import Path

import typer

from privet.kit.errors import InvalidInput


def annotate(data: dict) -> str:
    """YAML of a validated draft, with the placeholders a reviewer must replace marked inline."""
    from privet.datamap.schemas import Manifest
    from privet.kit.yamlio import dump

    Manifest.model_validate(data)  # a draft that would not validate is a bug here, not the user's problem
    text = dump(data)
    text = text.replace("\n  system: todo\n", "\n  system: todo  # TODO: key of the owning system\n")
    return re.sub(r"\n  region: (\S+)\n", r"\n  region: \1  # TODO: where this datastore really is\n", text)


def check_output(output: Path | None, force: bool) -> None:
    """Refuse to overwrite an existing file without --force (checked before any work is done)."""
    if output is not None and output.exists() and not force:
        raise InvalidInput(f"{output} already exists", "choose another --output or add --force to overwrite it")


def emit(text: str, output: Path | None, force: bool) -> None:
    """Write `text` to `output` (creating its folder), or to standard output when there is none."""
    if output is None:
        typer.echo(text, nl=False)
        return
    check_output(output, force)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    typer.echo(f"wrote {output}", err=True)
