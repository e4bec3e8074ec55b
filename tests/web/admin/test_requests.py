"""The request pages without a browser: refusal preview then refusal (audited), roles, CSRF, no identity shown."""

from __future__ import annotations

from faker import Faker
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from privet.requests import service
from privet.requests.intake import service as intake
from tests.web.admin.conftest import HTML


def _filed(app: FastAPI, db: Session, email: str, region: str | None = None):
    found = intake.file_request(
        db,
        app.state.keyring,
        app.state.settings,
        request_type="access",
        identity_type="email",
        identity=email,
        filed_by="test",
        channel="api",
        region=region,
    )
    db.commit()
    return found


def test_refusal_is_previewed_then_sent_and_lands_in_the_trail(
    client: TestClient, app: FastAPI, db: Session, officer
) -> None:
    email = Faker().unique.email(domain="example.com")
    filed = _filed(app, db, email)
    token = officer("privacy_officer")
    path = f"/admin/requests/{filed.reference}"
    shown = client.get(path, headers=HTML)
    assert shown.status_code == 200 and filed.reference in shown.text and email not in shown.text
    assert "request.filed" in shown.text and 'id="refuse-code"' in shown.text
    preview = client.post(
        f"{path}/refuse/preview",
        headers=HTML,
        data={"csrf_token": token, "code": "trade_secret", "note": "Contains supplier terms"},
    )
    assert preview.status_code == 200 and "The request concerns trade secrets." in preview.text
    assert "Contains supplier terms" in preview.text and email not in preview.text
    db.expire_all()
    assert service.by_reference(db, filed.reference).status == "unverified"  # a preview changes nothing
    done = client.post(
        f"{path}/refuse",
        headers=HTML,
        follow_redirects=False,
        data={"csrf_token": token, "code": "trade_secret", "note": "Contains supplier terms"},
    )
    assert done.status_code == 303 and done.headers["location"] == f"{path}?done=refused"
    after = client.get(done.headers["location"], headers=HTML).text
    assert "request.refused" in after and "code=trade_secret" in after and "user:privacy-officer" in after
    db.expire_all()
    assert service.by_reference(db, filed.reference).status == "refused"


def test_a_bad_reason_code_is_refused_with_a_clear_page(client: TestClient, app: FastAPI, db: Session, officer) -> None:
    filed = _filed(app, db, Faker().unique.email(domain="example.com"))
    token = officer("agent")
    answer = client.post(
        f"/admin/requests/{filed.reference}/refuse/preview",
        headers=HTML,
        data={"csrf_token": token, "code": "no_such_code"},
    )
    assert answer.status_code == 422 and "Unknown refusal code" in answer.text


def test_reading_roles_cannot_act_and_forms_need_the_token(
    client: TestClient, app: FastAPI, db: Session, officer
) -> None:
    filed = _filed(app, db, Faker().unique.email(domain="example.com"))
    token = officer("auditor")
    path = f"/admin/requests/{filed.reference}"
    page = client.get(path, headers=HTML)
    assert page.status_code == 200 and 'id="refuse-code"' not in page.text  # no actions offered
    answer = client.post(f"{path}/refuse", headers=HTML, data={"csrf_token": token, "code": "trade_secret"})
    assert answer.status_code == 403
    db.expire_all()
    assert service.by_reference(db, filed.reference).status == "unverified"


def test_assign_without_csrf_changes_nothing(client: TestClient, app: FastAPI, db: Session, officer) -> None:
    filed = _filed(app, db, Faker().unique.email(domain="example.com"))
    token = officer("agent")
    path = f"/admin/requests/{filed.reference}"
    assert client.post(f"{path}/assign", headers=HTML, data={"assignee": "someone"}).status_code == 403
    db.expire_all()
    assert service.by_reference(db, filed.reference).assignee is None
    ok = client.post(
        f"{path}/assign", headers=HTML, data={"assignee": "someone", "csrf_token": token}, follow_redirects=False
    )
    assert ok.status_code == 303
    db.expire_all()
    assert service.by_reference(db, filed.reference).assignee == "someone"


def test_queue_filters_and_unknown_reference(client: TestClient, app: FastAPI, db: Session, officer) -> None:
    filed = _filed(app, db, Faker().unique.email(domain="example.com"))
    officer("agent")
    listed = client.get("/admin/requests?status=unverified&type=access", headers=HTML)
    assert listed.status_code == 200 and filed.reference in listed.text
    assert filed.reference not in client.get("/admin/requests?status=completed", headers=HTML).text
    missing = client.get("/admin/requests/R-ZZZZZZZZ", headers=HTML)
    assert missing.status_code == 404 and "<html" in missing.text


def test_identity_check_then_extend_then_approve(client: TestClient, app: FastAPI, db: Session, officer) -> None:
    app.state.settings.requests_manual_approval = ["access"]
    # a person in Germany: the GDPR (PIPL allows no extension, the form is not offered there)
    filed = _filed(app, db, Faker().unique.email(domain="example.com"), region="DE")
    token = officer("privacy_officer")
    path = f"/admin/requests/{filed.reference}"
    checked = client.post(
        f"{path}/identity-check",
        headers=HTML,
        follow_redirects=False,
        data={"csrf_token": token, "method": "call_back", "note": "Called back"},
    )
    assert checked.status_code == 303
    page = client.get(path, headers=HTML).text
    assert "Waiting for approval" in page and f'action="{path}/approve"' in page and f'action="{path}/extend"' in page
    db.expire_all()
    due = service.by_reference(db, filed.reference).due_on
    extended = client.post(
        f"{path}/extend",
        headers=HTML,
        follow_redirects=False,
        data={"csrf_token": token, "reason": "Records are spread over several archives"},
    )
    assert extended.status_code == 303 and extended.headers["location"].endswith("done=extended")
    db.expire_all()
    assert service.by_reference(db, filed.reference).extended_to > due
    again = client.post(f"{path}/extend", headers=HTML, data={"csrf_token": token, "reason": "More"})
    assert again.status_code in (409, 422)  # once only, refused with a page
    approved = client.post(f"{path}/approve", headers=HTML, follow_redirects=False, data={"csrf_token": token})
    assert approved.status_code == 303
    trail = client.get(path, headers=HTML).text
    assert "request.extended" in trail and "request.approved" in trail and "request.verified" in trail
