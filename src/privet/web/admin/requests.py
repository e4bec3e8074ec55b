"""The request queue and one request: approve, refuse (with the refusal previewed), extend, assign, re-run,
complete complaints and manual tasks, follow the steps per datastore, open the package, read the audit trail.

Every change goes through `privet.requests` services, so it is checked and audited under the officer's name.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Request
from sqlalchemy import select
from starlette.datastructures import FormData
from starlette.responses import HTMLResponse, Response

from privet.audit.service import record
from privet.auth.models import User
from privet.http.routes import DB
from privet.kit.errors import InvalidInput, NotFound
from privet.requests import queries, service
from privet.requests.execution import packaging
from privet.requests.intake import verify
from privet.requests.law.triage import REFUSAL_CODES, check_code
from privet.requests.manual import service as manual
from privet.requests.messages import notify
from privet.requests.messages import render as messages
from privet.requests.models import STATUSES, TYPES, DsrRequest, ManualTask
from privet.requests.packages.service import package_context
from privet.requests.workflow import service as workflow
from privet.web.admin import failures
from privet.web.admin.common import Form, guard, keyring, officer, page, redirect, settings, text
from privet.web.admin.form_errors import REFUSED, what_to_fix
from privet.web.render import language

router = APIRouter(prefix="/requests")
READ, WRITE = guard("requests:read"), guard("requests:write")
PAGE_SIZE = 25


def _path(found: DsrRequest) -> str:
    return f"/admin/requests/{found.reference}"


@router.get("", dependencies=READ, response_class=HTMLResponse)
def queue(request: Request, db: DB) -> HTMLResponse:
    """Requests newest first, filtered by status and type, a page at a time."""
    status = request.query_params.get("status") or None
    kind = request.query_params.get("type") or None
    status = status if status in STATUSES else None
    kind = kind if kind in TYPES else None
    try:
        offset = min(max(0, int(request.query_params.get("offset", "0"))), 10**9)
    except ValueError:
        offset = 0
    rows, total = queries.list_requests(db, status=status, request_type=kind, limit=PAGE_SIZE, offset=offset)
    return page(
        request,
        "admin/requests.html",
        {
            "rows": rows,
            "total": total,
            "offset": offset,
            "size": PAGE_SIZE,
            "status": status,
            "kind": kind,
            "statuses": STATUSES,
            "types": TYPES,
            "effective_due": service.effective_due,
        },
        section="requests",
    )


def _codes(found: DsrRequest) -> list:
    return [r for r in REFUSAL_CODES.values() if found.type in r.applies_to and found.profile in r.profiles]


def _masked(request: Request, found: DsrRequest) -> str | None:
    """The requester's identity, masked (None once purged)."""
    from privet.subjects.identities import mask

    value = service.identity_value(keyring(request), found)
    return mask(found.identity_type, value) if value else None


@router.get("/backups", dependencies=READ, response_class=HTMLResponse)
def backups(request: Request, db: DB) -> HTMLResponse:
    """Completed erasures and the day their erased data must be gone from backups, with the datastores whose
    earlier backups hold it (P22); `?all=1` also lists those the officer was already told about."""
    from privet.requests.workflow.backups import erasures, today

    on = today(db)
    told = request.query_params.get("all") == "1"
    return page(
        request,
        "admin/backups.html",
        {"rows": erasures(db, include_told=told), "today": on, "all": told},
        section="requests",
    )


@router.get("/{reference}", dependencies=READ, response_class=HTMLResponse)
def detail(reference: str, request: Request, db: DB) -> HTMLResponse:
    """One request: its state, the actions open to it, its steps, tasks, package and audit trail."""
    return _detail(request, db, service.by_reference(db, reference))


def _detail(
    request: Request,
    db: DB,
    found: DsrRequest,
    revealed: dict | None = None,
    *,
    values: dict | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    steps = queries.steps_of(db, found)
    tasks = queries.tasks_of(db, found)
    finished = sum(1 for s in steps if s.status in ("done", "skipped"))
    users = list(db.scalars(select(User.username).where(User.active.is_(True)).order_by(User.username)))
    return page(
        request,
        "admin/request.html",
        {
            "r": found,
            "identity": _masked(request, found),
            "due": service.effective_due(found),
            "steps": steps,
            "finished": finished,
            "tasks": tasks,
            "package": queries.package_of(db, found),
            "trail": _trail(db, found, tasks),
            "codes": _codes(found),
            "lang": language(request),
            "users": users,
            "open": found.status in service.OPEN,
            "active": found.status in service.ACTIVE,
            "check_methods": verify.CHECK_METHODS,
            "revealed": revealed or {},
            "law": _law(db, found),
            "failures": {s.id: f for s in steps if (f := failures.explain(s)) is not None},
            "task_text": _task_text,
            "step_actions": failures.ACTIONS,
            "values": values or {},
        },
        section="requests",
        error=error,
        status_code=status_code,
    )


def _done(
    request: Request,
    db: DB,
    found: DsrRequest,
    done: str,
    action: Callable[[], object],
    values: dict | None = None,
) -> Response:
    """Do `action()` (a service call) and go back to the request's page saying so; when the service refuses it,
    the page again with the officer's input, what to fix, and nothing changed."""
    reference = found.reference
    try:
        action()
    except REFUSED as exc:
        error = what_to_fix(request, db, exc)
        return _detail(
            request, db, service.by_reference(db, reference), values=values, error=error, status_code=exc.status
        )
    return redirect(f"/admin/requests/{reference}", done=done)


def _law(db: DB, found: DsrRequest) -> dict:
    """Which law the request is handled under and why (P41): the profile, its source, the person's region."""
    from privet.requests.service import region_of

    return {"profile": found.profile, "source": found.profile_source or "organisation", "region": region_of(db, found)}


def _trail(db: DB, found: DsrRequest, tasks: list) -> list:
    """The request's audit trail (`queries.trail`) with its manual tasks' events, in chain order."""
    from privet.audit.models import AuditEvent

    events = queries.trail(db, found)
    if tasks:
        events += db.scalars(
            select(AuditEvent).where(
                AuditEvent.object_type == "dsr_manual_task", AuditEvent.object_id.in_([t.id for t in tasks])
            )
        )
    return sorted(events, key=lambda e: e.seq)


def _refusal(found: DsrRequest, form: FormData) -> tuple[str, str | None]:
    code = text(form, "code", 40)
    if not code:
        raise InvalidInput("Choose a reason code", "pick the ground for refusing from the list")
    check_code(code, found.type, profile=found.profile)
    return code, verify.check_note(text(form, "note", verify.MAX_NOTE) or None)


@router.post("/{reference}/refuse/preview", dependencies=WRITE, response_class=HTMLResponse)
def refuse_preview(reference: str, request: Request, form: Form, db: DB) -> HTMLResponse:
    """The refusal message exactly as the requester will receive it; nothing is changed yet."""
    found = service.by_reference(db, reference)
    values = {"code": text(form, "code", 40), "note": text(form, "note", verify.MAX_NOTE)}
    try:
        service.require_status(found, service.OPEN, "refused")
        code, note = _refusal(found, form)
    except REFUSED as exc:
        return _detail(request, db, found, values=values, error=what_to_fix(request, db, exc), status_code=exc.status)
    message = {**notify.base_values(db, found), "code": code, "note": note}
    subject, body = messages.render_message("refused", found.language, **message)
    return page(
        request,
        "admin/refuse_preview.html",
        {"r": found, "code": code, "note": note or "", "subject": subject, "body": body, "reason": REFUSAL_CODES[code]},
        section="requests",
    )


@router.post("/{reference}/refuse", dependencies=WRITE)
def refuse(reference: str, request: Request, form: Form, db: DB) -> Response:
    """Refuse with the reason code; the requester is told the reason, the law and where to complain."""
    found = service.by_reference(db, reference)
    values = {"code": text(form, "code", 40), "note": text(form, "note", verify.MAX_NOTE)}

    def act() -> None:
        code, note = _refusal(found, form)
        workflow.refuse(db, found, code=code, note=note, actor=officer(request).actor)

    return _done(request, db, found, "refused", act, values)


@router.post("/{reference}/approve", dependencies=WRITE)
def approve(reference: str, request: Request, db: DB) -> Response:
    """Approve a request waiting for an officer; its work starts."""
    found = service.by_reference(db, reference)
    return _done(
        request,
        db,
        found,
        "approved",
        lambda: workflow.approve(db, keyring(request), settings(request), found, actor=officer(request).actor),
    )


@router.post("/{reference}/fee", dependencies=WRITE)
def fee(reference: str, request: Request, form: Form, db: DB) -> Response:
    """Record the fee of a request waiting for it as paid (with the payment's reference) or waive it (with a
    reason); the request goes ahead and the person is told (P18)."""
    from privet.requests.workflow.fees import settle

    found = service.by_reference(db, reference)
    values = {"outcome": text(form, "outcome", 10), "fee_reason": text(form, "reason", verify.MAX_NOTE)}
    return _done(
        request,
        db,
        found,
        "fee_settled",
        lambda: settle(
            db,
            keyring(request),
            settings(request),
            found,
            outcome=values["outcome"],
            note=values["fee_reason"] or None,
            actor=officer(request).actor,
        ),
        values,
    )


@router.post("/{reference}/extend", dependencies=WRITE)
def extend(reference: str, request: Request, form: Form, db: DB) -> Response:
    """Extend the deadline once, with the reason the requester is sent."""
    found = service.by_reference(db, reference)
    values = {"reason": text(form, "reason", verify.MAX_NOTE)}
    return _done(
        request,
        db,
        found,
        "extended",
        lambda: workflow.extend(db, found, reason=values["reason"], actor=officer(request).actor),
        values,
    )


@router.post("/{reference}/assign", dependencies=WRITE)
def assign(reference: str, request: Request, form: Form, db: DB) -> Response:
    """Give the request to an officer (or to nobody)."""
    found = service.by_reference(db, reference)
    values = {"assignee": text(form, "assignee", 120)}
    return _done(
        request,
        db,
        found,
        "assigned",
        lambda: workflow.assign(db, found, assignee=values["assignee"] or None, actor=officer(request).actor),
        values,
    )


@router.post("/{reference}/run", dependencies=WRITE)
def rerun(reference: str, request: Request, db: DB) -> Response:
    """Queue the failed steps again."""
    found = service.by_reference(db, reference)
    workflow.run(db, keyring(request), settings(request), found, actor=officer(request).actor)
    return redirect(_path(found), done="rerun")


@router.post("/{reference}/complete", dependencies=WRITE)
def complete(reference: str, request: Request, form: Form, db: DB) -> Response:
    """Close a complaint with the outcome (sent to the person)."""
    found = service.by_reference(db, reference)
    values = {"outcome_note": text(form, "note", verify.MAX_NOTE)}
    return _done(
        request,
        db,
        found,
        "completed",
        lambda: workflow.complete(
            db,
            keyring(request),
            settings(request),
            found,
            note=values["outcome_note"] or None,
            actor=officer(request).actor,
        ),
        values,
    )


@router.post("/{reference}/identity-check", dependencies=WRITE)
def identity_check(reference: str, request: Request, form: Form, db: DB) -> Response:
    """Record that staff checked the requester's identity themselves; the request then proceeds."""
    found = service.by_reference(db, reference, lock=True)
    values = {"method": text(form, "method", 40), "check_note": text(form, "note", verify.MAX_NOTE)}
    return _done(
        request,
        db,
        found,
        "identity_checked",
        lambda: verify.record_identity_check(
            db,
            keyring(request),
            settings(request),
            found,
            method=values["method"],
            note=values["check_note"] or None,
            actor=officer(request).actor,
        ),
        values,
    )


def _task_of(db: DB, found: DsrRequest, task_id: str) -> ManualTask:
    task = manual.get_task(db, task_id)
    if task.request_id != found.id:
        raise NotFound("No manual task has this id", "open the task from its request's page")
    return task


@router.post("/{reference}/steps/{step_id}/take-over", dependencies=WRITE)
def take_over(reference: str, step_id: str, request: Request, db: DB) -> Response:
    """A failed step becomes a manual task: the officer does that datastore's part by hand (audited)."""
    found = service.by_reference(db, reference)
    if all(s.id != step_id for s in queries.steps_of(db, found)):
        raise NotFound("This request has no step with this id", "choose a failed step on the request's page")
    manual.take_over(db, keyring(request), settings(request), step_id, actor=officer(request).actor)
    return redirect(_path(found), done="taken_over")


def _task_text(task: ManualTask, lang: str) -> str:
    """A task's instructions in the page's language, when they are one of Privet's own texts."""
    from privet.web.admin.tasks_text import translated

    return translated(task.instructions, lang)


@router.post("/{reference}/tasks/{task_id}/reveal", dependencies=WRITE, response_class=HTMLResponse)
def reveal(reference: str, task_id: str, request: Request, db: DB) -> HTMLResponse:
    """Whom the person doing a manual task must look for (the identity, shown in this answer only; audited)."""
    found = service.by_reference(db, reference)
    task = _task_of(db, found, task_id)
    shown = manual.task_subject(db, keyring(request), task, actor=officer(request).actor)
    return _detail(request, db, found, revealed={task.id: shown})


@router.post("/{reference}/tasks/{task_id}/complete", dependencies=WRITE)
def complete_task(reference: str, task_id: str, request: Request, form: Form, db: DB) -> Response:
    """Complete a manual task with an upload (CSV/JSON of what was found or done) or a confirmation."""
    found = service.by_reference(db, reference)
    task = _task_of(db, found, task_id)
    upload = form.get("file")
    data = name = None
    if upload is not None and not isinstance(upload, str) and upload.filename:
        data = upload.file.read(manual.MAX_UPLOAD_BYTES + 1) or None
        name = upload.filename if data else None
    manual.complete_task(
        db,
        keyring(request),
        settings(request),
        task.id,
        actor=officer(request).actor,
        confirmation=text(form, "confirmation", manual.MAX_NOTE) or None,
        upload=data,
        upload_name=name,
    )
    return redirect(_path(found), done="task_done")


@router.post("/{reference}/package", dependencies=WRITE)
def rebuild_package(reference: str, request: Request, db: DB) -> Response:
    """Build the package again with a fresh link and send it to the requester."""
    found = service.by_reference(db, reference, lock=True)
    built = packaging.rebuild(db, keyring(request), settings(request), found, actor=officer(request).actor)
    if built is not None:
        packaging.send_link(db, keyring(request), found, *built)
    return redirect(_path(found), done="package")


@router.post("/{reference}/package/download", dependencies=WRITE)
def download_package(reference: str, request: Request, db: DB) -> Response:
    """The officer's copy of the package (audited; the requester's download count is not touched)."""
    found = service.by_reference(db, reference)
    package = queries.package_of(db, found)
    if package is None or package.blob_enc is None:
        raise NotFound(
            "This request has no package to open",
            "packages are deleted after expiry or their last download; rebuild it from the request's page",
        )
    data = keyring(request).decrypt(package.blob_enc, context=package_context(package.id))
    record(
        db,
        actor=officer(request).actor,
        action="package.opened_by_staff",
        object_type="access_package",
        object_id=package.id,
        details={"request_id": found.id, "reference": found.reference},
    )
    return Response(
        data,
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="privet-{found.reference}.zip"',
            "Cache-Control": "no-store",
        },
    )
