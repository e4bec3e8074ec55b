"""Route guards: every non-public route depends on `require(scope)`.

Conventions (checked for every registered route by `tests/test_routes_auth.py`):
- a protected route declares `dependencies=[Depends(require("some:scope"))]`; route-level dependencies
  run before the body is validated, so an anonymous caller gets 401, not 422;
- a public route (health, the privacy centre) says so with `openapi_extra=PUBLIC`
  (`{"x-privet-public": True}`) and, unless it is `/healthz`, is rate-limited with
  `Depends(rate_limited("bucket"))` from `privet.http.ratelimit`.
Callers authenticate with `Authorization: Bearer pvt_...` (API key) or the session cookie set by
`POST /auth/login`; with the cookie, unsafe methods also need the `X-CSRF-Token` header.
"""

from __future__ import annotations

from typing import Annotated

import anyio
from fastapi import Depends, Request

from privet.auth.callers import CSRF_HEADER, SAFE_METHODS, SESSION_COOKIE, caller, known_caller, stored_caller
from privet.auth.principal import Principal
from privet.auth.scopes import SCOPES
from privet.kit.errors import Forbidden, Unauthorized

__all__ = [
    "CSRF_HEADER",
    "PUBLIC",
    "PUBLIC_MARK",
    "SAFE_METHODS",
    "SESSION_COOKIE",
    "Caller",
    "Principal",
    "current_principal",
    "require",
]
PUBLIC_MARK = "x-privet-public"
PUBLIC = {PUBLIC_MARK: True}  # openapi_extra of routes that need no credentials


class require:  # noqa: N801 - used like a function: Depends(require("datamap:read"))
    """A FastAPI dependency that authenticates the caller (`privet.auth.callers`) and checks one scope."""

    def __init__(self, scope: str) -> None:
        if scope not in SCOPES:
            raise ValueError(f"unknown scope {scope!r}")
        self.scope = scope

    def __call__(self, request: Request) -> Principal:
        """As a dependency: FastAPI runs it in a worker thread."""
        return self.admit(request, caller(request))

    async def on_loop(self, request: Request) -> Principal:
        """The same check from the event loop: a key checked lately costs one generation read here; the store is
        asked in a worker thread only for a key not seen lately (or a session cookie)."""
        principal = known_caller(request)
        if principal is None:
            principal = await anyio.to_thread.run_sync(stored_caller, request)
        return self.admit(request, principal)

    def admit(self, request: Request, principal: Principal | None) -> Principal:
        """The caller if it holds the scope (kept on `request.state.principal`); else 401 or 403."""
        if principal is None:
            raise Unauthorized()
        if self.scope not in principal.scopes:
            if principal.scopes <= {"account:self"} and principal.kind == "user":
                raise Forbidden(
                    "This account still has a one-time password", "set your own first: POST /api/v1/auth/me/password"
                )
            raise Forbidden(f"This needs the {self.scope!r} scope", "use a key or a role that grants it")
        request.scope.setdefault("state", {})["principal"] = principal  # = request.state.principal, built lazily
        return principal


def current_principal(request: Request) -> Principal:
    """The caller authenticated by the route's `require` dependency (declare that one first)."""
    principal = getattr(request.state, "principal", None)
    if principal is None:
        raise Unauthorized()
    return principal


Caller = Annotated[Principal, Depends(current_principal)]
