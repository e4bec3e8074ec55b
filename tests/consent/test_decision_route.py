"""The decision route answers a key checked in the store and a key remembered alike, follows the ledger, and
answers everything unusual with the full validation and error paths."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from privet.auth import deps
from privet.auth.keys import create_api_key, revoke_api_key
from privet.consent.ledger import service as ledger

pytestmark = pytest.mark.usefixtures("keptek")
URL = "/api/v1/decisions"
PURPOSE = "marketing.communications"


@pytest.fixture
def store_checks(monkeypatch: pytest.MonkeyPatch) -> list:
    """Records each caller the route had checked in the store (the others came from memory)."""
    calls, real = [], deps.stored_caller

    def spy(*args):
        calls.append(real(*args))
        return calls[-1]

    monkeypatch.setattr(deps, "stored_caller", spy)
    return calls


def _key(db: Session, scopes: list[str]) -> tuple[str, dict[str, str]]:
    key, token = create_api_key(db, "svc", scopes, actor="test")
    db.flush()
    return key.id, {"Authorization": f"Bearer {token}"}


def test_same_answers_as_the_route_and_current_with_the_ledger(
    client: TestClient, db: Session, make_subject, store_checks: list
) -> None:
    subject = make_subject()
    _, headers = _key(db, ["decide"])
    body = {"subject_id": subject.id, "purpose": PURPOSE}
    first = client.post(URL, json=body, headers=headers)  # first use of the key: checked in the store
    assert first.status_code == 200 and len(store_checks) == 1 and store_checks[0] is not None
    second = client.post(URL, json=body, headers=headers)
    assert second.status_code == 200 and len(store_checks) == 1  # remembered
    assert second.content == first.content and second.json()["reason"] == "NO_CONSENT"
    given = ledger.record(db, subject_id=subject.id, purpose=PURPOSE, event="given", method="api", actor="t")
    db.flush()
    answer = client.post(URL, json=body, headers=headers).json()  # no lag after a recorded change
    assert (answer["allowed"], answer["record_id"]) == (True, given.id) and len(store_checks) == 1
    ledger.record(db, subject_id=subject.id, purpose=PURPOSE, event="withdrawn", method="api", actor="t")
    db.flush()
    assert client.post(URL, json=body, headers=headers).json()["reason"] == "CONSENT_WITHDRAWN"
    visitor = client.post(URL, json={"visitor_id": "v-" + "a" * 20, "purpose": PURPOSE}, headers=headers)
    assert visitor.status_code == 200 and visitor.json()["holders"] == ["v:v-" + "a" * 20]


def test_everything_unusual_gets_the_full_validation_and_error_paths(
    client: TestClient, db: Session, make_subject, store_checks: list
) -> None:
    subject = make_subject()
    key_id, headers = _key(db, ["decide"])
    assert client.post(URL, json={"subject_id": subject.id, "purpose": PURPOSE}, headers=headers).status_code == 200
    unknown = client.post(URL, json={"subject_id": subject.id, "purpose": "no.such.purpose"}, headers=headers)
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["where"] == "body.purpose"
    assert len(store_checks) == 1  # the key was checked once
    extra = client.post(URL, json={"subject_id": subject.id, "purpose": PURPOSE, "x": 1}, headers=headers)
    assert extra.status_code == 422
    not_json = client.post(URL, content=b"{nope", headers={**headers, "Content-Type": "application/json"})
    assert not_json.status_code == 422
    revoke_api_key(db, key_id, actor="test")
    db.flush()
    assert client.post(URL, json={"subject_id": subject.id, "purpose": PURPOSE}, headers=headers).status_code == 401


def test_a_key_without_the_scope_is_never_served(
    client: TestClient, db: Session, make_subject, store_checks: list
) -> None:
    subject = make_subject()
    _, headers = _key(db, ["consent:read"])
    for _ in range(2):
        answer = client.post(URL, json={"subject_id": subject.id, "purpose": PURPOSE}, headers=headers)
        assert answer.status_code == 403
    assert len(store_checks) == 1  # the second refusal came from memory
