"""`privet tasks`: manual tasks of data-subject requests (a person's part of a request): list, show, complete."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from privet.kit.cliutil import cli_actor

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from privet.requests.models import ManualTask, RequestStep

app = typer.Typer(help="Manual tasks of data-subject requests: list and complete them.", no_args_is_help=True)


def _day(value: date | None) -> str:
    return value.isoformat() if value else "-"


def _step_of(session: Session, task: ManualTask) -> RequestStep:
    from privet.requests.models import RequestStep

    step = session.get(RequestStep, task.step_id)
    assert step is not None  # a task's step_id is a foreign key (the task goes with its step)
    return step


@app.command("list")
def list_tasks(
    status: str = typer.Option("open", help="Which tasks: open, done or all."),
    assignee: str = typer.Option(None, help="Only the tasks of this assignee."),
) -> None:
    """List manual tasks, soonest due first."""
    from privet.db.store import store_session
    from privet.requests.manual import service as manual

    with store_session() as session:
        rows = [
            (
                t.id,
                t.status,
                _day(t.due_on),
                t.assignee or "-",
                step.datastore_key,
                step.action,
                t.instructions.splitlines()[0][:60],
            )
            for t in manual.list_tasks(session, status=status, assignee=assignee)
            for step in [_step_of(session, t)]
        ]
    if not rows:
        typer.echo(f"no {status if status != 'all' else ''} manual tasks".replace("  ", " "))
        return
    typer.echo(f"{'ID':<28} {'STATUS':<6} {'DUE':<10} {'ASSIGNEE':<16} {'DATASTORE':<24} {'ACTION':<8} INSTRUCTIONS")
    for task_id, state, due, who, store, action, text in rows:
        typer.echo(f"{task_id:<28} {state:<6} {due:<10} {who[:16]:<16} {store[:24]:<24} {action:<8} {text}")


@app.command("show")
def show(task_id: str = typer.Argument(..., help="The task's id (see `privet tasks list`).")) -> None:
    """Show a task with the requester's identity to look for (the reveal is audited)."""
    from privet.db.store import store_session
    from privet.kit.crypto import Keyring
    from privet.requests.manual import service as manual
    from privet.settings import get_settings

    keyring = Keyring.from_settings(get_settings())
    with store_session() as session:
        task = manual.get_task(session, task_id)
        step = _step_of(session, task)
        subject = manual.task_subject(session, keyring, task, actor=cli_actor())
        lines = [
            f"task        {task.id} ({task.status})",
            f"request     {subject['reference']} ({subject['type']})",
            f"datastore   {step.datastore_key} — {step.action}",
            f"assignee    {task.assignee or '-'}",
            f"due         {_day(task.due_on)}",
            f"look for    {subject['identity_type']}: {subject['identity'] or '(purged)'}",
        ]
        for category, value in (subject.get("changes") or {}).items():
            shown = "; ".join(f"{k}: {v}" for k, v in value.items()) if isinstance(value, dict) else value
            lines.append(f"set         {category} = {shown}")
        lines += ["", task.instructions]
    typer.echo("\n".join(lines))


def _counts(pairs: list[str]) -> dict[str, dict[str, int]]:
    from privet.kit.errors import InvalidInput

    out: dict[str, dict[str, int]] = {}
    for pair in pairs:
        where, _, number = pair.partition("=")
        table, _, action = where.partition(".")
        if not (table and action and number.strip().isdigit()):
            raise InvalidInput(f"--count {pair!r} is not TABLE.ACTION=N", "e.g. --count contracts.deleted=2")
        out.setdefault(table, {})[action] = int(number)
    return out


@app.command("complete")
def complete(
    task_id: str = typer.Argument(..., help="The task's id (see `privet tasks list`)."),
    file: Path = typer.Option(
        None,
        "--file",
        exists=True,
        dir_okay=False,
        readable=True,
        help="CSV (named after the table) or JSON of the rows found, or JSON "
        '{"counts": ..., "retained": [...]} for an erasure.',
    ),
    note: str = typer.Option(
        None,
        help="What was done, e.g. `erased` or `nothing found` (no personal "
        "data); alone, it confirms the task without a file.",
    ),
    count: list[str] = typer.Option(
        None, "--count", help="With a confirmation: TABLE.ACTION=N, e.g. contracts.deleted=2; repeat for several."
    ),
) -> None:
    """Complete a task with a file of what was found, or a confirmation of what was done."""
    from privet.db.store import store_session
    from privet.kit.crypto import Keyring
    from privet.kit.errors import InvalidInput
    from privet.requests.manual import service as manual
    from privet.settings import get_settings

    if file is None and not note:
        raise InvalidInput(
            "Give --file or --note",
            "e.g. `privet tasks complete ID --file contracts.csv` or `--note erased --count contracts.deleted=2`",
        )
    settings = get_settings()
    keyring = Keyring.from_settings(settings)
    upload = file.read_bytes() if file is not None else None
    with store_session() as session:
        task = manual.complete_task(
            session,
            keyring,
            settings,
            task_id,
            actor=cli_actor(),
            confirmation=note,
            upload=upload,
            upload_name=file.name if file else None,
            counts=_counts(count or []) or None,
        )
        task_id = task.id
    typer.echo(f"completed task {task_id}; its request moves on")
