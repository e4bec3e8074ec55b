"""HTTP plumbing shared by every domain's routes: the unit-of-work session and error bodies."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from privet.db.engine import begin_write, session_scope
from privet.kit.errors import InvalidInput, PrivetError, Problem


def _session(request: Request) -> Iterator[Session]:
    """One session per request, committed once when the route returns without error."""
    with session_scope(request.app.state.sessionmaker) as session:
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            begin_write(session)  # SQLite: queue for the write lock now rather than fail on it later
        yield session


DB = Annotated[Session, Depends(_session, scope="function")]


def problem_response(exc: PrivetError) -> JSONResponse:
    """RFC 9457 problem JSON for a user error."""
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else {}
    headers.update(getattr(exc, "headers", None) or {})  # e.g. Retry-After from kit.ratelimit.RateLimited
    return JSONResponse(exc.as_problem(), status_code=exc.status, media_type="application/problem+json",
                        headers=headers)


async def on_privet_error(_request: Request, exc: PrivetError) -> JSONResponse:
    return problem_response(exc)


async def on_unexpected_error(_request: Request, exc: Exception) -> JSONResponse:
    """Anything unforeseen: a problem body with no internals; the type goes to the log, not the client."""
    import logging

    logging.getLogger("privet").error("unhandled %s on a request", type(exc).__name__)
    return JSONResponse({"type": "about:blank", "title": "Internal error", "status": 500,
                         "detail": "Privet could not complete this request; nothing was changed"},
                        status_code=500, media_type="application/problem+json")


async def on_validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
    problems = [
        Problem(err.get("msg", "invalid"), ".".join(str(p) for p in err.get("loc", ())),
                "send a value of the expected type and shape (see /docs)")
        for err in exc.errors()
    ]
    return problem_response(InvalidInput("The request does not validate", problems=problems))
