"""Running a verified request: one step per datastore, each a job; the request advances as steps report back.

`start` creates the steps (from the data map: the datastores that hold personal fields) and queues one
`requests.step` job per step, or, for requests answered inside Privet (withdrawal, restriction), records the
consent changes and finishes at once. `step_finished` records a step's outcome and, under the request's row
lock (two workers may finish two steps at the same moment), moves the request on: a failed step fails it
naming the datastore; when every step is done an access-like request queues its package and an erasure-like
one completes with its proof.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from sqlalchemy.orm import Session

from privet.connectors.base import StepResult
from privet.kit.clock import utcnow
from privet.kit.crypto import Keyring
from privet.requests import service
from privet.requests.crypto import encrypt_json, output_context
from privet.requests.execution import held
from privet.requests.execution.plans import targets
from privet.requests.execution.steps import KEEP_ROWS, enqueue_step, fresh_steps
from privet.requests.models import DsrRequest, RequestStep
from privet.settings import Settings

ACTIONS = {
    "access": "fetch",
    "portability": "fetch",
    "explanation": "fetch",
    "erasure": "erase",
    "closure": "erase",
    "rectification": "rectify",
}
INTERRUPTED = "interrupted while running; resumed"  # step.last_error of a step taken up again after a crash


def start(
    session: Session,
    keyring: Keyring,
    settings: Settings,
    request: DsrRequest,
    *,
    actor: str,
    event: tuple[str, dict] | None = None,
) -> None:
    """Begin the work of a verified (and, if needed, approved) request. Its audit event is `request.started`, or
    `event` (name, details) with the start's own details added (verification and start are one event)."""
    from privet.requests.execution import consents

    what, details = event or ("started", {})

    def announce(**info: object) -> None:
        service.audit(session, request, what, actor=actor, **details, **info)

    request.status = "running"
    if request.type == "complaint":  # a person answers a complaint; the officer completes it by hand
        request.status = "waiting"
        announce(steps=0, with_officer=True)
        return
    if request.type in ("withdrawal", "restriction"):
        changes = (consents.withdraw if request.type == "withdrawal" else consents.restrict)(
            session, request, actor=actor
        )
        announce(steps=0)
        finish(session, keyring, settings, request, actor=actor, result={"consent": changes})
        return
    result: dict = {}
    if request.type in service.ERASURE_TYPES:
        # stop every consent-based use now (P45), even while a legal hold keeps the data; the person's sessions end
        # when the erasure is done (they can follow the request until then), and a closed account closes then too
        result["consent"] = consents.withdraw_all(session, request, actor=actor)
    hold = held.hold_of_subject(session, request.subject_id) if request.type in service.ERASURE_TYPES else None
    action = ACTIONS[request.type]
    steps = []
    for position, (key, kind) in enumerate(targets(session, request)):
        step = RequestStep(
            request_id=request.id,
            position=position,
            datastore_key=key,
            connector=kind,
            action=action,
            status="skipped" if hold else "pending",
            counts={},
            retained=[],
            last_error=held.HELD if hold else None,
        )
        session.add(step)
        steps.append(step)
    if hold:
        result["legal_hold"] = held.hold_summary(hold)
    request.result = result
    session.flush()
    announce(steps=len(steps), action=action, blocked_by_hold=hold.id if hold else None)
    if hold:
        request.status = "waiting"
        service.audit(session, request, "erasure_blocked", actor=actor, hold_id=hold.id)
        return
    for step in steps:
        enqueue_step(session, step)
    if not steps:  # nothing to touch anywhere: answer straight away (an honest empty package, or no-op proof)
        advance(session, keyring, settings, request, actor=actor)


def step_finished(
    session: Session, keyring: Keyring, settings: Settings, step: RequestStep, result: StepResult, *, actor: str
) -> None:
    """Record what a step did (counts, retained fields, encrypted rows) and move the request on."""
    request = service.lock(session, step.request_id)
    session.refresh(step)
    if step.status in ("done", "skipped"):  # a repeated callback or a re-delivered job: already recorded
        return
    if step.status == "pending":  # a quiet fetch: its attempt is counted here, not before the call
        step.attempts, step.started_at = step.attempts + 1, step.started_at or utcnow()
    step.counts = {t: dict(c) for t, c in (result.counts or {}).items()}
    # kept rows with their reasons, then the exceptions (rows left with personal data and no reason to keep it)
    step.retained = [*(result.retained or []), *({**x, "kind": "exception"} for x in result.exceptions or [])]
    step.intent_enc = None
    output = result.output()
    if request.type in KEEP_ROWS and any(output.values()):
        step.output_enc = encrypt_json(keyring, output, context=output_context(step.id))
    if result.pending:
        step.status = "waiting"
    else:
        step.status, step.finished_at = "done", utcnow()
    session.flush()
    service.audit(
        session,
        request,
        "step_" + step.status,
        actor=actor,
        datastore=step.datastore_key,
        action=step.action,
        tables=len(step.counts),
        retained=len(step.retained),
    )
    advance(session, keyring, settings, request, actor=actor)


def step_failed(session: Session, step: RequestStep, error: str, *, final: bool, actor: str) -> None:
    """Record a failed attempt; on the last one the step and the request fail, naming the datastore."""
    request = service.lock(session, step.request_id)
    session.refresh(step)
    if step.status == "pending":  # a quiet fetch (see runner._quiet)
        step.attempts += 1
    step.last_error = f"{step.datastore_key}: {error}"[:500]
    if not final:
        step.status = "pending"
        session.flush()
        return
    step.status, step.finished_at = "failed", utcnow()
    if request.status in service.FINISHED:  # refused meanwhile: the step's failure is recorded, nothing more
        session.flush()
        return
    failed = [s.datastore_key for s in fresh_steps(session, request) if s.status == "failed"]
    request.status = "failed"
    request.result = {
        **(request.result or {}),
        "failed": failed,
        "error": f"datastore {', '.join(failed)} failed after its retries",
    }
    session.flush()
    service.audit(
        session,
        request,
        "step_failed",
        actor=actor,
        datastore=step.datastore_key,
        attempts=step.attempts,
        error=error[:200],
    )


def advance(session: Session, keyring: Keyring, settings: Settings, request: DsrRequest, *, actor: str) -> None:
    """Set the request's status from its steps; when all are done, queue the package or finish."""
    if request.status in service.FINISHED:
        return
    steps = fresh_steps(session, request)
    statuses = {s.status for s in steps}
    if "failed" in statuses:
        request.status = "failed"
    elif statuses & {"pending", "running"}:
        request.status = "running"
    elif statuses & {"waiting", "skipped"}:
        request.status = "waiting"
    elif request.type in service.PACKAGE_TYPES:
        from privet.requests.execution import packaging

        packaging.answer(session, keyring, settings, request, actor=actor, steps=steps)
    else:
        result = proof(request, steps, settings)
        if result["exceptions"] and settings.erasure_exceptions == "review" and request.status != "waiting":
            request.status = "waiting"  # an officer decides; the person hears when it is completed
            request.result = result
            service.audit(session, request, "exceptions_review", actor=actor, exceptions=len(result["exceptions"]))
        elif request.status != "waiting" or not result["exceptions"]:
            finish(session, keyring, settings, request, actor=actor, result=result)
    session.flush()


def proof(request: DsrRequest, steps: list[RequestStep], settings: Settings) -> dict:
    """The erasure/rectification record: per-table counts of rows found, changed by each action and kept by
    reason, retained fields with reason and end date, the exceptions (personal rows left without a reason to keep
    them), the date backups age out (P22), and which steps were resumed after an interruption. No personal
    values."""
    tables: dict[str, dict] = defaultdict(dict)
    retained, exceptions, resumed = [], [], []
    for step in steps:
        tables[step.datastore_key] = step.counts
        for entry in step.retained or []:
            kind = entry.get("kind")
            if kind == "exception":
                exceptions.append({"datastore": step.datastore_key, **{k: v for k, v in entry.items() if k != "kind"}})
            elif kind != "cannot_empty":
                retained.append({"datastore": step.datastore_key, **entry})
        if step.last_error == INTERRUPTED:
            resumed.append(step.datastore_key)
    out = {**(request.result or {}), "tables": dict(tables), "retained": retained, "exceptions": exceptions}
    if request.type in service.ERASURE_TYPES:
        out["backups_clear_by"] = (utcnow().date() + timedelta(days=settings.backup_retention_days)).isoformat()
    if resumed:
        out["resumed"] = resumed
    return out


def finish(
    session: Session, keyring: Keyring, settings: Settings, request: DsrRequest, *, actor: str, result: dict
) -> None:
    """Complete the request with its result and queue the "completed" message (closure also closes the subject)."""
    from privet.requests.messages import notify

    if request.type in service.ERASURE_TYPES and request.subject_id:
        from privet.requests.execution.consents import end_sessions

        end_sessions(session, request, actor=actor)
    if request.type == "closure" and request.subject_id:
        from privet.subjects.service import close_subject, get_subject

        close_subject(
            session,
            get_subject(session, request.subject_id),
            actor=actor,
            reason=f"account closure {request.reference}",
        )
    exceptions = (request.result or {}).get("exceptions") or result.get("exceptions") or []
    request.status, request.completed_at = "completed_with_exceptions" if exceptions else "completed", utcnow()
    request.result = {**(request.result or {}), **result}
    if request.type in service.ERASURE_TYPES and request.result.get("backups_clear_by"):
        # the daily backups job tells the officer once this day has passed (privet.requests.workflow.backups, P22)
        request.backups_clear_by = date.fromisoformat(str(request.result["backups_clear_by"])[:10])
    session.flush()
    tables = result.get("tables", {}).values()
    service.audit(
        session,
        request,
        request.status,
        actor=actor,
        tables=sum(len(t) for t in tables),
        changed=sum(changed(c) for t in tables for c in t.values()),
        retained=len(result.get("retained", [])),
        exceptions=len(exceptions),
        backups_clear_by=service.day(result.get("backups_clear_by")),
    )
    from privet.requests.messages.wording import in_plain_words

    notify.queue(session, request, "completed", **in_plain_words(session, request.language, summary(request.result)))


CHANGED = ("deleted", "updated", "rectified")  # counts of rows changed; `nulled`/`masked`/`hashed` split `updated`


def changed(counts: dict) -> int:
    """Rows a step changed in one table (never rows merely found)."""
    return sum(int(counts.get(k, 0) or 0) for k in CHANGED)


def summary(result: dict) -> dict:
    """The "completed" message's values: rows changed per table, consent changes, what was kept and why, what
    could not be done and why, when backups clear. Counts are of rows changed, never of rows found."""
    changes: dict[str, dict[str, int]] = {}
    found = False
    for store, tables in result.get("tables", {}).items():
        for table, c in tables.items():
            found = found or bool(int(c.get("found", 0) or 0))
            done = {k: int(c[k]) for k in CHANGED if c.get(k)}
            if done:
                changes[f"{store}.{table}"] = done
    consent = {c["purpose"]: c["event"] for c in result.get("consent", []) if c.get("event")}
    retained = [
        {
            **{k: r.get(k) for k in ("datastore", "table", "field", "category", "kind")},
            "reason": r.get("reason") or "",
            "until": r.get("until"),
        }
        for r in result.get("retained", [])
    ]
    exceptions = [
        {"datastore": x.get("datastore"), "table": x.get("table"), "reason": x.get("reason"), "rows": x.get("rows")}
        for x in result.get("exceptions", [])
    ]
    return {
        "changes": changes,
        "consent": consent,
        "found": found,
        "retained": retained,
        "exceptions": exceptions,
        "backups_until": result.get("backups_clear_by"),
        "outcome": result.get("outcome"),
    }
