"""What the `privet registers` commands share: their options and small helpers (people from a file, tables)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from privet.kit.cliutil import console
from privet.registers import screening

if TYPE_CHECKING:
    from privet.kit.crypto import Keyring

DATE = ["%Y-%m-%d"]
PURPOSES = typer.Option(None, "--purpose", help="A taxonomy purpose key (repeat for several).")
CATEGORIES = typer.Option(None, "--category", help="A taxonomy data category key (repeat for several).")
SUBJECT_IDS = typer.Option(None, "--subject-id", help="A subject's id (repeat for several).")
SUBJECTS_FILE = typer.Option(
    None,
    "--file",
    exists=True,
    dir_okay=False,
    help="A file with one subject per line: a subject id, or `identity_type,value`.",
)
OUTPUT = typer.Option(
    None,
    "--output",
    "-o",
    dir_okay=False,
    help="Write the ids of the subjects who may be included to this file, one per line.",
)
GROUND = typer.Option(
    None, "--ground", help="A ground of the company's policy instead of consent (`privet registers grounds`)."
)
REFERENCE = typer.Option(None, "--reference", help="The law, court order or authority's letter the ground rests on.")
AS_JSON = typer.Option(False, "--json", help="Print JSON instead of a table.")


def as_day(value: datetime | None) -> date | None:
    return value.date() if value else None


def load_keyring() -> Keyring:
    from privet.kit.crypto import Keyring
    from privet.settings import get_settings

    return Keyring.from_settings(get_settings())


def print_table(title: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    from rich.table import Table

    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*[str(v) if v not in (None, "", []) else "-" for v in row])
    console().print(table)


def people_given(subject_ids: list[str] | None, file: Path | None) -> tuple[list[str], list[tuple[str, str]]]:
    ids: list[str] = list(subject_ids or [])
    identities: list[tuple[str, str]] = []
    if file is not None:
        more_ids, identities = screening.parse_people(file.read_text(encoding="utf-8"))
        ids.extend(more_ids)
    return ids, identities


def write_allowed(output: Path | None, allowed: list[str]) -> None:
    if output is not None:
        output.write_text("".join(f"{sid}\n" for sid in allowed), encoding="utf-8")


def reason_counts(reasons: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in reasons.items()) or "-"
