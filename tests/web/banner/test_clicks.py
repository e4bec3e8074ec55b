"""Click tracking for e-mail links (P4): signed links, recorded only with consent, tampering refused."""

from __future__ import annotations

import base64
import json

import pytest
from faker import Faker
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from privet.audit.models import AuditEvent
from privet.consent.ledger import service as ledger
from privet.web.banner import clicks

pytestmark = pytest.mark.usefixtures("keptek")
TARGET = "https://shop.example/offers/spring?utm_source=mail"


@pytest.fixture
def subject(app, db: Session):
    from privet.subjects.service import create_subject

    return create_subject(
        db, app.state.keyring, [("email", Faker().unique.email(domain="example.com"), True)], actor="test"
    )


def _clicks(db: Session, subject_id: str) -> list[AuditEvent]:
    return list(
        db.execute(
            select(AuditEvent).where(AuditEvent.action == "email.link_clicked", AuditEvent.object_id == subject_id)
        ).scalars()
    )


def _follow(client: TestClient, link: str):
    return client.get(
        link.replace("https://privet.example", ""), follow_redirects=False, headers={"Accept": "text/html"}
    )


def test_consented_click_is_recorded_and_redirected(app, client: TestClient, db: Session, subject) -> None:
    record = ledger.record(
        db, subject_id=subject.id, purpose=clicks.PURPOSE, event="given", method="form", actor="test"
    )
    db.flush()
    link = clicks.click_link(
        app.state.keyring, "https://privet.example/", subject_id=subject.id, url=TARGET, campaign="spring-2026"
    )
    assert link.startswith("https://privet.example/t/c/") and "@" not in link
    response = _follow(client, link)
    assert response.status_code == 302 and response.headers["location"] == TARGET
    assert response.headers["cache-control"] == "no-store"
    [event] = _clicks(db, subject.id)
    assert event.details == {
        "campaign": "spring-2026",
        "purpose": "analytics.click_tracking",
        "consent_record": record.id,
        "target_host": "shop.example",
    }


@pytest.mark.promise("P4")
def test_without_consent_the_click_only_redirects(app, client: TestClient, db: Session, subject) -> None:
    link = clicks.click_link(
        app.state.keyring, "https://privet.example", subject_id=subject.id, url=TARGET, campaign="spring-2026"
    )
    assert _follow(client, link).headers["location"] == TARGET
    ledger.record(db, subject_id=subject.id, purpose=clicks.PURPOSE, event="refused", method="form", actor="test")
    db.flush()
    response = _follow(client, link)
    assert response.status_code == 302 and response.headers["location"] == TARGET
    assert _clicks(db, subject.id) == []
    stranger = clicks.click_link(
        app.state.keyring, "https://privet.example", subject_id="no-such-subject", url=TARGET, campaign="c1"
    )
    assert _follow(client, stranger).headers["location"] == TARGET


def test_tampered_and_non_web_links_are_refused(app, client: TestClient, db: Session, subject) -> None:
    ring = app.state.keyring
    token = clicks.click_token(ring, subject_id=subject.id, url=TARGET, campaign="c1")
    payload, mac = token.split(".")
    forged = (
        base64.urlsafe_b64encode(json.dumps({"s": subject.id, "u": "https://evil.example/", "c": "c1"}).encode())
        .rstrip(b"=")
        .decode()
    )
    for bad in (f"{forged}.{mac}", f"{payload}.{mac[:-2]}xx", payload, "not-a-token", f"{payload}x.{mac}"):
        response = _follow(client, f"/t/c/{bad}")
        assert response.status_code == 400, bad
        assert "location" not in response.headers and "This link is not valid" in response.text
    for target in (
        "javascript:alert(1)",
        "ftp://files.example/x",
        "/relative",
        "https://user@evil.example/",
        "data:text/html,hi",
    ):
        with pytest.raises(ValueError):
            clicks.click_token(ring, subject_id=subject.id, url=target, campaign="c1")
    # a correctly signed token for a non-web target (e.g. from an older link maker) is still refused
    body = (
        base64.urlsafe_b64encode(json.dumps({"s": subject.id, "u": "javascript:alert(1)", "c": "c1"}).encode())
        .rstrip(b"=")
        .decode()
    )
    signed = f"{body}.{clicks._mac(ring, body)}"
    response = _follow(client, f"/t/c/{signed}")
    assert response.status_code == 400 and "does not lead to a web page" in response.text
    with pytest.raises(ValueError):
        clicks.click_token(ring, subject_id=subject.id, url=TARGET, campaign="alice@example.com")
    zh = client.get(f"/t/c/{forged}.{mac}?lang=zh_CN", follow_redirects=False, headers={"Accept": "text/html"})
    assert zh.status_code == 400 and "此链接无效" in zh.text
    assert _clicks(db, subject.id) == []


def test_mailing_systems_make_links_with_an_api_key(client: TestClient, db: Session, subject) -> None:
    from privet.auth import service as auth

    key = auth.create_api_key(db, "mailer", ["consent:write"], actor="test")[1]
    db.flush()
    body = {"subject_id": subject.id, "url": TARGET, "campaign": "spring-2026"}
    assert client.post("/banner/click-links", json=body).status_code == 401
    made = client.post("/banner/click-links", json=body, headers={"Authorization": f"Bearer {key}"})
    assert made.status_code == 201, made.text
    base, _, token = made.json()["link"].partition("/t/c/")
    assert base == "http://127.0.0.1:8000" and _follow(client, f"/t/c/{token}").headers["location"] == TARGET
    bad = client.post(
        "/banner/click-links", json={**body, "url": "javascript:alert(1)"}, headers={"Authorization": f"Bearer {key}"}
    )
    assert bad.status_code == 422
