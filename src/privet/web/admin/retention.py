"""Retention, read-only: the plan (a dry run: per datastore and table, the rule, its cut-off and how many rows a
sweep would remove or keep; counts only) and the record of past runs. Sweeps run from the command line
(`privet retention run`) or the scheduled task, not from a page request."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse

from privet.kit.clock import utcnow
from privet.kit.errors import PrivetError
from privet.kit.web import DB
from privet.retention import service, sweep
from privet.retention.rules import load_rules
from privet.web.admin.common import N_, guard, keyring, page, settings

router = APIRouter(prefix="/retention")
READ = guard("registers:read")
log = logging.getLogger(__name__)

ACTIONS = {"delete": N_("Delete rows"), "anonymise": N_("Anonymise fields"), "null": N_("Empty fields")}
RUN_STATES = {"running": N_("Running"), "done": N_("Done"), "failed": N_("Failed")}
RUN_TONE = {"running": "warn", "done": "ok", "failed": "bad"}
UNREACHABLE = N_("The datastore could not be reached.")


def _plan(db: DB, request: Request) -> list[dict]:
    """`service.plan`, one table at a time: a table whose datastore cannot be counted (not SQL, no secret, out of
    reach) keeps its rule and cut-off and says why, instead of hiding every other table's counts."""
    now = utcnow()
    conf = settings(request)
    held = service.held_identities(db, keyring(request))
    out = []
    for rule in load_rules(db):
        entry = {"datastore": rule.datastore, "table": rule.table, "trigger": rule.trigger, "column": rule.column,
                 "duration": str(rule.duration), "action": rule.action, "cutoff": rule.cutoff(now).isoformat(),
                 "legal_minimum": str(rule.legal_minimum) if rule.legal_minimum else None,
                 "legal_reference": rule.legal_reference, "overridden": rule.overridden, "problem": None}
        try:
            with service._engine(rule, conf).connect() as conn:  # noqa: SLF001 - the plan's own engine choice
                entry.update(sweep.count(conn, sweep.reflect(conn, rule), rule, now, held))
        except PrivetError as exc:
            entry["problem"] = exc.detail
        except Exception as exc:  # noqa: BLE001 - a datastore out of reach: the other tables are still counted
            log.warning("retention plan: %s not counted (%s)", rule.key, type(exc).__name__)
            entry["problem"] = UNREACHABLE
        out.append(entry)
    return out


@router.get("", dependencies=READ, response_class=HTMLResponse)
def retention(request: Request, db: DB) -> HTMLResponse:
    """The plan (counts per table, nothing changed) and the latest runs."""
    entries = _plan(db, request)
    return page(request, "admin/retention.html", {
        "entries": entries, "problems": [e for e in entries if e["problem"]], "runs": service.list_runs(db),
        "actions": ACTIONS,
        "run_states": RUN_STATES, "run_tone": RUN_TONE}, section="retention")
