"""The recording route answers a key checked in the store and a key remembered alike, and everything unusual with
the full validation and error paths."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from faker import Faker
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from privet.auth import deps, keys
from privet.auth import service as auth
from privet.auth.lean_route import LeanRoute

pytestmark = pytest.mark.usefixtures("keptek")
PATH = "/api/v1/consent/records"


@pytest.fixture
def route_client(app) -> Iterator[TestClient]:
    """The app (create_app matches the route first, as a LeanRoute), on the test's transaction."""
    assert any(
        getattr(r, "path", None) == PATH and isinstance(getattr(r.app, "route", None), LeanRoute)
        for r in app.router.routes[:5]
    )
    with TestClient(app) as test_client:
        app.state.sessionmaker = app.state.test_sessionmaker
        yield test_client


@pytest.fixture
def taken(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """One entry per request whose key was authenticated: True when from memory, False when checked in the store."""
    seen: list[bool] = []
    known, stored = deps.known_caller, deps.stored_caller

    def from_memory(request):
        principal = known(request)
        if principal is not None:
            seen.append(True)
        return principal

    def from_store(request):
        seen.append(False)
        return stored(request)

    monkeypatch.setattr(deps, "known_caller", from_memory)
    monkeypatch.setattr(deps, "stored_caller", from_store)
    return seen


def _key(db: Session, scopes: list[str]) -> dict:
    token = auth.create_api_key(db, "route-test", scopes, actor="test")[1]
    db.commit()
    return {"Authorization": f"Bearer {token}", "User-Agent": "route-test/1"}


def _shape(body: dict) -> dict:
    return {k: v for k, v in body.items() if k not in ("id", "seq", "at", "recorded_at", "subject_id")}


def test_a_remembered_key_is_answered_like_a_checked_one(
    route_client: TestClient, db: Session, taken: list[bool], faker_multi: Faker
) -> None:
    headers = _key(db, ["consent:write"])
    keys.forget_recent()
    body = {
        "identity": {"type": "email", "value": faker_multi.unique.email()},
        "purpose": "analytics.usage",
        "categories": ["user.device.cookie_id"],
        "language": "en",
    }
    checked = route_client.post(PATH, headers=headers, json=body)  # first use of the key: checked in the store
    remembered = route_client.post(PATH, headers=headers, json={**body, "event": "withdrawn"})
    assert taken == [False, True]
    assert checked.status_code == remembered.status_code == 201
    assert remembered.headers["content-type"] == "application/json"
    assert remembered.json()["subject_id"] == checked.json()["subject_id"]  # the identity found the same person
    assert _shape(remembered.json()) == {**_shape(checked.json()), "event": "withdrawn"}


def test_refusals_are_the_same_problem_bodies(
    route_client: TestClient, db: Session, taken: list[bool], faker_multi: Faker
) -> None:
    headers = _key(db, ["consent:write"])
    who = {"identity": {"type": "email", "value": faker_multi.unique.email()}}
    for bad in (
        {**who, "purpose": "marketing.advertising"},
        {"subject_id": "0" * 26, "purpose": "analytics.usage"},
        {**who, "purpose": "service.order"},
    ):
        keys.forget_recent()
        checked = route_client.post(PATH, headers=headers, json=bad)
        remembered = route_client.post(PATH, headers=headers, json=bad)
        assert checked.status_code == remembered.status_code and checked.status_code in (404, 422)
        assert checked.json() == remembered.json()
        assert remembered.headers["content-type"].startswith("application/problem+json")
    assert taken == [False, True] * 3


def test_unusual_requests_get_the_full_validation_and_error_paths(
    route_client: TestClient, db: Session, taken: list[bool]
) -> None:
    writer = _key(db, ["consent:write"])
    reader = _key(db, ["consent:read"])
    route_client.post(PATH, headers=writer, json={"subject_id": "0" * 26, "purpose": "analytics.usage"})  # key seen
    invalid = route_client.post(PATH, headers=writer, json={"purpose": "analytics.usage", "unexpected": 1})
    assert invalid.status_code == 422 and "validate" in invalid.text
    route_client.post(PATH, headers=reader, json={"subject_id": "0" * 26, "purpose": "analytics.usage"})
    forbidden = route_client.post(PATH, headers=reader, json={"subject_id": "0" * 26, "purpose": "analytics.usage"})
    assert forbidden.status_code == 403
    assert route_client.post(PATH, json={"purpose": "analytics.usage"}).status_code == 401
    assert taken == [False, True, False, True, False]  # each key checked in the store once; nobody: no key
