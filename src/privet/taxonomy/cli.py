"""`privet taxonomy ...`: browse the default taxonomy (plus a company file) and validate company additions."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.table import Table

from privet.taxonomy.entries import LANGUAGES, SECTIONS

if TYPE_CHECKING:
    from privet.taxonomy.entries import Entry
    from privet.taxonomy.loader import Taxonomy

app = typer.Typer(
    help="Data categories, purposes, legal bases, subject types and identity types.", no_args_is_help=True
)

EXTENSION_HELP = "A company taxonomy YAML (or a data map file with a `taxonomy:` section) to add to the default."
LANG_HELP = "Language of the names: en or zh_CN."
JSON_HELP = "Print JSON instead of a table."


def read_extension(path: Path) -> Any:
    """The company's additions from a taxonomy file, or from the `taxonomy:` section of a data map file."""
    from privet.kit import yamlio

    data = yamlio.load_file(path)
    if isinstance(data, Mapping) and "taxonomy" in data and not any(s in data for s in SECTIONS):
        return data["taxonomy"]
    return data


def _check_lang(lang: str) -> None:
    from privet.kit.errors import InvalidInput

    if lang not in LANGUAGES:
        raise InvalidInput(f"Unknown language {lang!r}", "use --lang en or --lang zh_CN")


def _taxonomy(extension: Path | None) -> Taxonomy:
    from privet.taxonomy.loader import default_taxonomy, load_taxonomy

    return load_taxonomy(read_extension(extension), str(extension)) if extension else default_taxonomy()


def _entry_json(taxonomy: Taxonomy, section: str, entry: Entry, lang: str) -> dict:
    from privet.taxonomy.schemas import EntryOut

    return EntryOut.of(taxonomy, section, entry, lang).model_dump(exclude_none=True)


@app.command("list")
def list_entries(
    section: str = typer.Argument(..., help="One of " + ", ".join(SECTIONS.values()) + "."),
    lang: str = typer.Option("en", "--lang", help=LANG_HELP),
    sensitive: bool = typer.Option(False, "--sensitive", help="Categories: only PIPL sensitive ones."),
    parent: str = typer.Option(None, "--parent", help="Only direct children of this key."),
    extension: Path = typer.Option(None, "--extension", help=EXTENSION_HELP),
    mappings: bool = typer.Option(False, "--mappings", help="Add the DPV and fideslang columns."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """List the entries of one section."""
    from privet.taxonomy.loader import section_name

    _check_lang(lang)
    name = section_name(section)
    taxonomy = _taxonomy(extension)
    if parent is not None:
        taxonomy.get(name, parent)
    entries = taxonomy.children(name, parent) if parent is not None else list(taxonomy.section(name).values())
    rows = [_entry_json(taxonomy, name, e, lang) for e in entries]
    if sensitive:
        rows = [r for r in rows if r.get("sensitive")]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    detail = {
        "categories": "sensitive",
        "purposes": "type",
        "legal_bases": "profiles",
        "identity_types": "category",
    }.get(name)
    table = Table(title=f"{SECTIONS[name]} ({len(rows)})")
    table.add_column("key", no_wrap=True)
    for column in ("name", *([detail] if detail else []), *(("dpv", "fideslang") if mappings else ())):
        table.add_column(column, overflow="fold")
    for row in rows:
        extra = row.get(detail) if detail else None
        extra = ", ".join(extra) if isinstance(extra, list) else extra
        cells = [
            row["key"],
            row["label"],
            *([extra or ""] if detail else []),
            *((row.get("dpv", ""), row.get("fideslang", "")) if mappings else ()),
        ]
        table.add_row(*cells)
    Console().print(table)


@app.command("show")
def show(
    key: str = typer.Argument(..., help="The entry's key, e.g. user.contact.email or consent."),
    section: str = typer.Option(None, "--section", help="Section to look in (default: the first that has KEY)."),
    lang: str = typer.Option("en", "--lang", help=LANG_HELP),
    extension: Path = typer.Option(None, "--extension", help=EXTENSION_HELP),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Show one entry: names, parent chain, sensitivity or type, DPV and fideslang mappings, children."""
    from privet.taxonomy.loader import section_name

    _check_lang(lang)
    taxonomy = _taxonomy(extension)
    if section is not None:
        name = section_name(section)
        entry = taxonomy.get(name, key)
    else:
        name, entry = taxonomy.lookup(key)
    data = _entry_json(taxonomy, name, entry, lang)
    data = {"section": SECTIONS[name], **data, "children": [c.key for c in taxonomy.children(name, entry.key)]}
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    for field, value in data.items():
        if value in (None, [], {}):
            continue
        if isinstance(value, dict):
            value = "; ".join(f"{k}: {v}" for k, v in value.items())
        elif isinstance(value, list):
            value = ", ".join(str(v) for v in value)
        typer.echo(f"{field:>12}: {value}")


@app.command("validate")
def validate(file: Path = typer.Argument(..., help="The company's taxonomy YAML to check.")) -> None:
    """Check a company's taxonomy additions against the default; exit 2 listing every problem with file:line."""
    taxonomy = _taxonomy(file)
    counts = {SECTIONS[s]: sum(1 for e in getattr(taxonomy, s).values() if e.source == "company") for s in SECTIONS}
    summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n) or "no entries"
    typer.echo(f"ok: {file} adds or overrides {summary}")
