"""Notices (publish from the form, versions, diff) and the consent lookup (identity in the body, masked back)."""

from __future__ import annotations

from faker import Faker
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.web.admin.conftest import HTML

V1 = "# Privacy policy\n\n## 1. What we collect\n\nYour name.\n\n## 2. Your rights\n\nAsk us anything.\n"
V2 = "# Privacy policy\n\n## 1. What we collect\n\nYour name and your phone.\n\n## 2. Your rights\n\nAsk us anything.\n"


def test_publish_two_versions_and_see_the_diff(client: TestClient, officer) -> None:
    token = officer("privacy_officer")
    first = client.post(
        "/admin/notices",
        headers=HTML,
        follow_redirects=False,
        data={
            "csrf_token": token,
            "key": "web_policy",
            "kind": "policy",
            "effective_date": "2026-01-01",
            "text_en": V1,
        },
    )
    assert first.status_code == 303 and first.headers["location"] == "/admin/notices/web_policy?done=published"
    second = client.post(
        "/admin/notices",
        headers=HTML,
        follow_redirects=False,
        data={"csrf_token": token, "key": "web_policy", "kind": "policy", "effective_date": "2026-02-01"},
        files={"file_en": ("policy.md", V2.encode(), "text/markdown")},
    )
    assert second.status_code == 303
    shown = client.get("/admin/notices/web_policy", headers=HTML)
    assert shown.status_code == 200 and 'id="diff-summary"' in shown.text
    assert "Section 1 changed" in shown.text and "+Your name and your phone." in shown.text
    listed = client.get("/admin/notices", headers=HTML).text
    assert "web_policy" in listed and 'id="publish-title"' in listed
    same = client.post(
        "/admin/notices",
        headers=HTML,
        data={
            "csrf_token": token,
            "key": "web_policy",
            "kind": "policy",
            "effective_date": "2026-03-01",
            "text_en": V2,
        },
    )
    assert same.status_code == 409  # no change: refused with a page, nothing published


def test_an_agent_reads_notices_but_cannot_publish(client: TestClient, officer) -> None:
    token = officer("agent")
    assert 'id="publish-title"' not in client.get("/admin/notices", headers=HTML).text
    refused = client.post(
        "/admin/notices",
        headers=HTML,
        data={"csrf_token": token, "key": "x_policy", "effective_date": "2026-01-01", "text_en": V1},
    )
    assert refused.status_code == 403


def test_consent_lookup_takes_the_identity_in_the_body_and_masks_it(
    client: TestClient, app: FastAPI, db: Session, officer
) -> None:
    from privet.subjects.service import create_subject

    email = Faker().unique.email(domain="example.com")
    subject = create_subject(db, app.state.keyring, [("email", email, True)], actor="test")
    db.commit()
    token = officer("auditor")
    missing = client.post(
        "/admin/consent", headers=HTML, data={"csrf_token": token, "type": "email", "value": "nobody@example.com"}
    )
    assert missing.status_code == 200 and "No subject holds this identity" in missing.text
    found = client.post("/admin/consent", headers=HTML, data={"csrf_token": token, "type": "email", "value": email})
    assert found.status_code == 200, found.text[-3000:]
    assert subject.id in found.text and email not in found.text
    assert "No consent recorded" in found.text
    assert client.get("/admin/consent", headers=HTML).status_code == 200
