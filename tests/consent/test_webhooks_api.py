"""`/api/v1/webhooks`: scope, secret shown once, https rule, failed deliveries visible and redelivered."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from faker import Faker
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from privet.auth import service
from privet.consent.webhooks import service as webhooks
from privet.consent.webhooks.delivery import deliver_due
from privet.kit.clock import frozen_at
from privet.kit.crypto import Keyring
from privet.settings import Settings
from tests.consent.test_webhooks import T0, Receiver, deliveries, make_record

BASE = "/api/v1/webhooks"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver().start()
    yield running
    running.server.shutdown()
    running.server.server_close()


def bearer(db: Session, *scopes: str) -> dict:
    token = service.create_api_key(db, "webhooks-test", list(scopes), actor="test:webhooks")[1]
    db.commit()
    return {"Authorization": f"Bearer {token}"}


def test_auth_and_scope(client: TestClient, db: Session) -> None:
    assert client.get(BASE).status_code == 401
    assert client.post(BASE, json={"url": "https://hooks.example.com/x"}).status_code == 401
    other = bearer(db, "audit:read")
    denied = client.get(f"{BASE}/deliveries", headers=other)
    assert denied.status_code == 403 and "webhooks:admin" in denied.json()["detail"]
    assert client.post(f"{BASE}/deliveries/x/redeliver", headers=other).status_code == 403
    assert client.delete(f"{BASE}/x", headers=other).status_code == 403
    from privet.auth.scopes import ROLES

    assert "webhooks:admin" in ROLES["admin"] and "webhooks:admin" not in ROLES["auditor"]


def test_endpoint_lifecycle(client: TestClient, db: Session) -> None:
    admin = bearer(db, "webhooks:admin")
    refused = client.post(BASE, json={"url": "http://hooks.example.com/privet"}, headers=admin)
    assert refused.status_code == 422 and "loopback" in refused.json()["hint"]
    assert client.get(BASE, headers=admin).json() == []  # nothing was stored
    bad_event = client.post(BASE, json={"url": "https://hooks.example.com/p", "events": ["x"]}, headers=admin)
    assert bad_event.status_code == 422

    created = client.post(BASE, json={"url": "https://hooks.example.com/privet"}, headers=admin)
    assert created.status_code == 201
    secret, endpoint = created.json()["secret"], created.json()["endpoint"]
    assert secret.startswith("whsec_") and endpoint["events"] == ["consent.changed"] and endpoint["active"]
    listed = client.get(BASE, headers=admin)
    assert [e["id"] for e in listed.json()] == [endpoint["id"]] and secret not in listed.text

    gone = client.delete(f"{BASE}/{endpoint['id']}", headers=admin)
    assert gone.status_code == 200 and gone.json()["active"] is False
    assert client.get(BASE, headers=admin).json()[0]["active"] is False
    missing = client.delete(f"{BASE}/nope", headers=admin)
    assert missing.status_code == 404 and missing.json()["hint"]


def test_failed_delivery_visible_and_redelivered(
    client: TestClient, db: Session, session_factory, settings: Settings, receiver: Receiver
) -> None:
    admin = bearer(db, "webhooks:admin")
    keyring: Keyring = client.app.state.keyring
    created = client.post(BASE, json={"url": receiver.url}, headers=admin)
    assert created.status_code == 201
    record, email = make_record(db, keyring, Faker(["zh_CN", "en_US"]))
    webhooks.enqueue(db, record)
    db.commit()
    one_try = settings.model_copy(update={"webhook_max_attempts": 1, "webhook_timeout_seconds": 0.3})
    receiver.script = [(500, 0.0)]
    with frozen_at(T0):
        assert deliver_due(session_factory, keyring, one_try).failed == 1

    failed = client.get(f"{BASE}/deliveries", params={"status": "failed"}, headers=admin)
    assert failed.status_code == 200 and len(failed.json()) == 1
    item = failed.json()[0]
    assert (item["status"], item["attempts"], item["last_status_code"]) == ("failed", 1, 500)
    assert item["payload"]["record_id"] == record.id and email not in failed.text
    assert client.get(f"{BASE}/deliveries", params={"status": "delivered"}, headers=admin).json() == []
    assert client.get(f"{BASE}/deliveries", params={"status": "bogus"}, headers=admin).status_code == 422

    again = client.post(f"{BASE}/deliveries/{item['id']}/redeliver", headers=admin)
    assert again.status_code == 200 and again.json()["status"] == "pending" and again.json()["attempts"] == 0
    assert client.post(f"{BASE}/deliveries/{item['id']}/redeliver", headers=admin).status_code == 409
    assert client.post(f"{BASE}/deliveries/missing/redeliver", headers=admin).status_code == 404
    with frozen_at(T0 + timedelta(minutes=1)):
        assert deliver_due(session_factory, keyring, one_try).delivered == 1
    assert [d.status for d in deliveries(db)] == ["delivered"]
    assert len(receiver.requests) == 2
