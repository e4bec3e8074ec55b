"""The consent routes: staff/service recording and reading, receipts, the subject's own consent, the banner."""

from __future__ import annotations

import pytest
from faker import Faker
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from privet.auth import service as auth
from privet.consent.models import ConsentRecord

pytestmark = pytest.mark.usefixtures("keptek")
API = "/api/v1/consent"


@pytest.fixture
def staff(db: Session) -> dict:
    key = auth.create_api_key(db, "consent-test", ["consent:read", "consent:write"], actor="test")[1]
    db.commit()
    return {"Authorization": f"Bearer {key}"}


def _count(db: Session) -> int:
    return db.execute(select(func.count()).select_from(ConsentRecord)).scalar()


def test_record_by_identity_read_back_and_lookup(
    client: TestClient, db: Session, staff: dict, faker_multi: Faker
) -> None:
    email = faker_multi.unique.email()
    made = client.post(
        f"{API}/records",
        headers=staff,
        json={
            "identity": {"type": "email", "value": email},
            "purpose": "marketing.communications",
            "categories": ["user.contact.email"],
            "method": "form",
            "language": "en",
        },
    )
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["event"] == "given" and body["legal_basis"] == "consent" and body["jurisdiction"] == "CN"
    subject_id = body["subject_id"]
    again = client.post(
        f"{API}/records",
        headers=staff,
        json={"subject_id": subject_id, "purpose": "marketing.communications", "event": "withdrawn"},
    )
    assert again.status_code == 201
    view = client.get(f"{API}/subjects/{subject_id}", headers=staff).json()
    assert [r["event"] for r in view["history"]] == ["given", "withdrawn"]
    assert view["states"][0]["event"] == "withdrawn" and view["states"][0]["holder"] == f"s:{subject_id}"
    found = client.post(f"{API}/lookup", headers=staff, json={"identity": {"type": "email", "value": email.upper()}})
    assert found.status_code == 200 and found.json()["subject_id"] == subject_id
    unknown = client.post(
        f"{API}/lookup", headers=staff, json={"identity": {"type": "email", "value": "nobody@example.org"}}
    )
    assert unknown.status_code == 404 and "nobody@example.org" not in unknown.text
    assert client.get(f"{API}/subjects/{'0' * 26}", headers=staff).status_code == 404


def test_bad_records_get_problems_and_record_nothing(
    client: TestClient, db: Session, staff: dict, faker_multi: Faker
) -> None:
    who = {"identity": {"type": "email", "value": faker_multi.unique.email()}}
    cases = [
        ({**who, "purpose": "service.order"}, "does not rely on consent"),
        ({**who, "purpose": "marketing.advertising"}, "undeclared purpose"),
        ({**who, "purpose": "marketing.communications", "categories": ["user.nope"]}, "Unknown data category"),
        ({"identity": {"type": "email", "value": "not an email"}, "purpose": "marketing.communications"}, "e-mail"),
        ({**who, "purpose": "marketing.communications", "unexpected": 1}, "validate"),
    ]
    before = _count(db)
    for payload, message in cases:
        response = client.post(f"{API}/records", headers=staff, json=payload)
        assert response.status_code == 422, response.text
        assert message in response.text and "not an email" not in response.text
        assert response.headers["content-type"].startswith("application/problem+json")
    assert _count(db) == before
    assert client.post(f"{API}/records", json={"purpose": "marketing"}).status_code == 401


def test_receipts_over_http(client: TestClient, db: Session, staff: dict, faker_multi: Faker) -> None:
    made = client.post(
        f"{API}/records",
        headers=staff,
        json={"identity": {"type": "email", "value": faker_multi.unique.email()}, "purpose": "analytics.usage"},
    ).json()
    receipt = client.get(f"{API}/records/{made['id']}/receipt", headers=staff).json()
    assert receipt["consentReceiptID"] == made["id"] and receipt["signature"]
    ok = client.post(f"{API}/receipts/verify", headers=staff, json={"receipt": receipt}).json()
    assert ok["valid"] is True
    tampered = {**receipt, "purpose": "marketing.communications"}
    bad = client.post(f"{API}/receipts/verify", headers=staff, json={"receipt": tampered}).json()
    assert bad["valid"] is False
    key = client.get(f"{API}/receipts/public-key")
    assert key.status_code == 200 and key.json()["algorithm"] == "Ed25519"
    assert client.get(f"{API}/records/{'0' * 26}/receipt", headers=staff).status_code == 404


def test_rebuild_route(client: TestClient, staff: dict, faker_multi: Faker) -> None:
    for purpose in ("analytics.usage", "marketing.events"):
        client.post(
            f"{API}/records",
            headers=staff,
            json={"identity": {"type": "email", "value": faker_multi.unique.email()}, "purpose": purpose},
        )
    assert client.post(f"{API}/rebuild", headers=staff).json()["rows"] >= 2


def _session_for(client: TestClient, db: Session, faker_multi: Faker) -> tuple[str, dict]:
    from privet.subjects import service, sessions

    subject = service.create_subject(
        db, client.app.state.keyring, [("email", faker_multi.unique.email(), True)], actor="test"
    )
    db.commit()
    token = sessions.issue(client.app.state.keyring, subject_id=subject.id, identity_type="email")
    return subject.id, {"Authorization": f"Subject {token}"}


def test_subject_manages_own_consent(client: TestClient, db: Session, faker_multi: Faker) -> None:
    assert client.get(f"{API}/me").status_code == 401
    subject_id, auth_header = _session_for(client, db, faker_multi)
    mine = client.get(f"{API}/me", headers=auth_header).json()
    offered = {p["purpose"]: p for p in mine["purposes"]}
    assert "marketing.communications" in offered and "service.order" not in offered  # only consent purposes
    assert offered["sharing.affiliates"]["legal_basis"] == "separate_consent"
    changed = client.post(
        f"{API}/me",
        headers=auth_header,
        json={
            "consents": [{"purpose": "marketing.communications", "event": "given"}],
            "channels": [{"purpose": "marketing.communications", "channel": "sms", "opted_in": False}],
        },
    )
    assert changed.status_code == 200, changed.text
    state = {p["purpose"]: p["state"] for p in changed.json()["purposes"]}
    assert state["marketing.communications"] == "given"
    assert changed.json()["channels"]["marketing.communications"]["channels"]["sms"] is False
    refused = client.post(
        f"{API}/me",
        headers=auth_header,
        json={"channels": [{"purpose": "notice.updates", "channel": "sms", "opted_in": False}]},
    )
    assert refused.status_code == 422 and "cannot be switched off" in refused.text
    history = db.execute(select(ConsentRecord).where(ConsentRecord.subject_id == subject_id)).scalars().all()
    assert [(r.method, r.actor) for r in history] == [("form", f"subject:{subject_id}")]
    assert client.get(f"{API}/me", headers={"Authorization": "Subject ps1.forged.mac"}).status_code == 401


def test_cookie_banner_gpc_and_visitor_link(client: TestClient, db: Session, faker_multi: Faker) -> None:
    plain = client.post(
        f"{API}/cookies", json={"visitor_id": "vis-api-000001", "categories": {"analytics": True, "marketing": True}}
    )
    assert plain.status_code == 200, plain.text
    assert plain.json()["choice"]["marketing"] is True and plain.json()["gpc"] is False
    gpc = client.post(
        f"{API}/cookies",
        headers={"Sec-GPC": "1"},
        json={"visitor_id": "vis-api-000002", "categories": {"analytics": True, "marketing": True}},
    ).json()
    assert gpc["gpc_honoured"] is True and gpc["choice"]["marketing"] is False
    marketing = next(r for r in gpc["records"] if r["purpose"] == "marketing.personalisation")
    assert marketing["event"] == "refused" and marketing["gpc_honoured"] is True
    assert client.post(f"{API}/cookies", json={"visitor_id": "x", "categories": {}}).status_code == 422
    _subject_id, auth_header = _session_for(client, db, faker_multi)
    linked = client.post(f"{API}/me", headers=auth_header, json={"visitor_id": "vis-api-000001"})
    assert linked.status_code == 200
    assert {r["purpose"] for r in linked.json()["history"]} >= {"analytics.usage", "marketing.personalisation"}


def test_well_known_gpc(app, client: TestClient) -> None:
    from privet.consent.api import wellknown_router

    if not any(getattr(r, "path", "") == "/.well-known/gpc.json" for r in app.routes):
        app.include_router(wellknown_router)  # the lead mounts it in create_app
    response = client.get("/.well-known/gpc.json")
    assert response.status_code == 200 and response.json()["gpc"] is True
    assert len(response.json()["lastUpdate"]) == 10
