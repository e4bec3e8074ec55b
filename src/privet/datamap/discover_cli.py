"""`privet datamap discover`: sample a SQL datastore of the applied data map, classify each column by what its
values hold, compare with the map, and write a report (categories, shares, counts; never a value) and a draft."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from privet.kit.errors import InvalidInput, NotFound

if TYPE_CHECKING:
    from privet.datamap.discover.scan import Scan
    from privet.datamap.schemas import Manifest
    from privet.taxonomy.loader import Taxonomy

SQL_KINDS = ("sqlite", "postgresql", "mysql")
DRAFT_HEADER = """\
# Draft edits written by `privet datamap discover` for datastore `{key}` from {sample} rows sampled per table.
# It is the datastore's datasets as the applied data map has them, with what the columns' values showed written
# in: a category where the map had none or a different one, whole tables the map does not list. Every change
# carries a `review:` note saying what was found (shares and counts only; no value was kept). Review each one,
# then replace the dataset's file with it and run `privet datamap validate`, `apply` and `evaluate`.
"""


def discover_command(
    datastore: str = typer.Option(..., "--datastore", help="Key of a SQL datastore of the applied data map."),
    tables: list[str] = typer.Option(
        None,
        "--tables",
        help="Only these tables (repeatable or comma-separated; globs like order* work). Default: every table.",
    ),
    sample: int = typer.Option(200, "--sample", min=10, max=100_000, help="Rows read per table, spread over it."),
    output: Path = typer.Option(
        None,
        "--output",
        "-o",
        help="Write a draft of the data map edits (YAML, the format scaffold writes) to this file for review.",
    ),
    report: Path = typer.Option(
        None,
        "--report",
        help="Write the report (JSON) here (default: discover-<datastore>.json). An interrupted scan resumes from it.",
    ),
    schema: str = typer.Option(None, "--schema", help="Schema to scan (default: the connection's default)."),
    timeout: float = typer.Option(
        30.0,
        "--timeout",
        min=1,
        max=3600,
        help="Seconds one statement may run before the database cancels it (the table is then reported as skipped).",
    ),
    force: bool = typer.Option(False, "--force", help="Overwrite the draft file if it exists."),
) -> None:
    """Find personal data by what columns hold (a bounded sample of each table), against the data map."""
    from privet.datamap.discover.compare import annotate, checkable, recognizers_of
    from privet.datamap.discover.report import FORMAT, ScanProgress, summary, write_json
    from privet.datamap.discover.scan import scan
    from privet.datamap.draft_output import check_output
    from privet.kit.clock import utcnow

    check_output(output, force)
    manifest, taxonomy, version = _applied()
    url = _url(manifest, datastore)
    custom = recognizers_of(manifest)
    globs = sorted({g.strip() for item in tables or [] for g in item.split(",") if g.strip()})
    report = report or Path(f"discover-{datastore}.json")
    progress = ScanProgress(
        report,
        {
            "datastore": datastore,
            "sample": sample,
            "tables": globs,
            "schema": schema,
            "recognizers": [r.model_dump(mode="json") for r in manifest.recognizers],
        },
    )
    done = progress.load()
    if done:
        typer.echo(f"resuming: {len(done)} table(s) already scanned ({progress.path})", err=True)
    with _bar() as bar:
        task = bar.add_task("sampling", total=None)

        def finished(entry: dict, new: bool) -> None:
            if new and entry["kind"] == "table":
                progress.save(entry)
            bar.update(task, advance=1, description=entry["name"][:30])

        result = scan(
            url,
            sample=sample,
            timeout=timeout,
            include=globs or None,
            schema=schema,
            custom=custom,
            done=done,
            on_start=lambda n: bar.update(task, total=n),
            on_table=finished,
        )
    annotate(result.tables, manifest, taxonomy, datastore, checkable(custom))
    counts = summary(result.tables)
    write_json(
        report,
        {
            "format": FORMAT,
            "datastore": datastore,
            "dialect": result.dialect,
            "sample": sample,
            "datamap_version": version,
            "scanned_at": utcnow().isoformat(timespec="seconds"),
            "summary": counts,
            "tables": result.tables,
        },
    )
    if output is not None:
        _write_draft(result, manifest, datastore, sample, output, force)
    _audit(datastore, counts, sample, resumed=len(done))
    progress.clear()
    _print(result.tables)
    typer.echo(
        f"{counts['tables']} tables, {counts['columns']} columns: {counts['personal']} personal, "
        f"{counts['conflicts']} in conflict with the data map, {counts['tables_skipped']} table(s) and "
        f"{counts['columns_skipped']} column(s) skipped; report: {report}"
    )


def _applied() -> tuple[Manifest, Taxonomy, int]:
    """The applied data map, the effective taxonomy and the applied version's number."""
    from privet.datamap.service import current, latest_version
    from privet.db.store import store_session
    from privet.taxonomy.service import effective

    with store_session() as session:
        manifest, taxonomy, latest = current(session), effective(session), latest_version(session)
    if manifest is None or latest is None:
        raise NotFound("No data map has been applied", "run `privet datamap apply PATH` first")
    return manifest, taxonomy, latest.number


def _url(manifest: Manifest, key: str) -> str:
    from privet.datamap.secrets import resolve_secret
    from privet.settings import get_settings

    store = next((s for s in manifest.datastores if s.key == key), None)
    if store is None:
        known = ", ".join(sorted(s.key for s in manifest.datastores)) or "(none)"
        raise InvalidInput(f"No datastore `{key}` in the applied data map", f"use one of: {known}")
    if store.kind.value not in SQL_KINDS or not store.secret:
        raise InvalidInput(
            f"Datastore `{key}` is of kind {store.kind.value}; discover reads SQL datastores",
            "choose a datastore of kind sqlite, postgresql or mysql",
        )
    return resolve_secret(get_settings(), store.secret)


def _bar() -> Progress:
    from rich.console import Console

    return Progress(
        TextColumn("{task.description:<30}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    )


def _write_draft(result: Scan, manifest: Manifest, datastore: str, sample: int, output: Path, force: bool) -> None:
    from privet.datamap.discover.draft import draft_edits
    from privet.datamap.draft_output import annotate as annotate_draft
    from privet.datamap.draft_output import emit
    from privet.datamap.scaffold import known_categories

    draft = draft_edits(result.tables, manifest, datastore, result.reflected, result.dialect, known_categories())
    emit(DRAFT_HEADER.format(key=datastore, sample=sample) + annotate_draft(draft), output, force)


def _audit(datastore: str, counts: dict, sample: int, *, resumed: int) -> None:
    from privet.audit.service import record
    from privet.db.store import store_session
    from privet.kit.cliutil import cli_actor

    with store_session() as session:
        record(
            session,
            actor=cli_actor(),
            action="datamap.discovered",
            object_type="datastore",
            object_id=datastore,
            details={**counts, "sample": sample, "resumed_tables": resumed},
        )


def _print(tables: list[dict]) -> None:
    from privet.datamap.discover.compare import found_category
    from privet.kit.cliutil import console

    out = Table("table", "column", "found", "share", "sampled", "mapped", "status")
    for table in tables:
        if table.get("skipped"):
            out.add_row(table["name"], "", "", "", "", "", f"[yellow]skipped[/]: {table['skipped']}")
        for c in table.get("columns", []):
            found = found_category(c)
            if not (found or c.get("status") == "conflict" or c.get("skipped")):
                continue
            share = c.get("share", 0) if c.get("category") else (c.get("embedded") or {}).get(found or "", 0)
            mapped = (c.get("mapped") or {}).get("category", "—" if c.get("mapped") is not None else "not listed")
            status = c.get("status", "")
            status = (
                f"[red]{status}[/]: {c['conflict']['rule']}"
                if c.get("conflict")
                else f"[yellow]skipped[/]: {c['skipped']}"
                if c.get("skipped")
                else status
            )
            out.add_row(
                table["name"],
                c["name"],
                found or "",
                f"{share:.0%}" if found else "",
                str(c.get("sampled", "")),
                mapped,
                status,
            )
    console().print(out)


def scaffold_discovery(draft: dict, url: str, *, sample: int, schema: str | None, include: list[str] | None) -> None:
    """`privet datamap scaffold --discover`: the categories the values show written over the names' guesses."""
    from privet.datamap.discover.draft import overlay
    from privet.datamap.discover.report import summary
    from privet.datamap.discover.scan import scan
    from privet.datamap.scaffold import known_categories

    with _bar() as bar:
        task = bar.add_task("sampling", total=None)
        result = scan(
            url,
            sample=sample,
            timeout=30.0,
            include=include,
            schema=schema,
            on_start=lambda n: bar.update(task, total=n),
            on_table=lambda entry, _new: bar.update(task, advance=1, description=entry["name"][:30]),
        )
    dataset = draft["datasets"][0]
    overlay(dataset["tables"], result.tables, known_categories())
    _audit(draft["datastores"][0]["key"], summary(result.tables), sample, resumed=0)
