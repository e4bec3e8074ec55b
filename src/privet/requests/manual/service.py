"""The manual connector: a person does one datastore's part of a request (paper files, a system without an API).

The step's job creates a task (assignee, due date, instructions) and the step waits. The person completes it
with an upload or a confirmation:
- an upload, for a fetch: the rows found, as CSV (one table: the file is named after it, `contracts.csv`, or the
  datastore has only one table) or JSON (`{"rows": {table: [...]}}`, `{table: [...]}` or `[...]`);
- an upload, for an erasure or rectification: JSON `{"counts": {table: {action: n}}, "retained": [...]}`, the
  format HTTP connectors answer in;
- a confirmation (a short statement: "erased", "nothing found"), optionally with counts given by the person.
Then `executor.step_finished` records the outcome and moves the request on.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import PurePath

from sqlalchemy import select
from sqlalchemy.orm import Session

from privet.connectors.base import ConnectorError, StepResult
from privet.kit.clock import utcnow
from privet.kit.crypto import Keyring
from privet.kit.errors import Conflict, InvalidInput, NotFound
from privet.requests.execution.handover import audit_task, create_task
from privet.requests.models import DsrRequest, ManualTask, RequestStep
from privet.settings import Settings

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_NOTE = 2000
TASK_STATUSES = ("open", "done", "all")
_UPLOAD_HINT = 'upload CSV named after the table (contracts.csv) or JSON {"rows": {"contracts": [...]}}'


TAKE_OVER = (
    "Step {action} of request {ref} in {store} failed and was taken over by hand: do it as the data map "
    "says, then complete this task with the rows found (fetch) or the counts per table."
)


def take_over(session: Session, keyring: Keyring, settings: Settings, step_id: str, *, actor: str) -> ManualTask:
    """A failed step becomes a manual task (the officer does that datastore's part by hand); the request waits for
    it instead of staying failed. Only a failed step of an open request can be taken over; audited."""
    from privet.requests import service
    from privet.requests.execution.executor import advance

    step = session.get(RequestStep, step_id)
    if step is None:
        raise NotFound("The request has no step with this id", "open the request's page and choose a failed step")
    request = service.lock(session, step.request_id)
    if step.status != "failed" or request.status in service.FINISHED:
        raise Conflict(
            f"Only a failed step of an open request can be taken over; this step is {step.status}",
            "run the failed steps again, or complete the task the step already has",
        )
    step.finished_at = None
    task = create_task(
        session,
        step,
        assignee=request.assignee,
        due_on=service.effective_due(request),
        instructions=TAKE_OVER.format(action=step.action, ref=request.reference, store=step.datastore_key),
        actor=actor,
    )
    service.audit(session, request, "step_taken_over", actor=actor, datastore=step.datastore_key, action=step.action)
    request.status = "running"  # recomputed from the steps by advance (failed → waiting)
    advance(session, keyring, settings, request, actor=actor)
    return task


def get_task(session: Session, task_id: str, *, lock: bool = False) -> ManualTask:
    """A task by id, or NotFound."""
    stmt = select(ManualTask).where(ManualTask.id == task_id)
    task = session.scalars(stmt.with_for_update() if lock else stmt).first()
    if task is None:
        raise NotFound("No manual task has this id", "list them: `privet tasks list` or GET /api/v1/requests/tasks")
    return task


def list_tasks(
    session: Session, *, status: str = "open", assignee: str | None = None, limit: int = 200
) -> list[ManualTask]:
    """Tasks by status (open, done or all), optionally one assignee's, soonest due first."""
    if status not in TASK_STATUSES:
        raise InvalidInput(f"Unknown task status {status!r}", "use open, done or all")
    stmt = select(ManualTask)
    if status != "all":
        stmt = stmt.where(ManualTask.status == status)
    if assignee:
        stmt = stmt.where(ManualTask.assignee == assignee)
    order = (
        (ManualTask.due_on.is_(None), ManualTask.due_on, ManualTask.created_at)
        if status == "open"
        else (ManualTask.created_at.desc(),)
    )
    return list(session.scalars(stmt.order_by(*order).limit(limit)))


def task_subject(session: Session, keyring: Keyring, task: ManualTask, *, actor: str) -> dict:
    """What the person needs to do the task: the request's reference, identity type and value, and for a
    correction the values the person asked for (audited: the reveal is recorded, the values are not)."""
    from privet.requests.crypto import decrypt_json, details_context
    from privet.requests.service import identity_value

    request = session.get(DsrRequest, task.request_id)
    assert request is not None  # a task's request_id is a foreign key (the task goes with its request)
    step = session.get(RequestStep, task.step_id)
    changes = None
    if step is not None and step.action == "rectify" and request.details_enc:
        changes = (decrypt_json(keyring, request.details_enc, context=details_context(request.id)) or {}).get("changes")
    audit_task(session, task, "identity_shown", actor, changes_shown=sorted(changes) if changes else None)
    return {
        "reference": request.reference,
        "type": request.type,
        "identity_type": request.identity_type,
        "identity": identity_value(keyring, request),
        "changes": changes,
    }


def _tables_of(session: Session, datastore_key: str) -> list[str]:
    from privet.datamap.models import DatamapDataset, DatamapTable

    return list(
        session.scalars(
            select(DatamapTable.name)
            .join(DatamapDataset)
            .where(DatamapDataset.datastore_key == datastore_key)
            .order_by(DatamapTable.name)
        )
    )


def _one_table(session: Session, step: RequestStep, name: str | None) -> str:
    tables = _tables_of(session, step.datastore_key)
    stem = PurePath(name).stem if name else None
    if stem and stem in tables:
        return stem
    if len(tables) == 1:
        return tables[0]
    raise InvalidInput(
        "Cannot tell which table these rows belong to",
        f"name the file after one of: {', '.join(tables) or 'the tables'} (e.g. {tables[0]}.csv)"
        if tables
        else _UPLOAD_HINT,
    )


def parse_upload(session: Session, step: RequestStep, data: bytes, name: str | None) -> StepResult:
    """The step's result from an uploaded CSV or JSON file; InvalidInput (naming no values) when unusable."""
    from privet.connectors.http import parse_answer

    if len(data) > MAX_UPLOAD_BYTES:
        raise InvalidInput(f"The upload is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB", _UPLOAD_HINT)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("The upload is not UTF-8 text", "save the CSV or JSON as UTF-8") from None
    is_json = (name or "").lower().endswith(".json") or text.lstrip()[:1] in ("{", "[")
    if not is_json:
        rows = [
            {k: (v if v != "" else None) for k, v in row.items() if k is not None}
            for row in csv.DictReader(io.StringIO(text))
        ]
        table = _one_table(session, step, name)
        return StepResult(counts={table: {"found": len(rows)}}, rows={table: rows})
    try:
        document = json.loads(text)
    except ValueError:
        raise InvalidInput("The upload is not valid JSON", _UPLOAD_HINT) from None
    if isinstance(document, list):
        document = {"rows": {_one_table(session, step, name): document}}
    elif isinstance(document, dict) and not {"rows", "counts", "retained"} & set(document):
        document = {"rows": document}
    try:
        return parse_answer(step.datastore_key, document)
    except ConnectorError as exc:
        raise InvalidInput("The upload does not fit: " + str(exc).split(": ", 1)[-1], _UPLOAD_HINT) from None


def complete_task(
    session: Session,
    keyring: Keyring,
    settings: Settings,
    task_id: str,
    *,
    actor: str,
    confirmation: str | None = None,
    upload: bytes | None = None,
    upload_name: str | None = None,
    counts: dict[str, dict[str, int]] | None = None,
) -> ManualTask:
    """Complete a task with an upload or a confirmation (with optional counts); the step finishes with it."""
    from privet.connectors.http import parse_answer
    from privet.requests.execution.executor import step_finished

    task = get_task(session, task_id, lock=True)
    if task.status != "open":
        raise Conflict("This task is already done", f"it was completed at {task.completed_at:%Y-%m-%d %H:%M} UTC")
    step = session.get(RequestStep, task.step_id)
    assert step is not None  # a task's step_id is a foreign key (the task goes with its step)
    if step.status != "waiting":
        raise Conflict(
            f"The task's step is {step.status}, not waiting for this task",
            "see the request: `privet requests show REFERENCE`",
        )
    note = (confirmation or "").strip()[:MAX_NOTE] or None
    if upload is not None:
        result = parse_upload(session, step, upload, upload_name)
    elif note is not None:
        try:
            result = parse_answer(step.datastore_key, {"counts": counts or {}})
        except ConnectorError:
            raise InvalidInput(
                "Counts must map each table to {action: whole number}", 'e.g. {"contracts": {"deleted": 2}}'
            ) from None
    else:
        raise InvalidInput(
            "Give an upload or a confirmation",
            "upload the rows found (CSV or JSON), or confirm what was done, e.g. `--note erased`",
        )
    if step.action == "fetch" and upload is None and result.counts:
        raise InvalidInput("A fetch needs the rows, not only counts", "upload them as CSV or JSON")
    task.status, task.completed_by, task.completed_at, task.note = "done", actor, utcnow(), note
    session.flush()
    audit_task(
        session,
        task,
        "completed",
        actor,
        datastore=step.datastore_key,
        action=step.action,
        upload=upload is not None,
        tables=len(result.counts),
        rows=sum(len(r) for r in result.rows.values()),
        retained=len(result.retained),
    )
    step_finished(session, keyring, settings, step, result, actor=actor)
    return task
