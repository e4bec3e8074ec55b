"""POST /decisions, /decisions/batch and GET /decisions/changes: auth, answers that follow the ledger, bad input."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from privet.auth.keys import create_api_key
from privet.consent.ledger import service as ledger
from privet.kit.clock import utcnow

pytestmark = pytest.mark.usefixtures("keptek")
URL = "/api/v1/decisions"


@pytest.fixture
def headers(db: Session) -> dict[str, str]:
    token = create_api_key(db, "decider", ["decide"], actor="test")[1]
    db.flush()
    return {"Authorization": f"Bearer {token}"}


def _give(db: Session, subject, purpose: str = "marketing.communications", event: str = "given", **kw):
    entry = ledger.record(db, subject_id=subject.id, purpose=purpose, event=event, method="api", actor="t", **kw)
    db.flush()
    return entry


def test_auth_and_scope(client: TestClient, db: Session) -> None:
    body = {"subject_id": "x" * 26, "purpose": "marketing.communications"}
    assert client.post(URL, json=body).status_code == 401
    token = create_api_key(db, "reader", ["datamap:read"], actor="test")[1]
    db.flush()
    answer = client.post(URL, json=body, headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 403 and "decide" in answer.json()["detail"]
    assert client.post(URL + "/batch", json={"items": []}).status_code == 401
    assert client.get(URL + "/changes").status_code == 401


def test_single_decision_follows_the_ledger(
    client: TestClient, db: Session, headers, make_subject, faker_multi
) -> None:
    from privet.subjects import service

    email = faker_multi.unique.email()
    subject = service.create_subject(db, client.app.state.keyring, [("email", email, True)], actor="t")
    body = {"subject_id": subject.id, "purpose": "marketing.communications"}
    first = client.post(URL, json=body, headers=headers)
    assert first.status_code == 200
    assert first.json() == {
        "allowed": False,
        "reason": "NO_CONSENT",
        "legal_basis": "consent",
        "record_id": None,
        "purpose": "marketing.communications",
        "holders": [f"s:{subject.id}"],
    }
    given = _give(db, subject)
    answer = client.post(URL, json=body, headers=headers).json()
    assert (answer["allowed"], answer["reason"], answer["record_id"]) == (True, "CONSENT_GIVEN", given.id)
    by_identity = client.post(
        URL,
        json={"identity": {"type": "email", "value": email.upper()}, "purpose": "marketing.communications"},
        headers=headers,
    ).json()
    assert by_identity["record_id"] == given.id and by_identity["holders"] == [f"s:{subject.id}"]
    withdrawn = _give(db, subject, event="withdrawn")
    answer = client.post(URL, json=body, headers=headers).json()
    assert (answer["allowed"], answer["reason"], answer["record_id"]) == (False, "CONSENT_WITHDRAWN", withdrawn.id)
    earlier = client.post(
        URL, json={**body, "at": (given.at + timedelta(microseconds=1)).isoformat()}, headers=headers
    ).json()
    assert (earlier["allowed"], earlier["record_id"]) == (True, given.id)
    assert (
        client.post(URL, json={**body, "subject_id": "0" * 26}, headers=headers).json()["reason"] == "UNKNOWN_SUBJECT"
    )
    assert client.post(URL, json={**body, "purpose": "service.order"}, headers=headers).json()["reason"] == "CONTRACT"
    assert (
        client.post(URL, json={**body, "purpose": "marketing.advertising"}, headers=headers).json()["reason"]
        == "UNDECLARED_PURPOSE"
    )


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"purpose": "marketing.communications"}, "body"),  # nobody named
        ({"subject_id": "a", "visitor_id": "visitor-1", "purpose": "marketing.communications"}, "body"),
        ({"subject_id": "a", "purpose": "no.such.purpose"}, "body.purpose"),
        ({"subject_id": "a", "purpose": "marketing.communications", "categories": ["user.nope"]}, "body.categories"),
        ({"subject_id": "a", "purpose": "marketing.communications", "at": "2024-01-01T00:00:00"}, "body.at"),  # naive
        ({"subject_id": "a", "purpose": "marketing.communications", "region": "mars"}, "body.region"),
        ({"identity": {"type": "email", "value": "not an address"}, "purpose": "marketing.communications"}, "value"),
    ],
)
def test_bad_input_is_a_problem(client: TestClient, headers, body: dict, where: str) -> None:
    answer = client.post(URL, json=body, headers=headers)
    assert answer.status_code == 422, answer.text
    problem = answer.json()
    assert problem["status"] == 422 and problem["errors"]
    assert any(e.get("where", "").startswith(where) for e in problem["errors"]), problem
    assert "not an address" not in answer.text  # identity values never echo back


def test_batch(client: TestClient, db: Session, headers, make_subject) -> None:
    people = [make_subject() for _ in range(3)]
    given = _give(db, people[0])
    items = [{"subject_id": p.id, "purpose": "marketing.communications"} for p in people]
    items.append({"visitor_id": "visitor-abcdef12", "purpose": "analytics.usage", "region": "CN"})
    answer = client.post(URL + "/batch", json={"items": items}, headers=headers)
    assert answer.status_code == 200
    got = answer.json()["items"]
    assert [a["allowed"] for a in got] == [True, False, False, False]
    assert got[0]["record_id"] == given.id and got[3]["holders"] == ["v:visitor-abcdef12"]
    too_many = client.post(URL + "/batch", json={"items": items[:1] * 1001}, headers=headers)
    assert too_many.status_code == 422 and "Batch too large" in too_many.json()["detail"]
    assert client.post(URL + "/batch", json={"items": items[:1] * 1000}, headers=headers).status_code == 200
    bad = client.post(URL + "/batch", json={"items": [items[0], {**items[1], "purpose": "no.such"}]}, headers=headers)
    assert bad.status_code == 422 and bad.json()["errors"][0]["where"] == "body.items.1.purpose"


def test_change_feed_names_holders_and_purposes_only(client: TestClient, db: Session, headers, make_subject) -> None:
    start = client.get(URL + "/changes", headers=headers).json()
    assert start["changes"] == [] and start["more"] is False
    person = make_subject()
    first = _give(db, person)
    second = _give(db, person, purpose="analytics.usage", at=utcnow() - timedelta(days=1))
    feed = client.get(URL + "/changes", params={"after": start["last_seq"]}, headers=headers).json()
    assert feed["changes"] == [
        {"seq": first.seq, "holder": f"s:{person.id}", "purpose": "marketing.communications"},
        {"seq": second.seq, "holder": f"s:{person.id}", "purpose": "analytics.usage"},
    ]
    assert feed["last_seq"] == second.seq
    page = client.get(URL + "/changes", params={"after": start["last_seq"], "limit": 1}, headers=headers).json()
    assert page["more"] is True and page["last_seq"] == first.seq
    assert client.get(URL + "/changes", params={"after": -1}, headers=headers).status_code == 422
    assert feed["policy"] == start["policy"]


@pytest.mark.parametrize(
    ("body", "where"),
    [
        (b"not json", "body"),
        (b'{"items": 5}', "body.items"),
        (b'{"items": [], "extra": 1}', "body.extra"),
        (b'{"items": [{"purpose": 5, "subject_id": "a"}]}', "body.items.0.purpose"),
        (b'{"items": [{"purpose": "analytics.usage", "visitor_id": "", "region": "CN"}]}', "body.items.0"),
    ],
)
def test_batch_bad_bodies(client: TestClient, headers, body: bytes, where: str) -> None:
    answer = client.post(URL + "/batch", content=body, headers={**headers, "Content-Type": "application/json"})
    assert answer.status_code == 422, answer.text
    assert any(e.get("where", "").startswith(where) for e in answer.json()["errors"]), answer.json()
