"""Route guards: every non-public route depends on `require(scope)`."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import Request
from sqlalchemy.orm import Session

from privet.auth.scopes import SCOPES
from privet.kit.errors import Forbidden, Unauthorized

SESSION_COOKIE = "privet_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Principal:
    """Who is calling: a logged-in user or an API key, with the scopes it holds."""

    kind: str  # "user" or "apikey"
    id: str
    name: str
    scopes: frozenset[str] = field(default_factory=frozenset)

    @property
    def actor(self) -> str:
        """The audit actor string, e.g. `user:0191…` or `apikey:pk_ab12`."""
        return f"{self.kind}:{self.name}"


class require:  # noqa: N801 - used like a function: Depends(require("datamap:read"))
    """A FastAPI dependency that authenticates the caller and checks one scope."""

    def __init__(self, scope: str):
        if scope not in SCOPES:
            raise ValueError(f"unknown scope {scope!r}")
        self.scope = scope

    def __call__(self, request: Request) -> Principal:
        from privet.auth import service  # late: keeps import graph acyclic

        factory = request.app.state.sessionmaker
        with factory() as session:  # short read-only session; the route has its own unit of work
            principal = _authenticate(session, request, service)
            session.commit()  # last-used timestamps
        if principal is None:
            raise Unauthorized()
        if self.scope not in principal.scopes:
            raise Forbidden(f"This needs the {self.scope!r} scope", "use a key or a role that grants it")
        request.state.principal = principal
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
