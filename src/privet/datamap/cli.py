"""`privet datamap ...`: validate, apply, export, evaluate and browse the history of the data map."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from privet.datamap.cli_import import import_fides_command, scaffold_command
from privet.datamap.discover_cli import discover_command
from privet.kit.cliutil import cli_actor as _actor
from privet.kit.cliutil import console as _console
from privet.kit.errors import PrivetError

if TYPE_CHECKING:
    from privet.datamap.findings import Finding
    from privet.datamap.schemas import Manifest
    from privet.taxonomy.loader import Taxonomy

app = typer.Typer(help="The data map as code: manifests, versions and rule checks.", no_args_is_help=True)
app.command("scaffold")(scaffold_command)
app.command("import-fides")(import_fides_command)
app.command("discover")(discover_command)

PATH_HELP = "A manifest YAML file or a folder of them."


def _fail(exc: PrivetError) -> None:
    """Print every problem on its own `file:line: message — hint` line and exit 2."""
    typer.secho(f"error: {exc.detail}" + (f" — {exc.hint}" if exc.hint else ""), fg="red", err=True)
    for problem in exc.problems:
        typer.echo(problem.render(), err=True)
    raise typer.Exit(2)


@app.command("validate")
def validate(path: Path = typer.Argument(..., help=PATH_HELP)) -> None:
    """Check manifests without a store: every problem with file, line and a fix hint (exit 2 on errors)."""
    from privet.datamap.manifest import load_manifest
    from privet.datamap.validate import ensure_valid

    try:
        loaded = load_manifest(path)
        ensure_valid(loaded)
    except PrivetError as exc:
        _fail(exc)
    m = loaded.manifest
    fields = sum(len(t.fields) for d in m.datasets for t in d.tables)
    typer.echo(
        f"OK: {len(m.systems)} systems, {len(m.datastores)} datastores, {len(m.datasets)} datasets "
        f"({fields} fields), {len(m.processing_activities)} processing activities"
    )


@app.command("apply")
def apply(
    path: Path = typer.Argument(..., help=PATH_HELP),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would change without writing."),
) -> None:
    """Make the store hold exactly these manifests (idempotent); a change writes a new version."""
    from privet.datamap.service import validate_and_apply
    from privet.db.store import store_session

    try:
        with store_session() as session:
            result = validate_and_apply(session, path, actor=_actor(), dry_run=dry_run)
    except PrivetError as exc:
        _fail(exc)
    for line in result.diff.lines():
        typer.echo(line)
    counts = result.diff.counts()
    totals = f"{counts['created']} created, {counts['updated']} updated, {counts['deleted']} deleted"
    if not result.changed:
        typer.echo(f"no changes (version {result.version})")
    elif result.dry_run:
        typer.echo(f"dry run: {totals}; nothing written")
    else:
        typer.echo(f"applied version {result.version}: {totals}")


@app.command("export")
def export(
    output: Path = typer.Option(None, "--output", "-o", help="File to write (default: standard output)."),
) -> None:
    """Write the applied data map as YAML (equal in meaning to the applied manifests)."""
    from privet.datamap.service import canonical, current
    from privet.db.store import store_session
    from privet.kit.errors import InvalidInput, NotFound
    from privet.kit.yamlio import dump

    with store_session() as session:
        manifest = current(session)
    if manifest is None:
        raise NotFound("No data map has been applied", "run `privet datamap apply PATH` first")
    text = dump(canonical(manifest))
    if output:
        try:
            output.write_text(text, encoding="utf-8")
        except FileNotFoundError:
            raise InvalidInput(
                f"Cannot write {output}: the folder {output.parent} does not exist", "create the folder first"
            ) from None
        except OSError as exc:  # a folder in the way, no permission, disk full…
            raise InvalidInput(f"Cannot write {output}: {exc.strerror}", "check the path and its permissions") from None
        typer.echo(f"wrote the data map to {output}")
    else:
        typer.echo(text, nl=False)


@app.command("evaluate")
def evaluate(
    path: Path = typer.Argument(None, help=PATH_HELP + " Default: the applied data map."),
    strict: bool = typer.Option(False, "--strict", help="Fail on warnings too."),
    discovered: Path = typer.Option(
        None,
        "--discovered",
        help="A report of `privet datamap discover`: its conflicts with the data map become findings.",
    ),
) -> None:
    """Check the data map against the rules; exit 1 on errors (or warnings with --strict)."""
    from privet.datamap.evaluate import evaluate as run

    try:
        manifest, taxonomy = _manifest_and_taxonomy(path)
        findings = run(manifest, taxonomy) + (_discovered(discovered, manifest, taxonomy) if discovered else [])
    except PrivetError as exc:
        _fail(exc)
    if findings:
        table = Table("severity", "rule", "object", "message", "hint", show_lines=False)
        for f in findings:
            table.add_row(
                f"[{'red' if f.severity == 'error' else 'yellow'}]{f.severity}[/]", f.rule, f.object, f.message, f.hint
            )
        _console().print(table)
    errors = sum(f.severity == "error" for f in findings)
    warnings = len(findings) - errors
    typer.echo(f"{errors} error(s), {warnings} warning(s)")
    if errors or (strict and warnings):
        raise typer.Exit(1)


def _discovered(report: Path, manifest: Manifest, taxonomy: Taxonomy) -> list[Finding]:
    from privet.datamap.discover.compare import checkable, findings, recognizers_of
    from privet.datamap.discover.report import read_report

    return findings(read_report(report), manifest, taxonomy, checkable(recognizers_of(manifest)))


def _manifest_and_taxonomy(path: Path | None) -> tuple[Manifest, Taxonomy]:
    if path is not None:
        from privet.datamap.manifest import load_manifest
        from privet.datamap.validate import ensure_valid, taxonomy_for

        loaded = load_manifest(path)
        ensure_valid(loaded)
        return loaded.manifest, taxonomy_for(loaded)[0]
    from privet.datamap.service import current
    from privet.db.store import store_session
    from privet.kit.errors import NotFound
    from privet.taxonomy.service import effective

    with store_session() as session:
        manifest, taxonomy = current(session), effective(session)
    if manifest is None:
        raise NotFound("No data map has been applied", "give a PATH, or run `privet datamap apply PATH` first")
    return manifest, taxonomy


@app.command("versions")
def versions() -> None:
    """List the applied versions of the data map, oldest first."""
    from privet.datamap.service import versions as all_versions
    from privet.db.store import store_session

    table = Table("version", "applied at (UTC)", "actor", "sha256", "changes")
    with store_session() as session:
        for v in all_versions(session):
            changes = ", ".join(
                f"{section}: " + " ".join(f"{op[0]}{len(keys)}" for op, keys in ops.items())
                for section, ops in v.summary.items()
                if isinstance(ops, dict)
            )
            table.add_row(
                str(v.number),
                v.applied_at.strftime("%Y-%m-%d %H:%M:%S"),
                v.actor,
                v.sha256[:12],
                changes + (" taxonomy" if v.summary.get("taxonomy_changed") else ""),
            )
    _console().print(table)


@app.command("diff")
def diff(
    a: int = typer.Argument(..., help="The older version number."),
    b: int = typer.Argument(..., help="The newer version number."),
) -> None:
    """Show what changed between two applied versions."""
    from privet.datamap.service import diff as compare
    from privet.datamap.service import manifest_of, version
    from privet.db.store import store_session

    with store_session() as session:
        changes = compare(manifest_of(version(session, a)), manifest_of(version(session, b)))
    for line in changes.lines() or ["no differences"]:
        typer.echo(line)
