"""Retention runs from the console: start a dry run or a sweep, follow one table by table (the page refreshes
itself while the run goes on), resume one that stopped. Starting and resuming need `registers:write`.

The run is recorded (and audited) in the form's transaction, then a `retention.run` job does it through
`retention.service.run`, the CLI's code path: progress saved after every batch, a killed worker's job taken up
again where the run's record stopped, counts shown being the rows actually changed."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse, Response

from privet.http.routes import DB
from privet.jobs.models import Job
from privet.jobs.service import enqueue
from privet.retention import service
from privet.retention.models import RetentionRun
from privet.retention.rules import load_rules
from privet.retention.tasks import RUN_JOB, job_key, live_job
from privet.web.admin.common import N_, Form, guard, officer, page, redirect, text
from privet.web.admin.form_errors import REFUSED, what_to_fix
from privet.web.admin.retention import labels, retention_page

router = APIRouter(prefix="/retention/runs")
READ, WRITE = guard("registers:read"), guard("registers:write")
LIVE = ("running", "dry_running")
CONFIRM = N_("Tick the box to confirm the sweep: it deletes or changes rows in the company's datastores.")
KINDS = ("dry", "sweep")
FLASHES = {
    "started": N_("The run was started; this page follows it."),
    "resumed": N_("The run was resumed from where it stopped."),
}


def _queue(db: DB, run: RetentionRun) -> Job:
    """The run's job (one live job per run: a second start or resume returns the one already queued)."""
    return enqueue(db, RUN_JOB, {"run_id": run.id}, dedupe_key=job_key(run.id))


@router.post("", dependencies=WRITE, response_class=HTMLResponse)
def start(request: Request, form: Form, db: DB) -> Response:
    """Start a dry run (counts only) or a sweep (with the confirmation box ticked)."""
    values = {"kind": text(form, "kind", 10), "confirm": text(form, "confirm", 3) == "yes"}
    try:
        if values["kind"] not in KINDS:
            return retention_page(request, db, values=values, status_code=422, error=N_("Choose a dry run or a sweep."))
        if values["kind"] == "sweep" and not values["confirm"]:
            return retention_page(request, db, values=values, status_code=422, error=CONFIRM)
        run = service.start(db, actor=officer(request).actor, dry_run=values["kind"] == "dry")
        _queue(db, run)
    except REFUSED as exc:
        return retention_page(request, db, values=values, status_code=exc.status, error=what_to_fix(request, db, exc))
    return redirect(f"/admin/retention/runs/{run.id}", done="started")


def _tables(db: DB, run: RetentionRun) -> list[dict]:
    """Per table of the data map's rules (and any the run recorded besides): its state and counts."""
    rules = {rule.key: rule for rule in load_rules(db)}
    out = []
    for key in dict.fromkeys([*rules, *sorted(run.progress)]):
        rule = rules.get(key)
        state = {
            "action": rule.action if rule else None,
            "cutoff": rule.cutoff(run.now).isoformat() if rule else None,
            "skipped": None,
            **(run.progress.get(key) or {}),
        }
        if state.get("skipped"):
            phase = "skipped"
        elif state.get("done"):
            phase = "done"
        elif key in run.progress:
            phase = "working"
        else:
            phase = "waiting" if run.status in LIVE else "not_reached"
        out.append({"key": key, "phase": phase, "changed": state.get("deleted", 0) + state.get("updated", 0), **state})
    return out


PHASES = {
    "waiting": N_("Waiting"),
    "working": N_("In progress"),
    "done": N_("Done"),
    "skipped": N_("Not swept"),
    "not_reached": N_("Not reached"),
}
PHASE_TONE = {"done": "ok", "working": "warn", "skipped": "bad"}


def run_page(
    request: Request, db: DB, run: RetentionRun, *, error: str | None = None, status_code: int = 200
) -> HTMLResponse:
    """One run: its state, per-table progress and counts, and the resume form when it stopped."""
    tables = _tables(db, run)
    job = live_job(db, run.id)
    newest = service.unfinished(db)
    return page(
        request,
        "admin/retention_run.html",
        {
            "run": run,
            "tables": tables,
            "finished": sum(1 for t in tables if t["phase"] in ("done", "skipped")),
            "dry": run.status in service.DRY_STATES,
            "job": job,
            "live": run.status in LIVE and job is not None,
            "resumable": newest is not None and newest.id == run.id and job is None,
            "phases": PHASES,
            "phase_tone": PHASE_TONE,
            **labels(),
        },
        section="retention",
        error=error,
        status_code=status_code,
        flash=FLASHES.get(request.query_params.get("done") or ""),
    )


@router.get("/{run_id}", dependencies=READ, response_class=HTMLResponse)
def show(run_id: str, request: Request, db: DB) -> HTMLResponse:
    """A run, table by table (refreshing itself while a worker is on it)."""
    return run_page(request, db, service.get_run(db, run_id))


@router.post("/{run_id}/resume", dependencies=WRITE, response_class=HTMLResponse)
def resume(run_id: str, request: Request, db: DB) -> Response:
    """Resume the newest unfinished run (failed, or stopped with no worker on it) where its record stopped."""
    run = service.get_run(db, run_id)
    try:
        service.reopen(db, run.id, actor=officer(request).actor)
        _queue(db, run)
    except REFUSED as exc:
        error = what_to_fix(request, db, exc)
        return run_page(request, db, service.get_run(db, run_id), error=error, status_code=exc.status)
    return redirect(f"/admin/retention/runs/{run.id}", done="resumed")
