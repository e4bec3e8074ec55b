"""The public request routes end to end: file, verify by a real e-mailed code, follow, download the package."""

from __future__ import annotations

import io
import secrets
import time
import zipfile

import jwt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from privet.requests.models import DsrRequest
from privet.settings import Settings

SECRET = "shared-login-secret-0123456789abcdef"


@pytest.fixture
def app(conf: Settings, engine, session_factory, store: Session):
    """The app on the test's transaction, with the shop's data map applied and `conf` as its settings."""
    from privet.app import create_app

    store.commit()
    application = create_app(
        conf.model_copy(update={"subject_token_secret": SECRET}), engine=engine, check_migrations=False
    )
    application.state.test_sessionmaker = session_factory
    return application


def _count(db: Session) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(DsrRequest))


def _subject(session_token: str) -> dict:
    return {"Authorization": f"Subject {session_token}"}


def _file_and_verify(client: TestClient, smtp, address: str, request_type: str = "access") -> dict:
    filed = client.post(
        "/api/v1/public/requests", json={"type": request_type, "identity_type": "email", "identity": address}
    )
    assert filed.status_code == 201, filed.text
    body = filed.json()
    assert body["verification"] == "code_sent" and body["status"] == "unverified"
    assert address not in filed.text
    verified = client.post(
        f"/api/v1/public/requests/{body['reference']}/verify",
        json={"challenge_id": body["challenge_id"], "code": smtp.code_for(address)},
    )
    assert verified.status_code == 200, verified.text
    return {**body, **verified.json()}


def test_file_verify_follow_and_download(client: TestClient, store: Session, drain, shop_db, smtp) -> None:
    customer = shop_db.customers[1]
    answer = _file_and_verify(client, smtp, customer.email)
    assert answer["status"] == "running"
    drain()
    mine = client.get("/api/v1/public/requests/mine", headers=_subject(answer["subject_session"]))
    assert mine.status_code == 200 and [r["reference"] for r in mine.json()] == [answer["reference"]]
    status = client.get(f"/api/v1/public/requests/{answer['reference']}", headers=_subject(answer["subject_session"]))
    assert status.json()["status"] == "completed" and status.json()["package_expires_at"]
    link = smtp.last_to(customer.email).get_content().split("https://privacy.shop.example", 1)[1].split()[0]
    download = client.get(link, headers=_subject(answer["subject_session"]))
    assert download.status_code == 200 and download.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(download.content)) as archive:
        assert customer.email in archive.read("data.json").decode()


def test_a_reference_shows_nothing_to_anyone_else(client: TestClient, shop_db, smtp) -> None:
    mine = _file_and_verify(client, smtp, shop_db.customers[0].email)
    theirs = _file_and_verify(client, smtp, shop_db.customers[2].email)
    reference = mine["reference"]
    assert client.get(f"/api/v1/public/requests/{reference}").status_code == 401
    other = client.get(f"/api/v1/public/requests/{reference}", headers=_subject(theirs["subject_session"]))
    missing = client.get("/api/v1/public/requests/R-ZZZZZZZZ", headers=_subject(theirs["subject_session"]))
    assert other.status_code == missing.status_code == 404 and other.json() == missing.json()
    listed = client.get("/api/v1/public/requests/mine", headers=_subject(theirs["subject_session"])).json()
    assert reference not in {r["reference"] for r in listed}


@pytest.mark.parametrize(
    "body",
    [
        {"type": "forget_me", "identity_type": "email", "identity": "a@example.com"},
        {"type": "access", "identity_type": "email", "identity": "not an address"},
        {"type": "access", "identity_type": "user_id", "identity": "4711"},
        {
            "type": "rectification",
            "identity_type": "email",
            "identity": "a@example.com",
            "details": {"changes": {"user.contact.phone": "12"}},
        },
        {"type": "access", "identity_type": "email", "identity": "a@example.com", "channel": "agent"},
    ],
)
def test_bad_input_is_a_problem_and_stores_nothing(client: TestClient, store: Session, body: dict) -> None:
    before = _count(store)
    answer = client.post("/api/v1/public/requests", json=body)
    assert answer.status_code == 422 and answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["detail"] and body["identity"] not in answer.text
    assert _count(store) == before


def test_a_session_for_someone_else_cannot_file_for_an_identity(
    client: TestClient, store: Session, shop_db, smtp
) -> None:
    theirs = _file_and_verify(client, smtp, shop_db.customers[3].email)
    before = _count(store)
    answer = client.post(
        "/api/v1/public/requests",
        headers=_subject(theirs["subject_session"]),
        json={"type": "access", "identity_type": "email", "identity": shop_db.customers[0].email},
    )
    assert answer.status_code == 403 and _count(store) == before


def test_a_trusted_token_verifies_at_once(client: TestClient, shop_db) -> None:
    customer = shop_db.customers[0]
    now = int(time.time())
    token = jwt.encode(
        {
            "identity_type": "phone",
            "identity": customer.phone,
            "aud": "privet",
            "iat": now,
            "exp": now + 300,
            "jti": secrets.token_hex(8),
        },
        SECRET,
        algorithm="HS256",
    )
    answer = client.post(
        "/api/v1/public/requests",
        json={"type": "erasure", "identity_type": "phone", "identity": customer.phone, "token": token},
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["verification"] == "verified" and answer.json()["status"] == "running"


def test_wrong_code_counts_and_resend_goes_to_the_same_identity(client: TestClient, shop_db, smtp) -> None:
    customer = shop_db.customers[2]
    filed = client.post(
        "/api/v1/public/requests", json={"type": "explanation", "identity_type": "email", "identity": customer.email}
    ).json()
    code = smtp.code_for(customer.email)
    wrong = client.post(
        f"/api/v1/public/requests/{filed['reference']}/verify",
        json={"challenge_id": filed["challenge_id"], "code": f"{(int(code) + 1) % 10**6:06d}"},
    )
    assert wrong.status_code == 401
    again = client.post(f"/api/v1/public/requests/{filed['reference']}/code")
    assert again.status_code == 429 and again.headers["Retry-After"]  # the resend throttle holds
    assert customer.email not in again.text


def test_own_subject_session_verifies_filing_and_a_waiting_request(client: TestClient, shop_db, smtp) -> None:
    customer = shop_db.customers[1]
    first = _file_and_verify(client, smtp, customer.email)
    headers = _subject(first["subject_session"])
    at_once = client.post(
        "/api/v1/public/requests",
        headers=headers,
        json={
            "type": "withdrawal",
            "identity_type": "email",
            "identity": customer.email,
            "details": {"purposes": ["marketing.communications"]},
        },
    )
    assert at_once.status_code == 201 and at_once.json()["verification"] == "verified"
    assert at_once.json()["status"] == "completed"
    waiting = client.post(
        "/api/v1/public/requests", json={"type": "portability", "identity_type": "email", "identity": customer.email}
    )
    assert waiting.json()["status"] == "unverified"
    done = client.post(f"/api/v1/public/requests/{waiting.json()['reference']}/verify", headers=headers)
    assert done.status_code == 200 and done.json()["status"] == "running"
