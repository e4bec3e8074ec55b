"""Handing a step to a person: the manual task it waits for (a manual datastore, or a correction Privet could not
write), and the audit events of tasks. Doing and completing tasks is `privet.requests.manual`."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from privet.audit.service import record
from privet.requests.models import ManualTask, RequestStep

SYSTEM_ACTOR = "system:requests"


def audit_task(session: Session, task: ManualTask, event: str, actor: str, **details: object) -> None:
    """Record `task.<event>` for a manual task (ids and non-personal details only)."""
    record(
        session,
        actor=actor,
        action=f"task.{event}",
        object_type="dsr_manual_task",
        object_id=task.id,
        details={"request_id": task.request_id, "step_id": task.step_id, **details},
    )


def create_task(
    session: Session,
    step: RequestStep,
    *,
    assignee: str | None = None,
    due_on: date | None = None,
    instructions: str,
    actor: str = SYSTEM_ACTOR,
) -> ManualTask:
    """A task for the person answering `step`; the step waits for it. A task the step already has is returned
    as it is (a re-run job does not create a second one)."""
    existing = session.scalars(select(ManualTask).where(ManualTask.step_id == step.id)).first()
    if existing is not None:
        return existing
    task = ManualTask(
        step_id=step.id,
        request_id=step.request_id,
        assignee=assignee,
        due_on=due_on,
        instructions=instructions.strip() or "-",
        status="open",
    )
    step.status = "waiting"
    session.add(task)
    session.flush()
    audit_task(
        session,
        task,
        "created",
        actor,
        datastore=step.datastore_key,
        action=step.action,
        assigned=assignee is not None,
        has_due_date=due_on is not None,
    )  # a bare date reads as a phone number
    return task
