"""`/openapi.json` made true: security schemes, each operation's requirement, and its error responses.

FastAPI describes parameters, bodies and success answers; what a route accepts as credentials and how it fails
is read here from each route's dependencies, so a new route is described by the same rules without editing it:
- `require(scope)`: an API key (`Authorization: Bearer pvt_...`) or the admin console's session cookie (with the
  `X-CSRF-Token` header on unsafe methods) holding `scope`; 401 without credentials, 403 without the scope;
- `current_subject`: a subject session (`Authorization: Subject ps1...`); 401 without a valid one;
- routes marked public need nothing (an operation may still name the credentials it takes optionally in its
  own `openapi_extra`, and `OWN_CHECKS` lists those checking a password, code or token of their own: 401);
  a rate-limited one answers 429 with Retry-After.
Every error is an RFC 9457 problem body (`application/problem+json`, schema `Problem`): 400 and 413 and 422 where
a request carries a body or parameters, 404 where a path or a body names something, 409 on authenticated writes
(the state forbids it: already done, already exists), 503 while the store cannot be reached.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

API_KEY, ADMIN_SESSION, CSRF, SUBJECT_SESSION = "apiKey", "adminSession", "csrfToken", "subjectSession"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})

SCHEMES: dict[str, dict] = {
    API_KEY: {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "pvt_...",
        "description": "An API key: `Authorization: Bearer pvt_...` (`privet keys create`, or "
        "POST /api/v1/auth/apikeys). A requirement lists the scope the key must hold.",
    },
    ADMIN_SESSION: {
        "type": "apiKey",
        "in": "cookie",
        "name": "privet_session",
        "description": "The admin console's session cookie, set by POST /api/v1/auth/login or the "
        "console's login page. A requirement lists the scope the user's role must hold.",
    },
    CSRF: {
        "type": "apiKey",
        "in": "header",
        "name": "X-CSRF-Token",
        "description": "With the session cookie, unsafe methods also need the CSRF token from the login answer.",
    },
    SUBJECT_SESSION: {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": "A data subject's session: `Authorization: Subject ps1...`, from POST "
        "/api/v1/verify/check or /api/v1/verify/token (or a verified request).",
    },
}

PROBLEM = {
    "type": "object",
    "title": "Problem",
    "required": ["type", "title", "status", "detail"],
    "description": "An RFC 9457 problem: what went wrong, and how to fix it. Never carries personal data.",
    "properties": {
        "type": {"type": "string", "description": "`about:blank`: the status says it all."},
        "title": {"type": "string", "description": "The status in words."},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string", "description": "What went wrong."},
        "hint": {"type": "string", "description": "How to fix it."},
        "errors": {
            "type": "array",
            "description": "Each thing wrong with the input.",
            "items": {
                "type": "object",
                "required": ["message"],
                "properties": {
                    "where": {"type": "string", "description": "e.g. `body.items.3.purpose`, `query.limit`."},
                    "message": {"type": "string"},
                    "hint": {"type": "string"},
                },
            },
        },
    },
}

ERRORS: dict[int, str] = {
    400: "Bad request: the body could not be read as the declared content type.",
    401: "Unauthorized: no valid credentials (see the security requirements).",
    403: "Forbidden: the credentials lack the scope, or the CSRF token is missing or wrong.",
    404: "Not found: something the request names does not exist (or is not the caller's to see).",
    409: "Conflict: the current state forbids it (already done, already exists, no longer possible).",
    413: "Content too large: the body is over this route's limit (PRIVET_MAX_*_BYTES).",
    422: "Invalid input: a parameter or the body does not validate; `errors` names each problem and where.",
    429: "Too many requests: slow down (the Retry-After header says for how long).",
    503: "Service unavailable: the store cannot be reached right now; nothing was changed, try again.",
}

# Public operations that check credentials of their own (a password, a one-time code, a trusted subject token, a
# callback token and signature) answer 401 when they do not hold; a callback for a finished step answers 409.
OWN_CHECKS: dict[str, set[int]] = {
    "POST /api/v1/auth/login": {401},
    "POST /api/v1/verify/check": {401},
    "POST /api/v1/verify/token": {401},
    "POST /api/v1/public/requests": {401},
    "POST /api/v1/public/requests/{reference}/verify": {401},
    "POST /api/v1/requests/callbacks/{step_id}": {401, 409},
}


def install(app: FastAPI) -> None:
    """Make `app.openapi()` (and so `/openapi.json` and `/docs`) return the described document."""
    plain = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            describe(app, plain())  # FastAPI's openapi() keeps the document it returns in app.openapi_schema
        schema = app.openapi_schema
        assert schema is not None
        return schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to replace the document


def describe(app: FastAPI, schema: dict[str, Any]) -> dict[str, Any]:
    """Add security schemes, per-operation requirements and problem responses to FastAPI's `schema`."""
    components = schema.setdefault("components", {})
    components.setdefault("securitySchemes", {}).update(SCHEMES)
    schemas = components.setdefault("schemas", {})
    schemas["Problem"] = PROBLEM
    for path, method, route, calls in _operations(app):
        operation = schema.get("paths", {}).get(path, {}).get(method.lower())
        if operation is not None:
            _describe_operation(operation, path, method, route, calls)
    for unused in ("HTTPValidationError", "ValidationError"):  # replaced by Problem everywhere
        if f'"#/components/schemas/{unused}"' not in _text(schema):
            schemas.pop(unused, None)
    return schema


def _describe_operation(operation: dict, path: str, method: str, route: APIRoute, calls: list[object]) -> None:
    from privet.auth.deps import PUBLIC_MARK, require
    from privet.http.ratelimit import rate_limited
    from privet.subjects.sessions import current_subject

    scopes = sorted({c.scope for c in calls if isinstance(c, require)})
    subject = current_subject in calls
    public = bool((route.openapi_extra or {}).get(PUBLIC_MARK))
    if "security" not in operation:  # an operation that says what it takes optionally keeps its own
        if scopes:
            operation["security"] = [
                {API_KEY: scopes},
                {ADMIN_SESSION: scopes, CSRF: []} if method in UNSAFE else {ADMIN_SESSION: scopes},
            ]
        elif subject:
            operation["security"] = [{SUBJECT_SESSION: []}]
        else:
            operation["security"] = []
    codes = {503}
    if scopes:
        codes |= {401, 403}
    if subject or any(SUBJECT_SESSION in r for r in operation["security"]):
        codes.add(401)
    if any(isinstance(c, rate_limited) for c in calls):
        codes.add(429)
    if operation.get("parameters") or "requestBody" in operation:
        codes.add(422)
    if "requestBody" in operation or method in UNSAFE:
        codes |= {400, 413}
    if "{" in path or "requestBody" in operation:  # a path or a body names things that may not exist
        codes.add(404)
    if method in UNSAFE and not public:
        codes.add(409)
    codes |= OWN_CHECKS.get(f"{method} {path}", set())
    responses = operation.setdefault("responses", {})
    for code in codes:
        answer = responses.setdefault(str(code), {})
        if answer.get("description") in (None, "", "Validation Error"):  # FastAPI's own 422 says no more
            answer["description"] = ERRORS[code]
        if code == 429:
            answer["headers"] = {"Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}}
    for code, answer in responses.items():  # every error, the route's own (e.g. 410) included, is a problem
        if code[:1] in "45":
            answer["content"] = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    operation["responses"] = dict(sorted(responses.items()))


def _operations(app: FastAPI) -> Iterator[tuple[str, str, APIRoute, list[object]]]:
    """(full path, method, route, every dependency callable) of each APIRoute in the schema."""
    try:  # FastAPI >= 0.16x keeps included routers lazy; iter_route_contexts flattens them with their prefixes
        from fastapi.routing import iter_route_contexts

        found: list[tuple[BaseRoute, str | None, Any]] = [
            (c.original_route, c.path, c.dependant)
            for c in iter_route_contexts(app.routes)
            if isinstance(c.original_route, APIRoute)
        ]
    except ImportError:
        found = [(r, getattr(r, "path", ""), getattr(r, "dependant", None)) for r in app.routes]
    for route, path, dependant in found:
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        assert path is not None  # an APIRoute always has its path
        calls = list(_calls(dependant))
        for method in sorted(route.methods or ()):
            yield path, method, route, calls


def _calls(dependant: Any) -> Iterator[object]:
    for dep in dependant.dependencies:
        yield dep.call
        yield from _calls(dep)


def _text(schema: dict) -> str:
    import json

    return json.dumps(schema)
