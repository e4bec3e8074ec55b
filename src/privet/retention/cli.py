"""`privet retention plan | run | runs`: dry runs, sweeps with a progress bar, and their records."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import typer

from privet.kit.cliutil import cli_actor

if TYPE_CHECKING:
    from privet.kit.crypto import Keyring
    from privet.settings import Settings

app = typer.Typer(
    help="Retention: what the data map's rules would remove, sweeps, and their records.", no_args_is_help=True
)


def _context() -> tuple[Settings, Keyring]:
    from privet.kit.crypto import Keyring
    from privet.settings import get_settings

    settings = get_settings()
    return settings, Keyring.from_settings(settings)


@app.command("plan")
def plan(as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table.")) -> None:
    """Dry run: per datastore and table, the cut-off and how many rows a run would sweep or keep (no values)."""
    from privet.db.store import store_session
    from privet.retention import service

    settings, keyring = _context()
    with store_session(settings) as session:
        entries = service.plan(session, settings, keyring)
    if as_json:
        typer.echo(json.dumps(entries, indent=2))
        return
    if not entries:
        typer.echo(
            "No retention rules in the data map (add `retention:` to a processing activity whose tables "
            "declare `timestamps:`, or to a dataset's table)."
        )
        return
    typer.echo(
        f"{'DATASTORE.TABLE':<36} {'ACTION':<10} {'CUT-OFF':<11} {'EXPIRED':>8} {'SWEEP':>8} "
        f"{'KEPT:REF':>8} {'KEPT:HOLD':>9}  RULE"
    )
    for e in entries:
        rule = e.get("clock") or f"{e['trigger']} ({e['column'] or '?'}) + {e['duration']}"
        if e.get("activities"):
            rule += f" [activities: {', '.join(e['activities'])}]"
        if e["fields"]:
            rule += f" on {', '.join(e['fields'])}"
        if e["overridden"]:
            rule += f", kept {e['legal_minimum']} by law ({e['legal_reference']})"
        elif e.get("legal_minimum"):
            rule += f", legal minimum {e['legal_minimum']} ({e['legal_reference']})"
        if e.get("problem"):
            rule += f"  NOT ENFORCED: {e['problem']}"
        typer.echo(
            f"{e['rule']:<36} {e['action']:<10} {e['cutoff'][:10]:<11} "
            f"{e['expired']:>8} {e['would_sweep']:>8} {e['kept_referenced']:>8} {e['kept_held']:>9}  {rule}"
        )


@app.command("run")
def run(
    resume: bool = typer.Option(False, "--resume", help="Continue the newest unfinished run (same cut-offs)."),
    batch: int = typer.Option(5_000, min=1, max=100_000, help="Rows per batch (one transaction each)."),
) -> None:
    """Sweep: delete, anonymise or null expired rows, batch by batch, resumable after a kill; audited."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from privet.db.engine import make_sessionmaker
    from privet.db.migrate import require_current
    from privet.db.store import open_engine, store_session
    from privet.retention import service

    settings, keyring = _context()
    with store_session(settings) as session:
        expected = {e["rule"]: e["would_sweep"] for e in service.plan(session, settings, keyring)}
    engine = open_engine(settings)
    require_current(engine)
    try:
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()) as bar:
            tasks = {key: bar.add_task(key, total=total or None) for key, total in expected.items()}

            def advance(key: str, changed: int) -> None:
                if key in tasks:
                    bar.advance(tasks[key], changed)

            done = service.run(
                make_sessionmaker(engine),
                settings,
                keyring,
                actor=cli_actor(),
                resume=resume,
                batch=batch,
                progress=advance,
            )
    finally:
        engine.dispose()
    for key, state in sorted(done.progress.items()):
        typer.echo(
            f"{key}: {state.get('deleted', 0)} deleted, {state.get('updated', 0)} changed, "
            f"{state.get('kept_referenced', 0)} kept (referenced), {state.get('kept_held', 0)} kept (hold)"
        )
    if done.status != "done":
        from privet.kit.errors import Conflict

        raise Conflict(
            f"Retention run {done.id} stopped: {done.error}", "fix the cause, then `privet retention run --resume`"
        )
    typer.echo(f"Retention run {done.id} finished.")


@app.command("runs")
def runs(limit: int = typer.Option(20, min=1, max=500, help="Show at most this many, newest first.")) -> None:
    """Earlier runs: when, status, rows swept, and where a failed run stopped."""
    from privet.db.store import store_session
    from privet.retention import service

    with store_session() as session:
        rows = service.list_runs(session, limit)
        lines = [
            (
                r.id,
                r.started_at.strftime("%Y-%m-%d %H:%M"),
                r.status,
                sum(v.get("deleted", 0) + v.get("updated", 0) for v in r.progress.values()),
                r.error or "",
            )
            for r in rows
        ]
    typer.echo(f"{'ID':<28} {'STARTED':<17} {'STATUS':<8} {'ROWS':>8} ERROR")
    for run_id, started, status, total, error in lines:
        typer.echo(f"{run_id:<28} {started:<17} {status:<8} {total:>8} {error[:120]}")


@app.command("children")
def children(dry_run: bool = typer.Option(False, "--dry-run", help="Count only; file nothing.")) -> None:
    """Children's data (P27): erase children without a verified guardian after the grace period (PIPL), or
    minors in an adults-only service, by filing a verified account-closure request for each."""
    from privet.db.store import store_session
    from privet.retention import children as sweep_children

    settings, keyring = _context()
    with store_session(settings) as session:
        counts = sweep_children.sweep(session, keyring, settings, actor=cli_actor(), dry_run=dry_run)
    reasons = ", ".join(f"{k}: {v}" for k, v in sorted(counts["by_reason"].items())) or "none"
    verb = "would file" if dry_run else "filed"
    typer.echo(
        f"Minors found in the datastores: {counts['found_in_datastores']} ({counts['kept_guardian']} kept: a "
        f"verified guardian; {counts['within_grace']} within the {settings.children_grace_days}-day grace "
        "period)."
    )
    typer.echo(
        f"{counts['due']} due ({reasons}); {verb} {counts['filed']} closure requests and "
        f"{counts['related_filed']} for related accounts; {counts['already_open']} already have one open; "
        f"{counts['no_identity']} have no identity to file under."
    )
    if counts["unreadable"] or counts["unnamed"]:
        typer.echo(
            f"Left: {counts['unreadable']} birth dates in no known form, {counts['unnamed']} minors' rows "
            "naming nobody (no identity column on the row or the rows it belongs to)."
        )
    if counts["unreachable"]:
        typer.echo(f"Not read (out of reach): {', '.join(counts['unreachable'])}.")


@app.command("export")
def export(
    datastore: str = typer.Argument(..., help="Datastore key in the data map."),
    table: str = typer.Argument(..., help="Table of that datastore, as declared in a dataset."),
    method: str = typer.Option(
        ...,
        help="pseudonymise (keyed tokens per export) or anonymise (identifiers "
        "dropped, personal dates generalised to the month).",
    ),
    output: str = typer.Option(..., "-o", "--output", help="CSV file to write (must not exist)."),
) -> None:
    """Anonymised or pseudonymised copy of a table for analytics (P34); the method is recorded in the audit."""
    from pathlib import Path

    from privet.db.store import store_session
    from privet.retention import exports

    settings, _ = _context()
    with store_session(settings) as session:
        done = exports.export_to_file(
            session, settings, Path(output), datastore=datastore, table=table, method=method, actor=cli_actor()
        )
    changed = ", ".join(f"{k}: {v}" for k, v in done["columns"].items() if v != "keep") or "none"
    typer.echo(f"{done['rows']} rows written to {output} ({done['method']}; {changed}). Export {done['id']}.")
