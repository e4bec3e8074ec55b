"""Incident routes: record, clocks, due list, notices, scopes and refusals."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from privet.auth.keys import create_api_key
from tests.reports.datamap import apply_datamap

BODY = {
    "title": "Backup readable",
    "severity": "major",
    "discovered_at": "2026-03-02T09:30:00Z",
    "categories": ["user.contact.email"],
    "subjects_affected": 50_000,
    "ciio": True,
    "high_risk": True,
    "facts": {"what_happened": {"en": "A backup file was publicly readable.", "zh_CN": "一个备份文件可被公开读取。"}},
}


@pytest.fixture
def keys(db: Session, tmp_path: Path) -> dict[str, dict[str, str]]:
    apply_datamap(db, tmp_path / "dm")
    _k, writer = create_api_key(db, "officer", ["registers:read", "registers:write"], actor="test")
    _k, reader = create_api_key(db, "auditor", ["registers:read"], actor="test")
    db.commit()
    return {"writer": {"Authorization": f"Bearer {writer}"}, "reader": {"Authorization": f"Bearer {reader}"}}


def test_record_show_due_notify_and_notices(client: TestClient, keys: dict) -> None:
    assert client.post("/api/v1/incidents", json=BODY).status_code == 401
    assert client.post("/api/v1/incidents", json=BODY, headers=keys["reader"]).status_code == 403
    made = client.post("/api/v1/incidents", json=BODY, headers=keys["writer"])
    assert made.status_code == 201, made.text
    incident = made.json()
    clocks = {c["key"]: c for c in incident["clocks"]}
    assert clocks["prc_regulator"]["due_at"] == "2026-03-02T10:30:00+00:00"  # CIIO: 1 hour
    assert clocks["prc_regulator"]["state"] == "overdue" and clocks["people"]["state"] == "asap"
    ref = incident["reference"]
    due = client.get("/api/v1/incidents/due", headers=keys["reader"]).json()
    assert [(d["reference"], d["clock"]["key"]) for d in due] == [(ref, "prc_regulator"), (ref, "people")]
    notices = client.get(f"/api/v1/incidents/{ref}/notices?language=zh_CN", headers=keys["reader"]).json()
    assert [n["audience"] for n in notices] == ["people", "regulator"]
    assert all("一个备份文件可被公开读取" in n["body"] for n in notices)
    assert (
        "50,000" in notices[1]["body"] and "1小时内报告" in notices[1]["body"] and "保护工作部门" in notices[1]["body"]
    )
    done = client.post(
        f"/api/v1/incidents/{ref}/notified", json={"clock": "prc_regulator"}, headers=keys["writer"]
    ).json()
    assert {c["key"]: c["state"] for c in done["clocks"]}["prc_regulator"] == "done"
    assert client.post(f"/api/v1/incidents/{ref}/close", headers=keys["writer"]).json()["status"] == "closed"
    assert client.get("/api/v1/incidents/due", headers=keys["reader"]).json() == []
    assert client.get("/api/v1/incidents/I-NOPE", headers=keys["reader"]).status_code == 404


def test_bad_input_is_refused_and_nothing_recorded(client: TestClient, keys: dict) -> None:
    bad = {**BODY, "facts": {"what_happened": {"en": "Mail to someone@example.com leaked"}}}
    answer = client.post("/api/v1/incidents", json=bad, headers=keys["writer"])
    assert answer.status_code == 422 and "e-mail" in answer.json()["detail"]
    assert (
        client.post("/api/v1/incidents", json={**BODY, "severity": "huge"}, headers=keys["writer"]).status_code == 422
    )
    assert client.get("/api/v1/incidents", headers=keys["reader"]).json() == []
