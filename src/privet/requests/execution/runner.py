"""One step's job: mark it running, call the datastore's connector outside Privet's transaction, record the outcome.

Resumable at every boundary: a step already done is skipped; a step found `running` was interrupted (its worker
died, or the process was killed after the connector committed) and is taken up again, with the interruption written
on the step so the request's proof says it was resumed. An erasure or rectification writes its intent — the counts
it is about to commit and the rows' expected state, encrypted — to the step *before* the company's transaction
commits; a resumed step whose intent the datastore already holds (`Connector.confirm`) records those counts instead
of running again (a second run would find nothing left and report zeros); otherwise it runs again (erasure is
idempotent). A failed attempt records the datastore and the error class and raises, so the job runtime retries it
with back-off; the last attempt fails the step and the request, naming the datastore. An error no retry can fix (a
table or column the data map names is gone, a correction that does not fit its column) is not retried: an
erasure's step fails at once, a rectification's becomes a manual task for an officer, who can reveal the requested
values (audited) and make the correction by hand.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TypeGuard

from sqlalchemy import select
from sqlalchemy.orm import Session

from privet.connectors.base import ConnectorError, DatastorePlan, StepResult
from privet.jobs.context import JobContext
from privet.kit.clock import utcnow
from privet.kit.errors import InvalidInput, PrivetError
from privet.requests import service
from privet.requests.crypto import decrypt_json, details_context, encrypt_json, intent_context
from privet.requests.execution import executor, held
from privet.requests.execution.handover import create_task
from privet.requests.execution.plans import identities_by_type, plan_for
from privet.requests.models import RequestStep

log = logging.getLogger("privet.requests")
ACTOR = "system:requests"
RUNNABLE_REQUEST = ("running", "waiting", "failed")  # a failed request may still have other steps to finish
SQL_KINDS = ("sqlite", "postgresql", "mysql")


@dataclass
class Work:
    """What the connector call needs, gathered in the first transaction."""

    step_id: str
    datastore: str
    action: str
    reference: str
    identities: dict[str, list[str]]
    changes: dict[str, str] = field(default_factory=dict)
    plan: DatastorePlan | None = None
    callback_token: str | None = None


INSTRUCTIONS = {
    "fetch": "Find every record of the person of request {ref} in {store} and upload them (CSV or JSON).",
    "erase": "Erase the records of the person of request {ref} in {store} as the data map says, then "
    "confirm with the counts per table and anything kept by law.",
    "rectify": "Correct the records of the person of request {ref} in {store} ({categories}), then "
    "confirm with the counts per table.",
}


def _manual_task(session: Session, step: RequestStep) -> None:
    """A manual datastore: a person does the step; it waits for their upload or confirmation."""
    from privet.datamap.models import DatamapDatastore

    request = step.request
    about = session.execute(
        select(DatamapDatastore.description).where(DatamapDatastore.key == step.datastore_key)
    ).scalar_one_or_none()
    text = INSTRUCTIONS[step.action].format(
        ref=request.reference, store=step.datastore_key, categories=", ".join(request.details.get("categories", []))
    )
    create_task(
        session,
        step,
        assignee=request.assignee,
        due_on=service.effective_due(request),
        instructions=text + (f" ({about})" if about else ""),
        actor=ACTOR,
    )
    step.status = "waiting"


def _gather(ctx: JobContext, session: Session, step: RequestStep) -> Work:
    """What the connector call needs: the subject's identities, corrections, the datastore's plan (no writes)."""
    request = step.request
    assert request.subject_id is not None  # steps are planned once the request is verified (its subject known)
    work = Work(
        step.id,
        step.datastore_key,
        step.action,
        request.reference,
        identities_by_type(session, ctx.keyring, request.subject_id),
    )
    if step.action == "rectify":
        secret = decrypt_json(ctx.keyring, request.details_enc, context=details_context(request.id)) or {}
        work.changes = secret.get("changes", {})
    if step.connector != "manual":
        work.plan = plan_for(session, ctx.settings, step.datastore_key)
    return work


def _prepare(ctx: JobContext, session: Session, step: RequestStep) -> Work | None:
    """Mark the step running (noting an interrupted earlier attempt) and gather what the call needs; None when
    there is no call to make (a hold blocks the erasure, or a person does the step)."""
    request = step.request
    if step.action == "erase":
        hold = held.hold_of_subject(session, request.subject_id)
        if hold is not None:
            held.block_step(session, step, hold, actor=ACTOR)
            return None
    interrupted = step.status == "running"
    step.status, step.attempts = "running", step.attempts + 1
    step.started_at = step.started_at or utcnow()
    if interrupted:
        step.last_error = executor.INTERRUPTED
        service.audit(
            session, request, "step_resumed", actor=ACTOR, datastore=step.datastore_key, attempt=step.attempts
        )
    if step.connector == "manual":
        _manual_task(session, step)
        session.flush()
        executor.advance(session, ctx.keyring, ctx.settings, service.lock(session, request), actor=ACTOR)
        return None
    work = _gather(ctx, session, step)
    if step.connector == "http":
        from privet.connectors.http import new_callback_token

        work.callback_token = new_callback_token(step)
    session.flush()
    return work


def _quiet(step: RequestStep) -> bool:
    """A fetch from a SQL datastore changes nothing anywhere: it needs no "running" record before the call (one
    commit fewer per access request); if the worker dies, the fetch simply runs again."""
    return step.action == "fetch" and step.connector in SQL_KINDS and step.status == "pending"


def _runnable(step: RequestStep | None) -> TypeGuard[RequestStep]:
    return (
        step is not None
        and step.status in ("pending", "running")  # not done, waiting, skipped or failed
        and step.request.status in RUNNABLE_REQUEST
    )  # nor refused or completed meanwhile


def _write_intent(ctx: JobContext, step_id: str, result: StepResult, expected: dict) -> None:
    """Record, before the company's commit, what that commit will change; refuse (and so roll the company's
    transaction back) when the step is no longer this attempt's to finish (refused meanwhile, taken over)."""
    with ctx.session() as session:
        step = session.get(RequestStep, step_id)
        if step is None or step.status != "running" or step.request.status not in RUNNABLE_REQUEST:
            raise ConnectorError("the step was stopped while it ran; nothing was committed")
        payload = {
            "result": {"counts": result.counts, "retained": result.retained, "exceptions": result.exceptions},
            "expected": expected,
        }
        step.intent_enc = encrypt_json(ctx.keyring, payload, context=intent_context(step_id))


def _intent(ctx: JobContext, step: RequestStep) -> dict | None:
    return decrypt_json(ctx.keyring, step.intent_enc, context=intent_context(step.id)) if step.intent_enc else None


def _recover(ctx: JobContext, step_id: str) -> bool:
    """An interrupted step whose intent the datastore already holds: record the intent's counts as its result.
    True when recovered; False when the step must run (again)."""
    with ctx.session(write=False) as session:
        step = session.get(RequestStep, step_id)
        if not _runnable(step) or step.status != "running" or not step.intent_enc:
            return False
        intent, plan = _intent(ctx, step), plan_for(session, ctx.settings, step.datastore_key)
        assert intent is not None  # the step has an intent_enc (checked above)
    from privet.connectors.registry import open_connector

    try:
        with open_connector(plan, ctx.settings) as connector:
            committed = connector.confirm(intent["expected"])
    except ConnectorError:
        return False  # cannot tell now: the step runs again, which is safe (erasure is idempotent)
    with ctx.session(last=committed is True) as session:
        step = session.get(RequestStep, step_id)
        if not _runnable(step) or step.status != "running":
            return False
        if committed is not True:
            step.intent_enc = None
            return False
        step.last_error, step.attempts = executor.INTERRUPTED, step.attempts + 1
        service.audit(
            session,
            step.request,
            "step_resumed",
            actor=ACTOR,
            datastore=step.datastore_key,
            attempt=step.attempts,
            committed_before_interruption=True,
        )
        found = intent["result"]
        executor.step_finished(
            session,
            ctx.keyring,
            ctx.settings,
            step,
            StepResult(counts=found["counts"], retained=found["retained"], exceptions=found["exceptions"]),
            actor=ACTOR,
        )
    return True


def _call(ctx: JobContext, work: Work) -> StepResult:
    """Run the step against its datastore (no Privet transaction is open meanwhile)."""
    from privet.connectors.registry import open_connector

    assert work.plan is not None  # gathered for every connector but "manual", whose steps make no call
    with open_connector(work.plan, ctx.settings) as connector:
        if work.action in ("erase", "rectify"):
            connector.before_commit = lambda result, expected: _write_intent(ctx, work.step_id, result, expected)
        if work.plan.kind == "http":
            from privet.connectors.http import HttpConnector, callback_url

            assert isinstance(connector, HttpConnector)  # the registry's class for "http"

            connector.request_reference = work.reference
            connector.callback_url = callback_url(ctx.settings.public_url, work.step_id)
            connector.callback_token = work.callback_token
        if work.action == "fetch":
            return connector.fetch(work.identities)
        if work.action == "erase":
            return connector.erase(work.identities, retain_from=utcnow().date())
        return connector.rectify(work.identities, work.changes)


def _describe(exc: BaseException) -> str:
    """The error for the step record: a connector's message names the datastore, never values; a refused value
    names the column, never the value; others: the class."""
    if isinstance(exc, (ConnectorError, PrivetError)):
        text = exc.detail if isinstance(exc, PrivetError) else str(exc)
        hint = f" ({exc.hint})" if isinstance(exc, PrivetError) and exc.hint else ""
        return f"{type(exc).__name__}: {(text.splitlines()[0] + hint)[:300]}"
    return type(exc).__name__


def permanent(exc: BaseException) -> bool:
    """An error no retry can fix: the data map and the database disagree, or a value does not fit."""
    return bool(getattr(exc, "permanent", False)) or isinstance(exc, InvalidInput)


def _hand_over(ctx: JobContext, step_id: str, error: str) -> None:
    """A correction Privet cannot write: a manual task for an officer (who can reveal the requested values)."""
    with ctx.session(last=True) as session:
        step = session.get(RequestStep, step_id)
        assert step is not None  # the step ran moments ago; steps are never deleted while their request runs
        request = step.request
        step.last_error = f"{step.datastore_key}: {error}"[:500]
        create_task(
            session,
            step,
            assignee=request.assignee,
            due_on=service.effective_due(request),
            instructions=f"The correction of request {request.reference} in {step.datastore_key} could "
            f"not be written automatically: {error}. Reveal the requested values, make the "
            "correction by hand, then complete this task with the rows corrected per table.",
            actor=ACTOR,
        )
        service.audit(
            session, request, "step_handed_over", actor=ACTOR, datastore=step.datastore_key, error=error[:200]
        )
        executor.advance(session, ctx.keyring, ctx.settings, service.lock(session, request), actor=ACTOR)


def run_step(ctx: JobContext, step_id: str) -> None:
    """The `requests.step` job."""
    failure: BaseException | None = None
    work: Work | None = None
    with ctx.session(write=False) as session:
        step = session.get(RequestStep, step_id)
        if not _runnable(step):
            return
        quiet = _quiet(step)
        interrupted = step.status == "running" and step.intent_enc is not None  # its commit may have happened
        if quiet:
            try:
                work = _gather(ctx, session, step)
            except Exception as exc:  # noqa: BLE001 - e.g. the plan cannot be built: a failed attempt like any other
                failure = exc
    if interrupted and _recover(ctx, step_id):
        return
    if not quiet:
        with ctx.session() as session:
            step = session.get(RequestStep, step_id)
            if not _runnable(step):
                return
            try:
                work = _prepare(ctx, session, step)
            except Exception as exc:  # noqa: BLE001
                session.rollback()
                work, failure = None, exc
            if work is None and failure is None:
                return
    if failure is None:
        assert work is not None  # gathered above: a quiet fetch, or a prepared step with a call to make
        try:
            result = _call(ctx, work)
        except Exception as exc:  # noqa: BLE001 - every failure is recorded on the step, then retried
            failure = exc
    if failure is not None:
        log.warning(
            "request step %s (%s) attempt %d failed: %s",
            step_id,
            work.datastore if work else "-",
            ctx.attempt,
            type(failure).__name__,
        )
        final = ctx.final_attempt or permanent(failure)
        if permanent(failure) and work is not None and work.action == "rectify":
            _hand_over(ctx, step_id, _describe(failure))
            return
        with ctx.session(last=final and permanent(failure)) as session:
            step = session.get(RequestStep, step_id)
            assert step is not None  # read above in this job; a running request's steps are not deleted
            executor.step_failed(session, step, _describe(failure), final=final, actor=ACTOR)
        if permanent(failure):
            return  # recorded as failed; retrying cannot help
        raise failure
    with ctx.session(last=True) as session:
        step = session.get(RequestStep, step_id)
        assert step is not None  # read above in this job; a running request's steps are not deleted
        executor.step_finished(session, ctx.keyring, ctx.settings, step, result, actor=ACTOR)
