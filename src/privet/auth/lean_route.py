"""`LeanRoute`: a FastAPI route for the hottest endpoints (decisions, consent recordings), answered by its endpoint
alone, without FastAPI's dependency solving.

Declared like any route (`body: Model`, `request: Request`, `dependencies=[Depends(require(scope))]`), so that
/openapi.json and the route checks describe it as usual. Its handler does what FastAPI's would, in the same order
and with the same errors, at a fraction of the cost: read the body and parse JSON (422 when it is not JSON), run
the route's `require` from the event loop (`require.on_loop`: 401/403), validate the body with its model (422
naming each problem under `body.`), then await the endpoint, which returns a `Response`.
"""

from __future__ import annotations

import email.message
import functools
import inspect
import json
from collections.abc import Callable, Coroutine
from typing import Any

import orjson
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from privet.auth.deps import require

_NO_BODY = object()


class LeanRoute(APIRoute):
    """An APIRoute whose handler authenticates with `require.on_loop` and validates its one body model itself."""

    @functools.cached_property
    def answer(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """The one implementation of this route: body, authentication, validation, endpoint."""
        guards = [d.dependency for d in self.dependencies]
        if len(guards) != 1 or not isinstance(guards[0], require):
            raise TypeError(f"{self.path}: a LeanRoute takes exactly one dependency, require(scope)")
        guard, endpoint = guards[0], self.endpoint
        params = inspect.signature(endpoint, eval_str=True).parameters
        request_name = next(n for n, p in params.items() if p.annotation is Request)
        body_name, model = next((n, p.annotation) for n, p in params.items() if n != request_name)
        if len(params) != 2 or not issubclass(model, BaseModel) or not inspect.iscoroutinefunction(endpoint):
            raise TypeError(f"{self.path}: a LeanRoute's endpoint is `async def (body: Model, request: Request)`")

        prepare = self.prepare

        async def answer(request: Request) -> Response:
            data = _json(request, await _body(request))
            await prepare(request)
            await guard.on_loop(request)
            return await endpoint(**{body_name: validated(model, data, ("body",)), request_name: request})

        return answer

    async def prepare(self, request: Request) -> None:
        """Before authentication: a subclass may read the store here once for the whole request (and hand the
        revocation generation over in `request.scope[callers.REVOCATIONS_READ]`). Nothing by default."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        return self.answer  # reached only when the app has no front route for it (see `mount_in_front`)

    def asgi(self) -> ASGIApp:
        """The route as a bare ASGI app (no per-request exit stacks: nothing here needs them)."""
        return _Bare(self)


class _Bare:
    """An ASGI app answering with a LeanRoute's `answer` (a class, so that Starlette's `Route` takes it as an app)."""

    def __init__(self, route: LeanRoute) -> None:
        self.route, self.answer = route, route.answer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self.answer(Request(scope, receive, send))
        await response(scope, receive, send)


def mount_in_front(app: FastAPI) -> None:
    """Match the app's LeanRoutes before every other route, as plain Starlette routes answering through the same
    `answer` (FastAPI matches included routers one route at a time: the hottest endpoints should not wait for
    that). The declarations stay where they are, for /openapi.json and the route checks."""
    from fastapi.routing import iter_route_contexts

    front = []
    for c in iter_route_contexts(app.routes):
        route = c.original_route
        if isinstance(route, LeanRoute):
            assert c.path is not None and route.methods is not None  # a route is declared with a path and methods
            front.append(Route(c.path, route.asgi(), methods=list(route.methods), include_in_schema=False))
    app.router.routes[:0] = front


async def _body(request: Request) -> bytes:
    """The whole body, read straight from the ASGI messages (cheaper than `Request.body`'s stream, same result)."""
    chunks = []
    while True:
        try:
            message = await request.receive()
        except HTTPException:  # e.g. over the body limit: answered as it is
            raise
        except Exception as exc:  # as FastAPI answers a body it cannot read
            raise HTTPException(status_code=400, detail="There was an error parsing the body") from exc
        if message["type"] != "http.request":
            raise ClientDisconnect()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _json(request: Request, body: bytes) -> Any:
    """The body as FastAPI reads it: JSON when the content type says so, else the bytes (which then do not
    validate), nothing when empty."""
    if not body:
        return _NO_BODY
    content_type = next((v.decode("latin-1") for k, v in request.scope["headers"] if k == b"content-type"), None)
    if content_type != "application/json":  # the common case spares the header parsing
        if not content_type:
            return body
        message = email.message.Message()
        message["content-type"] = content_type
        subtype = message.get_content_subtype()
        if message.get_content_maintype() != "application" or not (subtype == "json" or subtype.endswith("+json")):
            return body
    try:
        return orjson.loads(body)  # strict JSON, fast; whatever it refuses, the standard library decides
    except orjson.JSONDecodeError:
        pass
    try:
        return json.loads(body)
    except json.JSONDecodeError as exc:
        raise RequestValidationError(
            [
                {
                    "type": "json_invalid",
                    "loc": ("body", exc.pos),
                    "msg": "JSON decode error",
                    "input": {},
                    "ctx": {"error": exc.msg},
                }
            ],
            body=exc.doc,
        ) from exc
    except Exception as exc:  # e.g. not UTF-8: as FastAPI answers a body it cannot read
        raise HTTPException(status_code=400, detail="There was an error parsing the body") from exc


def validated(model: type[BaseModel], data: object, where: tuple) -> Any:
    """`data` as a `model`, or the 422 FastAPI would answer, each problem located under `where`."""
    if data is _NO_BODY:
        raise RequestValidationError([{"type": "missing", "loc": where, "msg": "Field required", "input": None}])
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise RequestValidationError([{**e, "loc": (*where, *e["loc"])} for e in exc.errors()]) from None
