"""`/readyz`: whether this process can serve, as a load balancer or an orchestrator asks (`/healthz` only says
that the process answers).

Ready means: the store answers, its migrations are the ones this code needs, the decision cache is current
(loaded, and caught up with the ledger through the decision watch), and at least one sender can deliver one-time
codes. Otherwise 503 with a problem body whose `checks` say what is not ready; nothing personal is in it. The
answer is computed at most every `CACHE_SECONDS` per process, so probes (and anyone else: the route is public,
like `/healthz`) cost the store a few queries a second at most.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from privet.auth.deps import PUBLIC
from privet.kit.outage import store_unavailable

router = APIRouter(tags=["health"])
CACHE_SECONDS = 0.5
_lock = threading.Lock()


def _store(state: Any) -> str | None:
    try:
        with state.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure to answer is "not ready"
        return f"unreachable ({type(exc).__name__})"
    return None


def _migrations(state: Any) -> str | None:
    from privet.db.migrate import current_revision, head_revision

    try:
        current, head = current_revision(state.engine), head_revision()
    except Exception as exc:  # noqa: BLE001
        return f"cannot be read ({type(exc).__name__})"
    if current != head:
        return f"the store is at migration {current or 'none'}, the code needs {head} (run `privet db upgrade`)"
    return None


def _decisions(app: Any) -> str | None:
    from privet.consent.decisions.api import fresh_decider, load_decider

    try:
        if getattr(app.state, "decider", None) is None:
            load_decider(app)
        fresh_decider(app.state)  # raises while the watch cannot read the store
    except Exception as exc:  # noqa: BLE001
        reason = (
            "the store is unreachable"
            if store_unavailable(exc) or getattr(exc, "status", 0) == 503
            else type(exc).__name__
        )
        return f"not current ({reason})"
    return None


def _senders(settings: Any) -> tuple[dict, str | None]:
    from privet.subjects.senders import KINDS, cannot_deliver, sender_kind

    found = {}
    for channel in KINDS:
        why = cannot_deliver(channel, settings)
        found[channel] = why or f"{sender_kind(channel, settings)}"
    if all(cannot_deliver(channel, settings) for channel in KINDS):
        return found, "no sender can deliver one-time codes (set PRIVET_MAIL_SENDER or PRIVET_SMS_SENDER)"
    return found, None


def readiness(app: Any) -> tuple[bool, dict]:
    """(ready, checks): each check "ok" or what is wrong, and the sender of each channel."""
    state = app.state
    store = _store(state)
    migrations = _migrations(state) if store is None else "not checked (the store is unreachable)"
    decisions = _decisions(app) if store is None else "not current (the store is unreachable)"
    senders, codes = _senders(state.settings)
    checks = {
        "store": store or "ok",
        "migrations": migrations or "ok",
        "decisions": decisions or "ok",
        "codes": codes or "ok",
        "senders": senders,
    }
    return not any((store, migrations, decisions, codes)), checks


@router.get(
    "/readyz",
    summary="Readiness: the store, migrations, decision cache and code senders are ready.",
    openapi_extra=PUBLIC,
    responses={503: {"description": "Not ready: the body's `checks` say why."}},
)
def readyz(request: Request) -> JSONResponse:
    app = request.app
    with _lock:  # one check at a time per process; others share its answer
        cached = getattr(app.state, "readiness", None)
        if cached is None or time.monotonic() - cached[0] > CACHE_SECONDS:
            cached = app.state.readiness = (time.monotonic(), *readiness(app))
    _, ready, checks = cached
    if ready:
        return JSONResponse({"status": "ready", "checks": checks})
    failing = [name for name in ("store", "migrations", "decisions", "codes") if checks[name] != "ok"]
    return JSONResponse(
        {
            "type": "about:blank",
            "title": "Not ready",
            "status": 503,
            "detail": f"Not ready: {', '.join(failing)}",
            "checks": checks,
        },
        status_code=503,
        media_type="application/problem+json",
    )
