"""Every registered route needs credentials (401) and the right scope (403), unless it is marked public.

New routes are checked automatically: a route without a `require(...)` dependency fails here by path.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi import Depends, FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from privet.auth import service
from privet.auth.deps import PUBLIC, PUBLIC_MARK, require
from privet.auth.scopes import SCOPES
from privet.http.ratelimit import rate_limited
from privet.settings import Settings
from privet.web.guard import require_page


@dataclass
class RouteInfo:
    path: str
    methods: set[str]
    public: bool
    scopes: set[str]
    rate_limited: bool
    page: bool = False  # an admin console page: guarded by require_page (login redirect, then scope)


def _calls(dependant) -> Iterator[object]:
    for dep in dependant.dependencies:
        yield dep.call
        yield from _calls(dep)


def api_routes(app: FastAPI) -> list[RouteInfo]:
    """Every APIRoute with its full path, including routers mounted with `include_router`."""
    try:  # FastAPI ≥ 0.16x keeps included routers lazy; iter_route_contexts flattens them with prefixes
        from fastapi.routing import iter_route_contexts

        found = [
            (c.original_route, c.path, c.dependant)
            for c in iter_route_contexts(app.routes)
            if isinstance(c.original_route, APIRoute)
        ]
    except ImportError:
        found = [(r, r.path, r.dependant) for r in app.routes]
    out = []
    for route, path, dependant in found:
        if not isinstance(route, APIRoute):
            continue  # /docs, /openapi.json, static files: no data behind them
        calls = list(_calls(dependant))
        out.append(
            RouteInfo(
                path=path,
                methods=set(route.methods),
                public=bool((route.openapi_extra or {}).get(PUBLIC_MARK)),
                scopes={c.scope for c in calls if isinstance(c, require)},
                rate_limited=any(isinstance(c, rate_limited) for c in calls),
                page=any(isinstance(c, require_page) for c in calls),
            )
        )
    return out


def unguarded(app: FastAPI) -> list[str]:
    """Paths that break the convention: protected without `require`, or public without a rate limit."""
    bad = [
        f"{sorted(r.methods)} {r.path}: no require(...) dependency and not marked public"
        for r in api_routes(app)
        if not r.public and not r.scopes
    ]
    bad += [
        f"{sorted(r.methods)} {r.path}: public but not rate-limited"
        for r in api_routes(app)
        if r.public and not r.rate_limited and r.path not in ("/healthz", "/readyz")
    ]
    bad += [
        f"{sorted(r.methods)} {r.path}: public yet requires {r.scopes}"
        for r in api_routes(app)
        if r.public and r.scopes
    ]
    return bad


def _fill(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "00000000", path)


@pytest.mark.promise("P24")
def test_every_route_is_guarded_or_public() -> None:
    from privet.app import create_app

    app = create_app(Settings())
    assert len(api_routes(app)) > 5  # the walk found the included routers
    problems = unguarded(app)
    assert not problems, "routes without authentication:\n" + "\n".join(problems)


def test_the_walk_catches_an_unguarded_route() -> None:
    app = FastAPI()

    @app.get("/leak")
    def leak() -> dict:
        return {}

    @app.get("/ok", dependencies=[Depends(require("audit:read"))])
    def ok() -> dict:
        return {}

    @app.post("/open", openapi_extra=PUBLIC)
    def open_form() -> dict:
        return {}

    problems = unguarded(app)
    assert len(problems) == 2 and "/leak" in problems[0] and "/open: public but not rate-limited" in problems[1]


def test_401_without_credentials_and_403_without_scope(client: TestClient, db) -> None:
    keys: dict[str, str] = {}

    def key_with(scope: str) -> str:
        if scope not in keys:
            keys[scope] = service.create_api_key(db, f"only-{scope}", [scope], actor="test:routes")[1]
            db.commit()
        return keys[scope]

    failures, checked = [], 0
    for route in api_routes(client.app):
        if route.public:
            continue
        for method in sorted(route.methods):
            path = _fill(route.path)
            body = {} if method in {"POST", "PUT", "PATCH", "DELETE"} else None
            if route.page:  # browsers: anonymous goes to the login page (the scope check: tests/web/admin)
                answer = client.request(method, path, follow_redirects=False)
                if answer.status_code != 303 or not answer.headers["location"].startswith("/admin/login"):
                    failures.append(
                        f"{method} {route.path}: {answer.status_code} without a session, expected "
                        "a redirect to the login page"
                    )
                checked += 1
                continue
            anonymous = client.request(method, path, json=body)
            if anonymous.status_code != 401:
                failures.append(f"{method} {route.path}: {anonymous.status_code} without credentials, expected 401")
            other = sorted(set(SCOPES) - route.scopes)[0]
            response = client.request(method, path, json=body, headers={"Authorization": f"Bearer {key_with(other)}"})
            if response.status_code != 403 or not any(s in response.text for s in route.scopes):
                failures.append(
                    f"{method} {route.path}: {response.status_code} with a key holding only {other!r}, "
                    f"expected 403 naming {sorted(route.scopes)}"
                )
            checked += 1
    assert checked > 5
    assert not failures, "\n".join(failures)


def test_authentication_precedes_body_validation(client: TestClient, db) -> None:
    """Why `{}` bodies are enough above: route-level `require` runs before the body is validated."""
    path = "/api/v1/auth/users"
    assert client.post(path, json={}).status_code == 401
    # FastAPI parses JSON before running any dependency, so unparseable bytes get 422 first; nothing
    # else runs for them (no session, no handler), so they reveal nothing but the route's existence.
    assert client.post(path, content=b"{not json", headers={"content-type": "application/json"}).status_code == 422
    token = service.create_api_key(db, "admin", ["users:admin"], actor="test:routes")[1]
    db.commit()
    assert client.post(path, json={}, headers={"Authorization": f"Bearer {token}"}).status_code == 422
