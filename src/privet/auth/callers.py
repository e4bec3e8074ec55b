"""Who is calling: the one authentication of every API route (through `require`, see `privet.auth.deps`).

Callers authenticate with `Authorization: Bearer pvt_...` (an API key) or the session cookie set by
`POST /auth/login`; with the cookie, unsafe methods also need the `X-CSRF-Token` header.

A key checked against the store is remembered by this process under the store's API-key revocation generation
(`privet.auth.keys`). Each later request with it reads the generation again, one row by primary key on a connection
of its own (`revocation_generation`; the decision route reads it with its own per-request query), and uses the
memory only while the generation is unchanged: from the commit of a revocation on, the next request in every
process checks the key in the store again and is refused.
"""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy.exc import OperationalError
from starlette.requests import Request

from privet.auth import keys, sessions
from privet.auth.principal import Principal
from privet.db.watch import StatementWatch
from privet.kit.errors import Forbidden

SESSION_COOKIE = "privet_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Scope key: the revocation generation a route already read for this request, in the same statement as its own
# store read (the decision route's), so that the request reads the store once.
REVOCATIONS_READ = "privet.revocations"
_WATCH_LOCK = threading.Lock()


def bearer(request: Request) -> str | None:
    """The bearer token of the request, or None when it carries no `Authorization: Bearer ...`."""
    for name, value in request.scope["headers"]:  # the raw list: no Headers object on the hot routes' way
        if name == b"authorization":
            auth = value.decode("latin-1")
            return auth[7:].strip() if auth[:7].lower() == "bearer " else None
    return None


def revocation_generation(state: Any) -> int:
    """The store's API-key revocation generation, read now (one row, on the app's own watch connection)."""
    watch = getattr(state, "key_revocations", None)
    if watch is None or watch.sessionmaker is not state.sessionmaker:  # (tests swap in their own sessionmaker)
        with _WATCH_LOCK:
            watch = getattr(state, "key_revocations", None)
            if watch is None or watch.sessionmaker is not state.sessionmaker:
                if watch is not None:
                    watch.close()
                watch = state.key_revocations = StatementWatch(state.sessionmaker, keys.revocations_statement())
    row = watch()
    return row[0] if row and row[0] is not None else 0


def known_caller(request: Request) -> Principal | None:
    """The caller of a key this process checked lately and nobody revoked since: no store check (None: check it)."""
    token = bearer(request)
    if not token or not keys.is_known(token):
        return None
    current = request.scope.get(REVOCATIONS_READ)
    return keys.known_principal(token, revocation_generation(request.app.state) if current is None else current)


def stored_caller(request: Request) -> Principal | None:
    """The caller checked against the store, in a short session of its own outside the route's unit of work (a
    blocking call: run it in a worker thread)."""
    with request.app.state.sessionmaker() as session:
        principal = _authenticate(session, request)
        try:
            session.commit()  # last-used timestamps only
        except OperationalError:  # a busy SQLite store: the timestamp can wait for the next minute
            session.rollback()
    return principal


def caller(request: Request) -> Principal | None:
    """Who is calling, or None for nobody (a blocking call: run it in a worker thread)."""
    return known_caller(request) or stored_caller(request)


def _authenticate(session: Any, request: Request) -> Principal | None:
    token = bearer(request)
    if token is not None:
        return keys.principal_for_api_key(session, token)
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        principal = sessions.principal_for_session(session, cookie)
        if (
            principal is not None
            and request.method not in SAFE_METHODS
            and not sessions.csrf_ok(session, cookie, request.headers.get(CSRF_HEADER, ""))
        ):
            raise Forbidden("Missing or wrong CSRF token", f"send the {CSRF_HEADER} header from the login answer")
        return principal
    return None
