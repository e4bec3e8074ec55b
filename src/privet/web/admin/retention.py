"""Retention, read-only: the plan (a dry run: per datastore and table, the rule, its cut-off and how many rows a
sweep would remove or keep; counts only) and the record of past runs. Sweeps run from the command line
(`privet retention run`) or the scheduled task, not from a page request."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse

from privet.kit.web import DB
from privet.retention import service
from privet.web.admin.common import N_, guard, keyring, page, settings

router = APIRouter(prefix="/retention")
READ = guard("registers:read")

ACTIONS = {"delete": N_("Delete rows"), "anonymise": N_("Anonymise fields"), "null": N_("Empty fields")}
RUN_STATES = {"running": N_("Running"), "done": N_("Done"), "failed": N_("Failed")}
RUN_TONE = {"running": "warn", "done": "ok", "failed": "bad"}
UNREACHABLE = N_("The datastore could not be reached.")  # the plan's own words, translated on the page


def _plan(db: DB, request: Request) -> list[dict]:
    """`service.plan`, one table at a time: a table whose datastore cannot be counted (not SQL, no secret, out of
    reach) keeps its rule and cut-off and says why, instead of hiding every other table's counts."""
    return [{"problem": None, **entry}
            for entry in service.plan(db, settings(request), keyring(request), tolerant=True)]


@router.get("", dependencies=READ, response_class=HTMLResponse)
def retention(request: Request, db: DB) -> HTMLResponse:
    """The plan (counts per table, nothing changed) and the latest runs."""
    entries = _plan(db, request)
    return page(request, "admin/retention.html", {
        "entries": entries, "problems": [e for e in entries if e["problem"]], "runs": service.list_runs(db),
        "actions": ACTIONS,
        "run_states": RUN_STATES, "run_tone": RUN_TONE}, section="retention")
