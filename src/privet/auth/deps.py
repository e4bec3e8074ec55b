"""Route guards: every non-public route depends on `require(scope)`.

Conventions (checked for every registered route by `tests/test_routes_auth.py`):
- a protected route declares `dependencies=[Depends(require("some:scope"))]`; route-level dependencies
  run before the body is validated, so an anonymous caller gets 401, not 422;
- a public route (health, the privacy centre) says so with `openapi_extra=PUBLIC`
  (`{"x-privet-public": True}`) and, unless it is `/healthz`, is rate-limited with
  `Depends(rate_limited("bucket"))` from `privet.kit.ratelimit`.
Callers authenticate with `Authorization: Bearer pvt_...` (API key) or the session cookie set by
`POST /auth/login`; with the cookie, unsafe methods also need the `X-CSRF-Token` header.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from privet.auth.scopes import SCOPES
from privet.kit.errors import Forbidden, Unauthorized

SESSION_COOKIE = "privet_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PUBLIC_MARK = "x-privet-public"
PUBLIC = {PUBLIC_MARK: True}  # openapi_extra of routes that need no credentials


@dataclass(frozen=True)
class Principal:
    """Who is calling: a logged-in user or an API key, with the scopes it holds."""

    kind: str  # "user" or "apikey"
    id: str
    name: str
    scopes: frozenset[str] = field(default_factory=frozenset)
    session_id: str | None = None  # the browser session, for users who logged in

    @property
    def actor(self) -> str:
        """The audit actor string, e.g. `user:alice` or `apikey:pk_ab12cd34`."""
        return f"{self.kind}:{self.name}"


class require:  # noqa: N801 - used like a function: Depends(require("datamap:read"))
    """A FastAPI dependency that authenticates the caller and checks one scope."""

    def __init__(self, scope: str):
        if scope not in SCOPES:
            raise ValueError(f"unknown scope {scope!r}")
        self.scope = scope

    def __call__(self, request: Request) -> Principal:
        from privet.auth import keys, service  # late: keeps import graph acyclic

        auth = request.headers.get("authorization", "")
        principal = keys.recent_principal(auth[7:].strip()) if auth[:7].lower() == "bearer " else None
        if principal is None:
            principal = _checked(request, service)
        if principal is None:
            raise Unauthorized()
        if self.scope not in principal.scopes:
            if principal.scopes <= {"account:self"} and principal.kind == "user":
                raise Forbidden("This account still has a one-time password",
                                "set your own first: POST /api/v1/auth/me/password")
            raise Forbidden(f"This needs the {self.scope!r} scope", "use a key or a role that grants it")
        request.state.principal = principal
        return principal


def current_principal(request: Request) -> Principal:
    """The caller authenticated by the route's `require` dependency (declare that one first)."""
    principal = getattr(request.state, "principal", None)
    if principal is None:
        raise Unauthorized()
    return principal


Caller = Annotated[Principal, Depends(current_principal)]


def _checked(request: Request, service) -> Principal | None:  # noqa: ANN001
    """Authenticate against the store in a short session of its own, outside the route's unit of work."""
    from sqlalchemy.exc import OperationalError

    with request.app.state.sessionmaker() as session:
        principal = _authenticate(session, request, service)
        try:
            session.commit()  # last-used timestamps only
        except OperationalError:  # a busy SQLite store: the timestamp can wait for the next minute
            session.rollback()
    return principal


def _authenticate(session: Session, request: Request, service) -> Principal | None:  # noqa: ANN001
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return service.principal_for_api_key(session, auth[7:].strip())
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        principal = service.principal_for_session(session, cookie)
        if principal is not None and request.method not in SAFE_METHODS:
            if not service.csrf_ok(session, cookie, request.headers.get(CSRF_HEADER, "")):
                raise Forbidden("Missing or wrong CSRF token", f"send the {CSRF_HEADER} header from the login answer")
        return principal
    return None
