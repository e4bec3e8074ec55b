"""Retention: the plan (per datastore and table, the rule, its cut-off and how many rows a sweep would remove or
keep, as counted by the latest dry run), the forms that start a dry run or a sweep, and the record of past runs.

A run started here is recorded first, then done by a `retention.run` job (the job backend's workers), exactly
as the CLI's sweep does it: batch by batch, its progress saved, so a killed worker's run is taken up again.
The run's own page (`retention_runs`) follows it table by table."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse

from privet.http.routes import DB
from privet.retention import service
from privet.retention.models import RetentionRun
from privet.web.admin.common import N_, guard, keyring, page, settings

router = APIRouter(prefix="/retention")
READ = guard("registers:read")

ACTIONS = {"delete": N_("Delete rows"), "anonymise": N_("Anonymise fields"), "null": N_("Empty fields")}
RUN_STATES = {
    "running": N_("Running"),
    "done": N_("Done"),
    "failed": N_("Failed"),
    "dry_running": N_("Dry run in progress"),
    "dry_done": N_("Dry run done"),
}
RUN_TONE = {"running": "warn", "done": "ok", "failed": "bad", "dry_running": "warn", "dry_done": "ok"}
UNREACHABLE = N_("The datastore could not be reached.")  # the plan's own words, translated on the page


COUNTED = ("expired", "would_sweep", "kept_referenced", "kept_held")


def _plan(db: DB, request: Request, counted: RetentionRun | None) -> list[dict]:
    """The rules and cut-offs now, with the counts of the latest dry run (`counted`): counting every table live
    took seconds on a company of 100,000 customers. A table the dry run could not count (not SQL, no secret, out
    of reach) keeps its rule and cut-off and says why, instead of hiding every other table's counts."""
    entries = [
        {"problem": None, **entry}
        for entry in service.plan(db, settings(request), keyring(request), tolerant=True, counts=False)
    ]
    for entry in entries:
        state = (counted.progress.get(entry["rule"]) if counted is not None else None) or {}
        if entry["problem"] is None and state.get("skipped"):
            entry["problem"] = state["skipped"]
        entry.update({key: state[key] for key in COUNTED if key in state and entry["problem"] is None})
    return entries


def labels() -> dict:
    """The words of the retention pages' codes (translated in the templates)."""
    return {"actions": ACTIONS, "run_states": RUN_STATES, "run_tone": RUN_TONE}


def retention_page(
    request: Request, db: DB, *, error: str | None = None, status_code: int = 200, values: dict | None = None
) -> HTMLResponse:
    """The plan, the run forms (with `values` kept after a refused form) and the latest runs."""
    counted = service.latest_dry_run(db)
    entries = _plan(db, request, counted)
    return page(
        request,
        "admin/retention.html",
        {
            "entries": entries,
            "counted": counted,
            "problems": [e for e in entries if e["problem"]],
            "runs": service.list_runs(db),
            "unfinished": service.unfinished(db),
            "values": values or {},
            **labels(),
        },
        section="retention",
        error=error,
        status_code=status_code,
    )


@router.get("", dependencies=READ, response_class=HTMLResponse)
def retention(request: Request, db: DB) -> HTMLResponse:
    """The plan (counts per table, nothing changed), the run forms and the latest runs."""
    return retention_page(request, db)
