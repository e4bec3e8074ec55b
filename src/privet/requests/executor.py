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

from sqlalchemy import select
from sqlalchemy.orm import Session

from privet.connectors.base import StepResult
from privet.kit.clock import utcnow
from privet.kit.crypto import Keyring
from privet.requests import holds, service
from privet.requests.crypto import encrypt_json, output_context
from privet.requests.models import DsrRequest, RequestStep
from privet.settings import Settings

STEP_JOB = "requests.step"
PACKAGE_JOB = "requests.package"
ACTIONS = {"access": "fetch", "portability": "fetch", "explanation": "fetch", "erasure": "erase",
           "closure": "erase", "rectification": "rectify"}
KEEP_ROWS = ("access", "portability")  # explanation needs only where data was found, not the rows
INTERRUPTED = "interrupted while running; resumed"  # step.last_error of a step taken up again after a crash


_targets: dict[tuple, list[tuple[str, str, str]]] = {}


def _personal_fields(session: Session) -> list[tuple[str, str, str]]:
    """(datastore key, kind, category) of every personal field, cached per applied data map version."""
    from privet.datamap.models import DatamapDataset, DatamapDatastore, DatamapField
    from privet.datamap.service import version_key

    key = version_key(session)
    found = _targets.get(key)
    if found is None:
        found = [tuple(row) for row in session.execute(
            select(DatamapDatastore.key, DatamapDatastore.kind, DatamapField.category)
            .join(DatamapDataset, DatamapDataset.datastore_key == DatamapDatastore.key)
            .join(DatamapField, DatamapField.dataset_key == DatamapDataset.key)
            .where(DatamapField.category.is_not(None)).distinct().order_by(DatamapDatastore.key))]
        if key is not None:  # an unversioned (empty) map may be applied any moment: do not remember it
            if len(_targets) > 64:
                _targets.clear()
            _targets[key] = found
    return found


def targets(session: Session, request: DsrRequest) -> list[tuple[str, str]]:
    """(datastore key, kind) of each datastore holding personal fields, by key; for a rectification only those
    holding a corrected category."""
    wanted = set(request.details.get("categories", [])) if request.type == "rectification" else None
    out: dict[str, str] = {}
    for key, kind, category in _personal_fields(session):
        if wanted is None or category in wanted:
            out.setdefault(key, kind)
    return list(out.items())


def fresh_steps(session: Session, request: DsrRequest) -> list[RequestStep]:
    """The request's steps as the store has them now (another worker may have just changed one)."""
    return list(session.execute(select(RequestStep).where(RequestStep.request_id == request.id)
                                .order_by(RequestStep.position)
                                .execution_options(populate_existing=True)).scalars())


def enqueue_step(session: Session, step: RequestStep) -> None:
    """Queue the job that runs one step (one unfinished job per step: queuing it again while one waits is a no-op)."""
    from privet.jobs.service import enqueue

    enqueue(session, STEP_JOB, {"step_id": step.id}, dedupe_key=f"step:{step.id}")


def start(session: Session, keyring: Keyring, settings: Settings, request: DsrRequest, *, actor: str,
          event: tuple[str, dict] | None = None) -> None:
    """Begin the work of a verified (and, if needed, approved) request. Its audit event is `request.started`, or
    `event` (name, details) with the start's own details added (verification and start are one event)."""
    from privet.requests import consents

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
            session, request, actor=actor)
        announce(steps=0)
        finish(session, keyring, settings, request, actor=actor, result={"consent": changes})
        return
    result: dict = {}
    if request.type in service.ERASURE_TYPES:
        # stop every consent-based use now (P45), even while a legal hold keeps the data; the person's sessions end
        # when the erasure is done (they can follow the request until then), and a closed account closes then too
        result["consent"] = consents.withdraw_all(session, request, actor=actor)
    hold = holds.hold_of_subject(session, request.subject_id) if request.type in service.ERASURE_TYPES else None
    action = ACTIONS[request.type]
    steps = []
    for position, (key, kind) in enumerate(targets(session, request)):
        step = RequestStep(request_id=request.id, position=position, datastore_key=key, connector=kind,
                           action=action, status="skipped" if hold else "pending", counts={}, retained=[],
                           last_error=holds.HELD if hold else None)
        session.add(step)
        steps.append(step)
    if hold:
        result["legal_hold"] = holds.hold_summary(hold)
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


def resume_held(session: Session, request: DsrRequest, *, actor: str) -> None:
    """A hold was released: queue the steps it blocked."""
    service.lock(session, request)
    held = [s for s in fresh_steps(session, request) if s.status == "skipped" and s.last_error == holds.HELD]
    for step in held:
        step.status, step.last_error = "pending", None
    request.status = "running"
    request.result = {k: v for k, v in (request.result or {}).items() if k != "legal_hold"}
    session.flush()
    for step in held:
        enqueue_step(session, step)
    service.audit(session, request, "resumed_after_hold", actor=actor, steps=len(held))


def block_step(session: Session, step: RequestStep, hold, *, actor: str) -> None:  # noqa: ANN001
    """A hold appeared after the step was queued: do not erase; the request says why."""
    request = service.lock(session, step.request_id)
    step.status, step.last_error, step.finished_at = "skipped", holds.HELD, utcnow()
    request.result = {**(request.result or {}), "legal_hold": holds.hold_summary(hold)}
    request.status = "waiting"
    session.flush()
    service.audit(session, request, "erasure_blocked", actor=actor, hold_id=hold.id, datastore=step.datastore_key)


def step_finished(session: Session, keyring: Keyring, settings: Settings, step: RequestStep, result: StepResult,
                  *, actor: str) -> None:
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
    service.audit(session, request, "step_" + step.status, actor=actor, datastore=step.datastore_key,
                  action=step.action, tables=len(step.counts), retained=len(step.retained))
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
    request.result = {**(request.result or {}), "failed": failed,
                      "error": f"datastore {', '.join(failed)} failed after its retries"}
    session.flush()
    service.audit(session, request, "step_failed", actor=actor, datastore=step.datastore_key,
                  attempts=step.attempts, error=error[:200])


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
        from privet.requests import packaging

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
                exceptions.append({"datastore": step.datastore_key,
                                   **{k: v for k, v in entry.items() if k != "kind"}})
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


def finish(session: Session, keyring: Keyring, settings: Settings, request: DsrRequest, *, actor: str,
           result: dict) -> None:
    """Complete the request with its result and queue the "completed" message (closure also closes the subject)."""
    from privet.requests.messages import notify

    if request.type in service.ERASURE_TYPES and request.subject_id:
        from privet.requests.consents import end_sessions

        end_sessions(session, request, actor=actor)
    if request.type == "closure" and request.subject_id:
        from privet.subjects.service import close_subject, get_subject

        close_subject(session, get_subject(session, request.subject_id), actor=actor,
                      reason=f"account closure {request.reference}")
    exceptions = (request.result or {}).get("exceptions") or result.get("exceptions") or []
    request.status, request.completed_at = "completed_with_exceptions" if exceptions else "completed", utcnow()
    request.result = {**(request.result or {}), **result}
    if request.type in service.ERASURE_TYPES and request.result.get("backups_clear_by"):
        # the daily backups job tells the officer once this day has passed (privet.requests.backups, P22)
        request.backups_clear_by = date.fromisoformat(str(request.result["backups_clear_by"])[:10])
    session.flush()
    tables = result.get("tables", {}).values()
    service.audit(session, request, request.status, actor=actor, tables=sum(len(t) for t in tables),
                  changed=sum(changed(c) for t in tables for c in t.values()),
                  retained=len(result.get("retained", [])), exceptions=len(exceptions),
                  backups_clear_by=service.day(result.get("backups_clear_by")))
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
    retained = [{**{k: r.get(k) for k in ("datastore", "table", "field", "category", "kind")},
                 "reason": r.get("reason") or "", "until": r.get("until")} for r in result.get("retained", [])]
    exceptions = [{"datastore": x.get("datastore"), "table": x.get("table"), "reason": x.get("reason"),
                   "rows": x.get("rows")} for x in result.get("exceptions", [])]
    return {"changes": changes, "consent": consent, "found": found, "retained": retained, "exceptions": exceptions,
            "backups_until": result.get("backups_clear_by"), "outcome": result.get("outcome")}
