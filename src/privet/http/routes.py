"""HTTP plumbing shared by every domain's routes: the unit-of-work session, error bodies and body limits."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import datetime
from http import HTTPStatus
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BeforeValidator
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException

from privet.db.engine import begin_write, session_scope
from privet.kit.errors import InvalidInput, PrivetError, Problem


def _session(request: Request) -> Iterator[Session]:
    """One session per request, committed once when the route returns without error."""
    with session_scope(request.app.state.sessionmaker) as session:
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            begin_write(session)  # SQLite: queue for the write lock now rather than fail on it later
        yield session


DB = Annotated[Session, Depends(_session, scope="function")]


def _iso_only(value: object) -> object:
    if isinstance(value, (int, float)) or (
        isinstance(value, str) and value.strip().lstrip("+-").replace(".", "", 1).isdigit()
    ):
        raise ValueError("give an ISO 8601 date and time, e.g. 2026-01-31T12:00:00Z")
    return value


# A date and time as the API description says (ISO 8601 text), not also a number of seconds as Pydantic allows.
IsoDateTime = Annotated[datetime, BeforeValidator(_iso_only)]


def problem_response(exc: PrivetError) -> JSONResponse:
    """RFC 9457 problem JSON for a user error."""
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else {}
    headers.update(getattr(exc, "headers", None) or {})  # e.g. Retry-After from http.ratelimit.RateLimited
    return JSONResponse(
        exc.as_problem(), status_code=exc.status, media_type="application/problem+json", headers=headers
    )


async def on_privet_error(_request: Request, exc: PrivetError) -> JSONResponse:
    return problem_response(exc)


async def on_unexpected_error(_request: Request, exc: Exception) -> JSONResponse:
    """Anything unforeseen: a problem body with no internals; the type goes to the log, not the client. A store
    outage met mid-request (a dropped connection) is a 503 to try again, not a 500."""
    import logging

    from privet.kit.outage import store_down, store_unavailable

    if store_unavailable(exc):
        return problem_response(store_down())
    logging.getLogger("privet").error("unhandled %s on a request", type(exc).__name__)
    return JSONResponse(
        {
            "type": "about:blank",
            "title": "Internal error",
            "status": 500,
            "detail": "Privet could not complete this request; nothing was changed",
        },
        status_code=500,
        media_type="application/problem+json",
    )


async def on_validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
    problems = [
        Problem(
            err.get("msg", "invalid"),
            ".".join(str(p) for p in err.get("loc", ())),
            "send a value of the expected type and shape (see /docs)",
        )
        for err in exc.errors()
    ]
    return problem_response(InvalidInput("The request does not validate", problems=problems))


async def on_http_error(_request: Request, exc: HTTPException) -> JSONResponse:
    """Starlette's own errors (404 for an unknown path, 405, a body that cannot be read) as problem bodies too."""
    if isinstance(exc, BodyRefused):
        return problem_response(exc.error)
    status = HTTPStatus(exc.status_code)
    error = PrivetError(str(exc.detail), None, [], exc.status_code, status.phrase)
    headers = dict(exc.headers or {})
    if exc.status_code == 405:  # Starlette names the methods of the first route on the path only
        headers["Allow"] = ", ".join(allowed_methods(_request))
    error.headers = headers  # type: ignore[attr-defined]  # an error's extra headers, read by problem_response
    return problem_response(error)


def allowed_methods(request: Request) -> list[str]:
    """The methods of the route template this path belongs to (the most specific: `/webhooks/deliveries` before
    `/webhooks/{endpoint_id}`), as the API description lists them."""
    templates = getattr(request.app.state, "route_templates", None)
    if templates is None:
        templates = request.app.state.route_templates = _route_templates(request.app)
    path = request.url.path
    matching = [(template.count("{"), template) for template, regex in templates.items() if regex[0].match(path)]
    if not matching:
        return []
    return sorted(templates[min(matching)[1]][1])


def _route_templates(app: Any) -> dict[str, tuple[re.Pattern, set[str]]]:
    from fastapi.routing import APIRoute
    from starlette.routing import compile_path

    try:  # FastAPI >= 0.16x keeps included routers lazy; iter_route_contexts flattens them with their prefixes
        from fastapi.routing import iter_route_contexts

        found = [(c.path, c.original_route) for c in iter_route_contexts(app.routes)]
    except ImportError:
        found = [(getattr(r, "path", ""), r) for r in app.routes]
    out: dict[str, tuple[re.Pattern, set[str]]] = {}
    for template, route in found:
        if isinstance(route, APIRoute):
            assert template is not None  # an APIRoute's context always has its path
            out.setdefault(template, (compile_path(template)[0], set()))[1].update(route.methods or ())
    return out


# --- limits applied while a body is read, before anything parses it -------------------------------------------


class BodyTooLarge(PrivetError):
    def __init__(self, limit: int) -> None:
        super().__init__(
            f"The request body is larger than this route accepts ({limit} bytes)",
            "send less (split a batch or an upload), or ask the operator to raise the limit "
            "(PRIVET_MAX_BODY_BYTES, PRIVET_MAX_PUBLIC_BODY_BYTES, PRIVET_MAX_IMPORT_BYTES)",
            [],
            413,
            "Content too large",
        )


class JsonTooDeep(InvalidInput):
    def __init__(self, limit: int) -> None:
        super().__init__(
            f"The JSON body nests arrays and objects more than {limit} levels deep",
            "send a flatter document (PRIVET_MAX_JSON_DEPTH)",
            [Problem(f"deeper than {limit} levels", "body")],
        )


class BodyRefused(HTTPException):
    """Raised from `receive` while a body is read; an HTTPException so FastAPI's body parsing passes it on
    unchanged (it turns other exceptions into a 400), answered as the problem it carries."""

    def __init__(self, error: PrivetError) -> None:
        super().__init__(error.status, error.detail)
        self.error = error


_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+"')
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_OPENING = frozenset(b"[{")


def json_too_deep(body: bytes, limit: int) -> bool:
    """Whether JSON text nests arrays and objects deeper than `limit`: brackets outside strings are counted,
    nothing is parsed (a parser recursing 100,000 levels is what this prevents)."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False  # the common case: too few brackets to be that deep
    depth = 0
    for byte in _STRING.sub(b"", body).translate(None, _NOT_BRACKETS):
        if byte in _OPENING:
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


_FORMS = ("multipart/form-data", "application/x-www-form-urlencoded")  # flat by nature: nothing to count


class BodyLimits:
    """ASGI middleware mounted outermost: a request body larger than its route's limit is refused with 413
    before it is read (Content-Length) or as soon as the bytes read pass it (chunked bodies), so nothing is
    buffered past the limit; a body (other than a form) whose brackets nest deeper than `max_json_depth` is
    refused with 422 before any parser sees it. It wraps `receive`, so every reader is covered: FastAPI's routes,
    forms, and the decision and recording lanes that read bodies in front of FastAPI."""

    def __init__(self, app: Any, limit_for: Callable[[str], int], max_json_depth: int) -> None:
        self.app, self.limit_for, self.max_json_depth = app, limit_for, max_json_depth

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        length, media = None, ""
        for name, value in scope["headers"]:
            if name == b"content-length":
                length = int(value) if value.isdigit() else None
            elif name == b"content-type":
                media = value.decode("latin-1").split(";")[0].strip().lower()
        if length is not None and length > limit:
            await problem_response(BodyTooLarge(limit))(scope, receive, send)
            return
        depth = 0 if media in _FORMS else self.max_json_depth  # JSON, YAML flow style, or a body sent untyped
        chunks: list[bytes] = []
        size, started = 0, False

        async def limited_receive() -> dict:
            nonlocal size
            message = await receive()
            if message["type"] != "http.request":
                return message
            body = message.get("body", b"")
            size += len(body)
            if size > limit:
                raise BodyRefused(BodyTooLarge(limit))
            if depth:
                chunks.append(body)
                if not message.get("more_body", False):
                    whole = b"".join(chunks)
                    chunks.clear()
                    if json_too_deep(whole, depth):
                        raise BodyRefused(JsonTooDeep(depth))
            return message

        async def watched_send(message: dict) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, watched_send)
        except BodyRefused as exc:  # raised where no exception handler runs (the fast lanes, a page's form)
            if started:
                raise
            await problem_response(exc.error)(scope, receive, send)
