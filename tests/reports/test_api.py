"""Report routes: records of processing, impact assessments, the cross-border register (scopes, refusals)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from privet.auth.keys import create_api_key
from tests.reports.datamap import ACTIVITIES, PIA_TRIGGERS, apply_datamap


@pytest.fixture
def keys(db: Session, tmp_path: Path) -> dict[str, dict[str, str]]:
    apply_datamap(db, tmp_path / "dm")
    _k, writer = create_api_key(db, "officer", ["registers:read", "registers:write"], actor="test")
    _k, reader = create_api_key(db, "auditor", ["registers:read"], actor="test")
    db.commit()
    return {"writer": {"Authorization": f"Bearer {writer}"}, "reader": {"Authorization": f"Bearer {reader}"}}


def test_records_of_processing_in_html_csv_and_json(client: TestClient, keys: dict) -> None:
    assert client.get("/api/v1/reports/ropa").status_code == 401
    html = client.get("/api/v1/reports/ropa", headers=keys["reader"])
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert all(f'id="activity-{a}"' in html.text for a in ACTIVITIES)
    answer = client.get("/api/v1/reports/ropa?format=csv", headers=keys["reader"])
    assert answer.headers["content-type"].startswith("text/csv")
    assert [r["activity"] for r in csv.DictReader(io.StringIO(answer.text))] == sorted(ACTIVITIES)
    data = client.get("/api/v1/reports/ropa?format=json", headers=keys["reader"]).json()
    assert data["organisation"]["name"] == "Acme Devices" and len(data["activities"]) == len(ACTIVITIES)
    chinese = client.get("/api/v1/reports/ropa?lang=zh_CN", headers=keys["reader"])
    assert chinese.status_code == 200 and "个人信息处理活动记录" in chinese.text and "电子邮件地址" in chinese.text
    assert client.get("/api/v1/reports/ropa?lang=fr", headers=keys["reader"]).status_code == 422


def test_impact_assessments_through_the_api(client: TestClient, keys: dict) -> None:
    assert client.post("/api/v1/reports/pia/sync", headers=keys["reader"]).status_code == 403
    created = client.post("/api/v1/reports/pia/sync", headers=keys["writer"]).json()
    assert {r["activity"]: r["triggers"] for r in created} == PIA_TRIGGERS
    ref = next(r["reference"] for r in created if r["activity"] == "winners")
    shown = client.get(f"/api/v1/reports/pia/{ref}", headers=keys["reader"]).json()
    answers = {q["key"]: "Answered." for q in shown["questions"]}
    assert "public_disclosure" in answers
    body = {"outcome": "acceptable", "conclusion": "Names only, with separate consent."}
    refused = client.post(f"/api/v1/reports/pia/{ref}/conclude", json=body, headers=keys["writer"])
    assert refused.status_code == 422 and "unanswered" in refused.json()["detail"]
    assert (
        client.post(f"/api/v1/reports/pia/{ref}/answers", json={"answers": answers}, headers=keys["writer"]).status_code
        == 200
    )
    done = client.post(f"/api/v1/reports/pia/{ref}/conclude", json=body, headers=keys["writer"]).json()
    assert done["status"] == "concluded" and int(done["retain_until"][:4]) == int(done["concluded_at"][:4]) + 3
    kept = client.delete(f"/api/v1/reports/pia/{ref}", headers=keys["writer"])
    assert kept.status_code == 409 and "must be kept until" in kept.json()["detail"]
    assert client.get(f"/api/v1/reports/pia/{ref}", headers=keys["reader"]).status_code == 200


def test_cross_border_register_through_the_api(client: TestClient, keys: dict) -> None:
    body = {
        "destination": "DE",
        "recipient": "eu_desk_gmbh",
        "categories": ["user.contact.email"],
        "subject_count": 100_000,
        "activity": "global_support",
        "at": "2026-02-01T10:00:00+08:00",
    }
    refused = client.post("/api/v1/reports/crossborder/transfers", json=body, headers=keys["writer"])
    assert refused.status_code == 422 and "mechanism" in refused.json()["detail"]
    assert client.get("/api/v1/reports/crossborder/transfers", headers=keys["reader"]).json() == []
    assert (
        client.post(
            "/api/v1/reports/crossborder/transfers", json={**body, "mechanism": "exemption"}, headers=keys["reader"]
        ).status_code
        == 403
    )
    done = client.post(
        "/api/v1/reports/crossborder/transfers", json={**body, "mechanism": "exemption"}, headers=keys["writer"]
    )
    assert done.status_code == 201, done.text
    answer = done.json()
    assert answer["year"]["people"] == 100_000 and answer["year"]["required"] == "standard_contract_or_certification"
    assert [a["kind"] for a in answer["alerts"]] == ["threshold_crossed", "mechanism_weaker"]
    status = client.get("/api/v1/reports/crossborder/status?at=2026-06-01T00:00:00Z", headers=keys["reader"]).json()
    assert status["year"]["people"] == 100_000 and status["year"]["counting"] == "summed"
    assert "mechanism_weaker" in {a["kind"] for a in status["alerts"]}
    ref = answer["transfer"]["reference"]
    assert (
        client.get(f"/api/v1/reports/crossborder/transfers/{ref}", headers=keys["reader"]).json()["mechanism"]
        == "exemption"
    )
