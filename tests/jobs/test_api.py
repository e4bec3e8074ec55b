"""`/api/v1/jobs`: scope, filters and pages, retry of a failed job."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from privet.auth.keys import create_api_key
from privet.jobs.service import enqueue, run_until_idle
from privet.kit.crypto import Keyring
from privet.settings import Settings

BASE = "/api/v1/jobs"


def bearer(db: Session, *scopes: str) -> dict[str, str]:
    token = create_api_key(db, "jobs-test", list(scopes), actor="test")[1]
    db.commit()
    return {"Authorization": f"Bearer {token}"}


def test_jobs_need_the_jobs_admin_scope(client: TestClient, db: Session) -> None:
    assert client.get(BASE).status_code == 401
    other = bearer(db, "requests:write")
    denied = client.get(BASE, headers=other)
    assert denied.status_code == 403 and "jobs:admin" in denied.json()["detail"]
    assert client.post(f"{BASE}/x/retry", headers=other).status_code == 403
    from privet.auth.scopes import ROLES

    assert "jobs:admin" in ROLES["admin"] and "jobs:admin" not in ROLES["privacy_officer"]


def test_list_filter_page_and_retry(client: TestClient, db: Session, session_factory, settings: Settings) -> None:
    admin = bearer(db, "jobs:admin")
    failing = enqueue(db, "test.fail", {"request_id": "r-1"}, max_attempts=1)
    for n in range(3):
        enqueue(db, "test.record", {"n": n})
    db.commit()
    run_until_idle(session_factory, settings, Keyring.from_settings(settings))

    page = client.get(BASE, params={"kind": "test.record", "limit": 2}, headers=admin).json()
    assert (page["total"], page["limit"], page["offset"], len(page["items"])) == (3, 2, 0, 2)
    assert (
        client.get(BASE, params={"kind": "test.record", "offset": 2}, headers=admin).json()["items"][0]["status"]
        == "done"
    )
    failed = client.get(BASE, params={"status": "failed"}, headers=admin).json()
    assert [job["id"] for job in failed["items"]] == [failing.id]
    assert failed["items"][0]["last_error"] == "ValueError: datastore crm is down"
    assert failed["items"][0]["payload"] == {"request_id": "r-1"}
    bad = client.get(BASE, params={"status": "sleeping"}, headers=admin)
    assert bad.status_code == 422 and "queued, running, done, failed" in bad.json()["hint"]

    retried = client.post(f"{BASE}/{failing.id}/retry", headers=admin)
    assert retried.status_code == 200
    assert (retried.json()["status"], retried.json()["attempts"]) == ("queued", 0)
    assert client.get(f"{BASE}/{failing.id}", headers=admin).json()["status"] == "queued"
    again = client.post(f"{BASE}/{failing.id}/retry", headers=admin)
    assert again.status_code == 409 and again.json()["hint"] == "only failed jobs can be retried"
    assert client.post(f"{BASE}/nope/retry", headers=admin).status_code == 404
    assert client.get(f"{BASE}/nope", headers=admin).status_code == 404
