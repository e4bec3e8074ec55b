"""Limits before parsing: body size per route class, JSON depth, integer ranges. Each is a problem+json 4xx.

The body limits are enforced while the body is read (`privet.http.routes.BodyLimits`, mounted outermost), so they hold
for the decision and recording lanes in front of FastAPI too, and a chunked body is refused without being read
whole: the tests count the chunks the app pulled.
"""

from __future__ import annotations

import asyncio
import json

import pytest
from fastapi.testclient import TestClient

from privet.app import body_limit_for, create_app
from privet.auth import service
from privet.http.routes import json_too_deep
from privet.settings import Settings
from tests.test_routes_auth import api_routes

MB = 1024 * 1024
DEEP = b"[" * 100_000 + b"]" * 100_000


def _key(client: TestClient, *scopes: str) -> dict[str, str]:
    with client.app.state.sessionmaker() as session:
        _, token = service.create_api_key(session, "limits", list(scopes), actor="test")
        session.commit()
    return {"Authorization": f"Bearer {token}"}


def _problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body["detail"]
    return body


def _stream(app, path: str, chunks: int, chunk: bytes, headers: list | None = None) -> tuple[int, int, bytes]:
    """POST a chunked body (no Content-Length) straight to the ASGI app: (status, chunks pulled, answer body)."""
    pulled, answer = 0, {"status": 0, "body": b""}

    async def receive() -> dict:
        nonlocal pulled
        pulled += 1
        if pulled > chunks:
            return {"type": "http.disconnect"}
        return {"type": "http.request", "body": chunk, "more_body": pulled < chunks}

    async def send(message: dict) -> None:
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
        elif message["type"] == "http.response.body":
            answer["body"] += message.get("body", b"")

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", b"application/json"),
            (b"transfer-encoding", b"chunked"),
            *(headers or []),
        ],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
        "state": {},
        "app": app,
    }
    asyncio.run(app(scope, receive, send))
    return answer["status"], pulled, answer["body"]


def test_route_classes(settings: Settings) -> None:
    limit = body_limit_for(settings)
    small, medium, large = settings.max_public_body_bytes, settings.max_body_bytes, settings.max_import_bytes
    assert small < medium < large
    for path in (
        "/banner/choice",
        "/signin",
        "/requests",
        "/api/v1/verify/start",
        "/api/v1/public/requests",
        "/api/v1/consent/me",
        "/api/v1/consent/cookies",
        "/api/v1/auth/login",
        "/admin/login",
    ):
        assert limit(path) == small, path
    for path in ("/api/v1/decisions/batch", "/api/v1/consent/records", "/admin/users", "/api/v1/notices/x/versions"):
        assert limit(path) == medium, path
    for path in (
        "/api/v1/datamap/validate",
        "/api/v1/datamap/apply",
        "/api/v1/requests/tasks/t1/complete",
        "/api/v1/requests/callbacks/s1",
        "/admin/requests/R-1/tasks/t1/complete",
    ):
        assert limit(path) == large, path


def test_every_public_route_has_the_small_limit_but_callbacks() -> None:
    settings = Settings()
    limit = body_limit_for(settings)
    app = create_app(settings)
    wrong = [
        r.path
        for r in api_routes(app)
        if r.public
        and r.path != "/healthz"
        and limit(r.path.replace("{", "").replace("}", "")) != settings.max_public_body_bytes
        and not r.path.startswith("/api/v1/requests/callbacks/")
    ]
    assert not wrong, wrong


def test_content_length_over_the_limit_is_413_before_reading(client: TestClient) -> None:
    body = b'{"visitor_id": "' + b"a" * (client.app.state.settings.max_public_body_bytes) + b'"}'
    _problem(client.post("/banner/choice", content=body, headers={"content-type": "application/json"}), 413)
    headers = _key(client, "decide", "consent:write")
    big = json.dumps({"items": [{"subject_id": "s" * 100, "purpose": "p" * 100}] * 6000}).encode()
    assert len(big) > client.app.state.settings.max_body_bytes
    for path in ("/api/v1/decisions/batch", "/api/v1/decisions", "/api/v1/consent/records"):
        _problem(client.post(path, content=big, headers={**headers, "content-type": "application/json"}), 413)


def test_a_chunked_body_is_refused_as_it_streams(client: TestClient) -> None:
    """51 MB sent in 1 MB chunks to the banner: refused after the first chunk, the rest never read."""
    app = client.app
    status, pulled, answer = _stream(app, "/banner/choice", 51, b" " * MB)
    assert status == 413 and pulled == 1 and json.loads(answer)["status"] == 413
    headers = [(b"authorization", _key(client, "decide", "datamap:read")["Authorization"].encode())]
    for path in ("/api/v1/decisions", "/api/v1/consent/records"):  # the lanes read the body themselves
        status, pulled, _ = _stream(app, path, 51, b" " * 256 * 1024, headers)
        assert status == 413 and pulled <= 5, (path, pulled)
    status, pulled, _ = _stream(app, "/api/v1/datamap/validate", 80, b" " * MB, headers)
    assert status == 413 and pulled == app.state.settings.max_import_bytes // MB + 1


def test_an_import_route_takes_more_than_the_default(client: TestClient) -> None:
    headers = {**_key(client, "datamap:read"), "content-type": "application/yaml"}
    body = ("# " + "x" * 1000 + "\n") * 2000 + "organisation: {name: Big}\n"
    assert len(body) > client.app.state.settings.max_body_bytes
    answer = client.post("/api/v1/datamap/validate", content=body.encode(), headers=headers)
    assert answer.status_code != 413


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/decisions/batch",
        "/api/v1/decisions",
        "/api/v1/datamap/validate",
        "/api/v1/consent/records",
        "/api/v1/subjects/lookup",
    ],
)
def test_deep_json_is_422_not_a_recursion_error(client: TestClient, path: str) -> None:
    headers = {
        **_key(client, "decide", "datamap:read", "consent:write", "subjects:read"),
        "content-type": "application/json",
    }
    body = _problem(client.post(path, content=DEEP, headers=headers), 422)
    assert "deep" in body["detail"]
    wrapped = b'{"items": ' + DEEP + b"}"
    _problem(client.post(path, content=wrapped, headers=headers), 422)


def test_deep_yaml_is_422(client: TestClient) -> None:
    headers = {**_key(client, "datamap:read"), "content-type": "application/yaml"}
    block = "".join(" " * i + "- \n" for i in range(3000))  # indentation, no brackets: the parser's own limit
    _problem(client.post("/api/v1/datamap/validate", content=block.encode(), headers=headers), 422)


def test_the_depth_count_skips_strings() -> None:
    assert not json_too_deep(b'{"a": "' + b"[" * 500 + b'"}', 64)
    assert not json_too_deep(b'{"a": "\\"' + b"[" * 500 + b'"}', 64)
    assert not json_too_deep(b"[" * 64 + b"]" * 64, 64)
    assert json_too_deep(b"[" * 65 + b"]" * 65, 64)
    assert json_too_deep(b'{"a":' * 65 + b"1" + b"}" * 65, 64)


@pytest.mark.parametrize(
    ("scope", "url"),
    [
        ("decide", "/api/v1/decisions/changes?after=99999999999999999999"),
        ("requests:read", "/api/v1/requests?offset=99999999999999999999"),
        ("jobs:admin", "/api/v1/jobs?offset=99999999999999999999"),
        ("audit:read", "/api/v1/audit/events?after=99999999999999999999"),
        ("notices:read", "/api/v1/notices/x/diff?from=1&to=99999999999999999999"),
    ],
)
def test_integers_past_their_range_are_422(client: TestClient, scope: str, url: str) -> None:
    _problem(client.get(url, headers=_key(client, scope)), 422)


def test_unknown_paths_and_methods_answer_problems(client: TestClient) -> None:
    _problem(client.get("/api/v1/no/such/thing"), 404)
    _problem(client.put("/healthz"), 405)
