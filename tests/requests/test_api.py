"""Staff routes: scopes, filing for someone (with the channel and an identity check), officer actions, holds."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from privet.auth.keys import create_api_key
from privet.settings import Settings


@pytest.fixture
def app(conf: Settings, engine, session_factory, store: Session):
    from privet.app import create_app

    store.commit()
    application = create_app(conf, engine=engine, check_migrations=False)
    application.state.test_sessionmaker = session_factory
    return application


@pytest.fixture
def officer(store: Session) -> dict[str, str]:
    _key, token = create_api_key(store, "officer", ["requests:read", "requests:write"], actor="test")
    store.commit()
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def reader(store: Session) -> dict[str, str]:
    _key, token = create_api_key(store, "auditor", ["requests:read"], actor="test")
    store.commit()
    return {"Authorization": f"Bearer {token}"}


def _file(client: TestClient, headers: dict, customer, request_type: str = "access", **extra) -> dict:
    body = {
        "type": request_type,
        "identity_type": "email",
        "identity": customer.email,
        "channel": "staff_phone",
        **extra,
    }
    answer = client.post("/api/v1/requests", json=body, headers=headers)
    assert answer.status_code == 201, answer.text
    return answer.json()


def test_scopes(client: TestClient, reader: dict, shop_db) -> None:
    assert client.get("/api/v1/requests").status_code == 401
    assert client.get("/api/v1/requests", headers=reader).status_code == 200
    body = {"type": "access", "identity_type": "email", "identity": shop_db.customers[0].email}
    assert client.post("/api/v1/requests", json=body, headers=reader).status_code == 403


@pytest.mark.promise("P32")
def test_file_with_identity_check_runs_and_shows_the_record(client: TestClient, officer: dict, drain, shop_db) -> None:
    customer = shop_db.customers[1]
    filed = _file(
        client,
        officer,
        customer,
        "erasure",
        identity_check={"method": "call_back", "note": "called back on the number on file"},
    )
    assert filed["verification"] == "verified" and filed["status"] == "running"
    drain()
    shown = client.get(f"/api/v1/requests/{filed['reference']}", headers=officer).json()
    assert shown["status"] == "completed" and shown["channel"] == "staff_phone"
    assert shown["filed_by"].startswith("apikey:") and customer.email not in str(shown)
    assert shown["identity"].endswith(customer.email.rsplit(".", 1)[1]) and "***" in shown["identity"]
    assert shown["steps"][0]["status"] == "done" and shown["steps"][0]["counts"]["addresses"]["deleted"] == 1
    actions = [e["action"] for e in shown["trail"]]
    assert actions[:2] == ["request.filed", "request.verified"] and "request.completed" in actions
    listed = client.get("/api/v1/requests", params={"status": "completed", "type": "erasure"}, headers=officer)
    assert [r["reference"] for r in listed.json()["items"]] == [filed["reference"]]


def test_file_without_check_sends_a_code_and_waits(client: TestClient, officer: dict, shop_db, smtp) -> None:
    customer = shop_db.customers[2]
    filed = _file(client, officer, customer, channel="staff_email")
    assert filed["verification"] == "code_sent" and filed["status"] == "unverified"
    assert smtp.code_for(customer.email)
    checked = client.post(
        f"/api/v1/requests/{filed['reference']}/identity-check",
        headers=officer,
        json={"method": "signed_letter", "note": "signed letter received"},
    )
    assert checked.json()["status"] == "running"


def test_agent_request(client: TestClient, officer: dict, shop_db) -> None:
    agent = {"name": "Consumer Rights Office", "organisation": "City Council", "authorisation": "MANDATE-2026-3"}
    filed = _file(
        client,
        officer,
        shop_db.customers[0],
        channel="agent",
        agent=agent,
        identity_check={"method": "agent_mandate", "note": "mandate checked"},
    )
    shown = client.get(f"/api/v1/requests/{filed['reference']}", headers=officer).json()
    assert shown["agent"] == agent and shown["channel"] == "agent"


def test_officer_actions(client: TestClient, officer: dict, shop_db, drain, smtp) -> None:
    customer = shop_db.customers[3]
    filed = _file(client, officer, customer, identity_check={"method": "in_person", "note": None})
    ref = filed["reference"]
    bad = client.post(f"/api/v1/requests/{ref}/refuse", headers=officer, json={"code": "nope"})
    assert bad.status_code == 422
    extend = client.post(f"/api/v1/requests/{ref}/extend", headers=officer, json={"reason": "busy"})
    assert extend.status_code == 422 and "PIPL" in extend.json()["detail"]
    assigned = client.post(f"/api/v1/requests/{ref}/assign", headers=officer, json={"assignee": "alice"})
    assert assigned.json()["assignee"] == "alice"
    refused = client.post(
        f"/api/v1/requests/{ref}/refuse",
        headers=officer,
        json={"code": "technically_excessive", "note": "needs a new system"},
    )
    assert refused.json()["status"] == "refused" and refused.json()["refusal_code"] == "technically_excessive"
    again = client.post(f"/api/v1/requests/{ref}/refuse", headers=officer, json={"code": "technically_excessive"})
    assert again.status_code == 409
    drain()
    body = smtp.last_to(customer.email).get_content()
    assert "new system" in body and "cyberspace" in body
    codes = client.get("/api/v1/requests/refusal-codes", headers=officer).json()
    assert {"trade_secret", "impractical", "manifestly_unfounded"} <= {c["code"] for c in codes}


def test_holds_and_due_lists(client: TestClient, officer: dict, shop_db, drain) -> None:
    customer = shop_db.customers[0]
    first = _file(client, officer, customer, identity_check={"method": "in_person"})
    subject_id = client.get(f"/api/v1/requests/{first['reference']}", headers=officer).json()["subject_id"]
    hold = client.post(
        "/api/v1/requests/holds",
        headers=officer,
        json={"subject_id": subject_id, "reason": "tax audit under way", "reference": "TAX-9"},
    )
    assert hold.status_code == 201
    erasure = _file(client, officer, customer, "erasure", identity_check={"method": "in_person"})
    drain()
    shown = client.get(f"/api/v1/requests/{erasure['reference']}", headers=officer).json()
    assert shown["status"] == "waiting" and shown["result"]["legal_hold"]["reason"] == "tax audit under way"
    assert [h["id"] for h in client.get("/api/v1/requests/holds", headers=officer).json()] == [hold.json()["id"]]
    released = client.delete(f"/api/v1/requests/holds/{hold.json()['id']}", headers=officer)
    assert released.json()["released_by"].startswith("apikey:")
    drain()
    assert client.get(f"/api/v1/requests/{erasure['reference']}", headers=officer).json()["status"] == "completed"
    due = client.get("/api/v1/requests/due", params={"days": 45}, headers=officer).json()
    assert due["overdue"] == [] and isinstance(due["due_soon"], list)
