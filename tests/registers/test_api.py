"""The register routes: scopes, each register's create/list, shares filtered on consent, refusals with 422."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from privet.auth.keys import create_api_key
from privet.consent.ledger import service as ledger
from privet.registers.models import Disclosure, SharingEvent

pytestmark = pytest.mark.usefixtures("keptek")
URL = "/api/v1/registers"


@pytest.fixture
def writer(db: Session) -> dict[str, str]:
    token = create_api_key(db, "registers", ["registers:read", "registers:write"], actor="test")[1]
    db.flush()
    return {"Authorization": f"Bearer {token}"}


def test_scopes(client: TestClient, db: Session) -> None:
    assert client.get(URL + "/processors").status_code == 401
    token = create_api_key(db, "reader", ["registers:read"], actor="test")[1]
    db.flush()
    reader = {"Authorization": f"Bearer {token}"}
    assert client.get(URL + "/processors", headers=reader).status_code == 200
    denied = client.post(URL + "/processors", json={"key": "x", "name": "X"}, headers=reader)
    assert denied.status_code == 403 and "registers:write" in denied.json()["detail"]


def test_processors_and_alerts(client: TestClient, writer: dict) -> None:
    body = {
        "key": "sms_gateway",
        "name": "SMS gateway",
        "agreement_ref": "DPA-7",
        "signed_on": "2025-01-01",
        "expires_on": "2099-01-01",
        "purposes": ["sharing.processors"],
        "categories": ["user.contact.phone"],
        "regions": ["CN"],
        "security_measures": ["TLS"],
    }
    made = client.post(URL + "/processors", json=body, headers=writer)
    assert made.status_code == 201, made.text
    assert client.post(URL + "/processors", json=body, headers=writer).status_code == 409
    listed = client.get(URL + "/processors", headers=writer).json()
    assert [p["key"] for p in listed] == ["sms_gateway"] and listed[0]["regions"] == ["CN"]
    assert "account_registration" in listed[0]["activities"]
    renewed = client.put(URL + "/processors/sms_gateway", json=body | {"expires_on": "2099-06-01"}, headers=writer)
    assert renewed.status_code == 200 and renewed.json()["expires_on"] == "2099-06-01"
    assert client.get(URL + "/processors/nope", headers=writer).status_code == 404
    bad = client.post(URL + "/processors", json=body | {"key": "other", "purposes": ["nope"]}, headers=writer)
    assert bad.status_code == 422 and bad.json()["errors"][0]["where"] == "purposes.0"
    alerts = client.get(URL + "/alerts", params={"days": 30}, headers=writer).json()
    assert {(a["kind"], a["processor"]) for a in alerts if a["entry"] == "processor"} == {
        ("unregistered", "customer_support_vendor"),
        ("unregistered", "email_service_provider"),
        ("unregistered", "cloud_host"),
        ("unregistered", "payment_provider"),
        ("unregistered", "courier"),
        ("out_of_scope", "sms_gateway"),
    }


def test_recipient_share_and_refusals(client: TestClient, db: Session, writer: dict, make_subject) -> None:
    made = client.post(
        URL + "/recipients",
        json={
            "key": "keptek_affiliates",
            "name": "Affiliates",
            "kind": "affiliate",
            "purposes": ["sharing.affiliates"],
            "categories": ["user.name"],
            "region": "CN",
        },
        headers=writer,
    )
    assert made.status_code == 201, made.text
    people = [make_subject() for _ in range(3)]
    ledger.record(db, subject_id=people[0].id, purpose="sharing.affiliates", event="given", method="api", actor="t")
    db.flush()
    shared = client.post(
        URL + "/shares", json={"recipient": "keptek_affiliates", "subject_ids": [p.id for p in people]}, headers=writer
    )
    assert shared.status_code == 201, shared.text
    answer = shared.json()
    assert answer["allowed_subject_ids"] == [people[0].id] and answer["allowed_positions"] == [0]
    assert (answer["event"]["shared"], answer["event"]["filtered_out"], answer["event"]["reasons"]) == (
        1,
        2,
        {"NO_CONSENT": 2},
    )
    assert [e["recipient"] for e in client.get(URL + "/shares", headers=writer).json()] == ["keptek_affiliates"]
    refused = client.post(URL + "/shares", json={"recipient": "broker", "subject_ids": [people[0].id]}, headers=writer)
    assert refused.status_code == 422 and "not registered" in refused.json()["detail"]
    assert db.execute(select(func.count()).select_from(SharingEvent)).scalar_one() == 1
    changed = client.post(
        URL + "/recipients/keptek_affiliates/purposes", json={"purposes": ["sharing.partners"]}, headers=writer
    )
    assert changed.status_code == 200 and changed.json()["reconsent_since"]
    assert client.get(URL + "/recipients", headers=writer).json()[0]["purposes"] == ["sharing.partners"]
    shown = client.get(URL + "/recipients/keptek_affiliates", headers=writer).json()
    assert shown["purpose_changes"][0]["new"] == ["sharing.partners"]
    assert client.get(URL + "/recipients/nope", headers=writer).status_code == 404
    assert len(client.get(URL + "/grounds", headers=writer).json()) >= 6


def test_disclosures_and_corporate_transfers(client: TestClient, db: Session, writer: dict, make_subject) -> None:
    refused = client.post(
        URL + "/disclosures", json={"title": "Directory", "categories": ["user.name"]}, headers=writer
    )
    assert refused.status_code == 422 and "legal reference" in refused.json()["detail"]
    assert db.execute(select(func.count()).select_from(Disclosure)).scalar_one() == 0
    legal = client.post(
        URL + "/disclosures",
        json={
            "title": "Court notice",
            "categories": ["user.name"],
            "legal_ground": "judicial_procedure",
            "reference": "Case 17",
        },
        headers=writer,
    )
    assert legal.status_code == 201 and legal.json()["disclosure"]["basis"] == "legal_ground"
    assert len(client.get(URL + "/disclosures", headers=writer).json()) == 1
    for _ in range(2):
        make_subject()
    body = {
        "successor": "Keptek Holdings",
        "kind": "merger",
        "transfer_date": "2026-12-31",
        "binding_statement": "Bound by this Privacy Policy.",
        "categories": ["user.name"],
    }
    made = client.post(URL + "/corporate-transfers", json=body, headers=writer)
    assert made.status_code == 201, made.text
    assert (made.json()["campaign_kind"], made.json()["campaign_subjects"]) == ("notification", 2)
    assert client.get(URL + f"/corporate-transfers/{made.json()['id']}", headers=writer).status_code == 200
    sent = client.post(URL + f"/corporate-transfers/{made.json()['id']}/campaign-sent", headers=writer)
    assert sent.status_code == 200 and sent.json()["campaign_status"] == "sent"
    assert len(client.get(URL + "/corporate-transfers", headers=writer).json()) == 1
    assert client.post(URL + "/corporate-transfers", json=body | {"kind": "gift"}, headers=writer).status_code == 422
