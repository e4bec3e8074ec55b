"""Manual connector tasks: a person's part of a request (list, see whom to look for, complete)."""

from __future__ import annotations

import json
from datetime import date, datetime

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from privet.auth.deps import Caller, require
from privet.http.routes import DB
from privet.kit.errors import InvalidInput, Problem
from privet.requests.manual import service as manual

router = APIRouter(prefix="/requests/tasks", tags=["manual tasks"])
Read, Write = Depends(require("requests:read")), Depends(require("requests:write"))


class TaskOut(BaseModel):
    """A manual task (no personal data: see GET /tasks/{id} for whom to look for)."""

    model_config = ConfigDict(from_attributes=True)
    id: str
    request_id: str
    step_id: str
    assignee: str | None
    due_on: date | None
    instructions: str
    status: str
    created_at: datetime
    completed_by: str | None
    completed_at: datetime | None
    note: str | None


class TaskDetailOut(TaskOut):
    """A task with what the person needs to find the data (the requester's identity)."""

    reference: str
    request_type: str
    identity_type: str
    identity: str | None = Field(description="The identity the requester gave; null once purged.")
    changes: dict[str, str | dict[str, str]] | None = Field(
        None,
        description="A correction's requested values by data category (text, or its parts); the reveal is audited.",
    )


class CompleteIn(BaseModel):
    """A confirmation of what was done, with optional counts per table."""

    confirmation: str = Field(
        min_length=1,
        max_length=manual.MAX_NOTE,
        description="What was done, e.g. `erased` or `nothing found` (no personal data).",
    )
    counts: dict[str, dict[str, int]] | None = Field(None, description='Per table, e.g. {"contracts": {"deleted": 2}}.')


def _complete_body() -> dict:
    """The completion route reads its body by hand (JSON or multipart), so its OpenAPI body is declared here."""
    form = {
        "type": "object",
        "properties": {
            "file": {"type": "string", "format": "binary", "description": "CSV or JSON of what was found or done."},
            "confirmation": {"type": "string", "description": "What was done, if no file (no personal data)."},
            "counts": {"type": "string", "description": 'JSON counts, e.g. {"contracts": {"deleted": 2}}.'},
        },
    }
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": CompleteIn.model_json_schema()},
                "multipart/form-data": {"schema": form},
            },
        }
    }


@router.get("", dependencies=[Read], summary="Manual tasks: open ones (default), done or all; soonest due first.")
def list_tasks(
    db: DB,
    status: str = Query("open", description="open, done or all."),
    assignee: str | None = Query(None, max_length=120, description="Only this assignee's tasks."),
) -> list[TaskOut]:
    return [TaskOut.model_validate(t) for t in manual.list_tasks(db, status=status, assignee=assignee)]


@router.get(
    "/{task_id}",
    dependencies=[Read],
    summary="One task with the requester's identity to look for (the reveal is audited).",
)
def show_task(task_id: str, request: Request, db: DB, principal: Caller) -> TaskDetailOut:
    task = manual.get_task(db, task_id)
    subject = manual.task_subject(db, request.app.state.keyring, task, actor=principal.actor)
    return TaskDetailOut(
        **TaskOut.model_validate(task).model_dump(),
        reference=subject["reference"],
        request_type=subject["type"],
        identity_type=subject["identity_type"],
        identity=subject["identity"],
        changes=subject["changes"],
    )


async def _completion(request: Request) -> dict:
    """The completion from a multipart form (file, confirmation, counts) or a JSON body (CompleteIn)."""
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = await request.form(max_files=1, max_fields=5)
        upload = form.get("file")
        counts = form.get("counts")
        try:
            counts = json.loads(counts) if isinstance(counts, str) and counts.strip() else None
        except ValueError:
            raise InvalidInput("`counts` is not JSON", 'send e.g. {"contracts": {"deleted": 2}}') from None
        data = (
            await upload.read(manual.MAX_UPLOAD_BYTES + 1)
            if upload is not None and not isinstance(upload, str)
            else None
        )
        confirmation = form.get("confirmation")
        return {
            "upload": data,
            "upload_name": getattr(upload, "filename", None) if data is not None else None,
            "confirmation": confirmation if isinstance(confirmation, str) else None,
            "counts": counts,
        }
    try:
        body = CompleteIn.model_validate_json(await request.body())
    except ValidationError as exc:
        raise InvalidInput(
            "The completion does not validate",
            'send {"confirmation": "..."} or a multipart upload',
            [Problem(e["msg"], ".".join(map(str, e["loc"])) or "body") for e in exc.errors()],
        ) from None
    return {"confirmation": body.confirmation, "counts": body.counts}


@router.post(
    "/{task_id}/complete",
    dependencies=[Write],
    openapi_extra=_complete_body(),
    summary="Complete a task: a multipart upload of what was found (CSV/JSON) or a JSON confirmation.",
)
async def complete_task(task_id: str, request: Request, db: DB, principal: Caller) -> TaskOut:
    given = await _completion(request)
    state = request.app.state
    task = await run_in_threadpool(
        lambda: manual.complete_task(db, state.keyring, state.settings, task_id, actor=principal.actor, **given)
    )
    return TaskOut.model_validate(task)
