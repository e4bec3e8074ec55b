"""The recording fast lane answers exactly as the route does, and leaves everything unusual to the route."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from faker import Faker
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from privet.auth import keys
from privet.auth import service as auth
from privet.consent import record_lane
from privet.consent.record_lane import RecordingFastLane

pytestmark = pytest.mark.usefixtures("keptek")
PATH = "/api/v1/consent/records"


@pytest.fixture
def lane_client(app) -> Iterator[TestClient]:  # noqa: ANN001
    """The app (create_app mounts the lane), on the test's transaction."""
    assert any(m.cls is RecordingFastLane and m.kwargs["path"] == PATH for m in app.user_middleware)
    with TestClient(app) as test_client:
        app.state.sessionmaker = app.state.test_sessionmaker
        yield test_client


@pytest.fixture
def taken(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """One entry per request that reached the lane: True when the lane recorded it itself."""
    seen: list[bool] = []
    real = record_lane._recording

    def spy(scope: dict, body: bytes):  # noqa: ANN202
        item = real(scope, body)
        seen.append(item is not None)
        return item

    monkeypatch.setattr(record_lane, "_recording", spy)
    return seen


def _key(db: Session, scopes: list[str]) -> dict:
    token = auth.create_api_key(db, "lane-test", scopes, actor="test")[1]
    db.commit()
    return {"Authorization": f"Bearer {token}", "User-Agent": "lane-test/1"}


def _shape(body: dict) -> dict:
    return {k: v for k, v in body.items() if k not in ("id", "seq", "at", "recorded_at", "subject_id")}


def test_the_lane_answers_like_the_route(lane_client: TestClient, db: Session, taken: list[bool],
                                         faker_multi: Faker) -> None:
    headers = _key(db, ["consent:write"])
    keys.forget_recent()
    body = {"identity": {"type": "email", "value": faker_multi.unique.email()}, "purpose": "analytics.usage",
            "categories": ["user.device.cookie_id"], "language": "en"}
    by_route = lane_client.post(PATH, headers=headers, json=body)  # first use of the key: the route checks it
    by_lane = lane_client.post(PATH, headers=headers, json={**body, "event": "withdrawn"})
    assert taken == [False, True]
    assert by_route.status_code == by_lane.status_code == 201
    assert by_lane.headers["content-type"] == "application/json"
    assert by_lane.json()["subject_id"] == by_route.json()["subject_id"]  # the identity found the same person
    assert _shape(by_lane.json()) == {**_shape(by_route.json()), "event": "withdrawn"}


def test_refusals_are_the_same_problem_bodies(lane_client: TestClient, db: Session, taken: list[bool],
                                              faker_multi: Faker) -> None:
    headers = _key(db, ["consent:write"])
    who = {"identity": {"type": "email", "value": faker_multi.unique.email()}}
    for bad in ({**who, "purpose": "marketing.advertising"}, {"subject_id": "0" * 26, "purpose": "analytics.usage"},
                {**who, "purpose": "service.order"}):
        keys.forget_recent()
        by_route = lane_client.post(PATH, headers=headers, json=bad)
        by_lane = lane_client.post(PATH, headers=headers, json=bad)
        assert by_route.status_code == by_lane.status_code and by_route.status_code in (404, 422)
        assert by_route.json() == by_lane.json()
        assert by_lane.headers["content-type"].startswith("application/problem+json")
    assert taken == [False, True] * 3


def test_unusual_requests_take_the_route(lane_client: TestClient, db: Session, taken: list[bool]) -> None:
    writer = _key(db, ["consent:write"])
    reader = _key(db, ["consent:read"])
    lane_client.post(PATH, headers=writer, json={"subject_id": "0" * 26, "purpose": "analytics.usage"})  # key seen
    invalid = lane_client.post(PATH, headers=writer, json={"purpose": "analytics.usage", "unexpected": 1})
    assert invalid.status_code == 422 and "validate" in invalid.text
    lane_client.post(PATH, headers=reader, json={"subject_id": "0" * 26, "purpose": "analytics.usage"})
    forbidden = lane_client.post(PATH, headers=reader, json={"subject_id": "0" * 26, "purpose": "analytics.usage"})
    assert forbidden.status_code == 403
    assert lane_client.post(PATH, json={"purpose": "analytics.usage"}).status_code == 401
    assert taken == [False, False, False, False, False]
