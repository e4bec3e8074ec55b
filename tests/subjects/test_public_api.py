"""The public /verify routes end to end: codes by real e-mail, trusted tokens, subject sessions; both stores."""

from __future__ import annotations

import secrets
import time

import jwt
import pytest
from faker import Faker
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from privet.settings import Settings
from privet.subjects import service
from privet.subjects.models import VerificationChallenge
from tests.subjects.test_verification_support import (  # noqa: F401 - fixtures
    cn_mobile,
    console_code,
    free_port,
    verify_smtp,
)
from tests.test_routes_auth import api_routes, unguarded

API = "/api/v1/verify"
SECRET = "company-login-shared-secret-0123456789abcdef"
fake_en, fake_zh = Faker("en_US"), Faker("zh_CN")


@pytest.fixture
def settings(settings: Settings, verify_smtp) -> Settings:
    """The shared settings, pointed at the local SMTP server and trusting HS256 tokens."""
    return settings.model_copy(update={"smtp_port": verify_smtp.port, "subject_token_secret": SECRET})


def _start(client: TestClient, identity: str, identity_type: str = "email", **extra: str):
    return client.post(f"{API}/start", json={"identity_type": identity_type, "identity": identity, **extra})


def _subject_header(session: str) -> dict:
    return {"Authorization": f"Subject {session}"}


def test_code_by_email_gives_a_subject_session(client: TestClient, db: Session, verify_smtp) -> None:
    address = fake_zh.email()
    started = _start(client, address, language="zh_CN")
    assert started.status_code == 201, started.text
    body = started.json()
    assert set(body) == {"challenge_id", "channel", "expires_at"} and body["channel"] == "email"
    assert "您的验证码是" in verify_smtp.inbox.last_to(address).get_content()
    checked = client.post(
        f"{API}/check", json={"challenge_id": body["challenge_id"], "code": verify_smtp.inbox.code_for(address)}
    )
    assert checked.status_code == 200, checked.text
    session = checked.json()["subject_session"]
    me = client.get(f"{API}/me", headers=_subject_header(session))
    assert me.status_code == 200, me.text
    subject = service.find_subject(db, client.app.state.keyring, "email", address)
    assert me.json()["subject_id"] == subject.id and me.json()["identity_type"] == "email"
    assert address not in me.text and address not in checked.text


def test_start_answers_alike_for_known_and_unknown_people(client: TestClient, db: Session) -> None:
    known, unknown = fake_en.email(), fake_en.email()
    service.create_subject(db, client.app.state.keyring, [("email", known, True)], actor="test")
    db.flush()
    answers = [_start(client, known), _start(client, unknown)]
    assert [a.status_code for a in answers] == [201, 201]
    assert next(sorted(a.json()) for a in answers) == sorted(answers[1].json())
    assert answers[0].json()["channel"] == answers[1].json()["channel"] == "email"
    assert known not in answers[0].text and unknown not in answers[1].text


def test_wrong_codes_count_and_lock(client: TestClient, db: Session, verify_smtp) -> None:
    address = fake_en.email()
    challenge_id = _start(client, address).json()["challenge_id"]
    code = verify_smtp.inbox.code_for(address)
    wrong = f"{(int(code) + 7) % 1_000_000:06d}"
    for attempt in range(1, 6):
        refused = client.post(f"{API}/check", json={"challenge_id": challenge_id, "code": wrong})
        assert refused.status_code == 401 and refused.headers["content-type"] == "application/problem+json"
        db.expire_all()
        assert db.get(VerificationChallenge, challenge_id).attempts == attempt  # counted although refused
    locked = client.post(f"{API}/check", json={"challenge_id": challenge_id, "code": code})
    assert locked.status_code == 401 and "can no longer be used" in locked.json()["detail"]
    assert code not in locked.text and address not in locked.text


def test_resend_throttle_answers_429_with_retry_after(client: TestClient, verify_smtp) -> None:
    address = fake_en.email()
    assert _start(client, address).status_code == 201
    again = _start(client, address)
    assert again.status_code == 429 and 55 <= int(again.headers["Retry-After"]) <= 60
    assert again.json()["title"] == "Too many requests" and address not in again.text


def test_bad_input_and_failed_sending_keep_nothing(client: TestClient, db: Session, settings: Settings) -> None:
    address = fake_en.email()
    for body, status in [
        ({"identity_type": "user_id", "identity": "u-1"}, 422),
        ({"identity_type": "email", "identity": "nobody-at-example"}, 422),
        ({"identity_type": "email", "identity": "a" * 330 + "@example.com"}, 422),
        ({"identity_type": "email", "identity": address, "language": "fr"}, 422),
    ]:
        answer = client.post(f"{API}/start", json=body)
        assert answer.status_code == status, answer.text
        assert body["identity"] not in answer.text
    settings.smtp_port = free_port()  # the mail server is down
    down = _start(client, address)
    assert down.status_code == 503 and "PRIVET_SMTP_HOST" in down.json()["hint"] and address not in down.text
    assert db.scalar(select(func.count()).select_from(VerificationChallenge)) == 0


def test_no_sender_configured_answers_503_and_keeps_nothing(
    client: TestClient, db: Session, settings: Settings, capsys
) -> None:
    """The default senders (none): a code cannot go out by either channel, so asking for one is a clear 503
    naming the setting; nothing is printed, counted or kept."""
    settings.mail_sender = settings.sms_sender = "none"
    for identity, identity_type, setting in (
        (fake_en.email(), "email", "PRIVET_MAIL_SENDER"),
        (cn_mobile(fake_zh), "phone", "PRIVET_SMS_SENDER"),
    ):
        refused = _start(client, identity, identity_type)
        assert refused.status_code == 503, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert "no sender is configured" in refused.json()["detail"] and setting in refused.json()["hint"]
        assert identity not in refused.text
    assert db.scalar(select(func.count()).select_from(VerificationChallenge)) == 0
    assert "[privet" not in capsys.readouterr().out


def test_phone_code_by_console(client: TestClient, db: Session, capsys) -> None:
    phone = cn_mobile(fake_zh)
    started = _start(client, phone, identity_type="phone")
    assert started.status_code == 201 and started.json()["channel"] == "sms"
    checked = client.post(
        f"{API}/check",
        json={"challenge_id": started.json()["challenge_id"], "code": console_code(capsys.readouterr().out)},
    )
    assert checked.status_code == 200, checked.text


def test_trusted_token_gives_a_subject_session_once(client: TestClient, db: Session) -> None:
    now = int(time.time())
    phone = cn_mobile(fake_zh)
    token = jwt.encode(
        {
            "aud": "privet",
            "iat": now,
            "exp": now + 120,
            "jti": secrets.token_hex(8),
            "identity_type": "phone",
            "identity": phone,
        },
        SECRET,
        algorithm="HS256",
    )
    answer = client.post(f"{API}/token", json={"token": token})
    assert answer.status_code == 200, answer.text
    me = client.get(f"{API}/me", headers=_subject_header(answer.json()["subject_session"])).json()
    assert me["subject_id"] == service.find_subject(db, client.app.state.keyring, "phone", phone).id
    replay = client.post(f"{API}/token", json={"token": token})
    assert replay.status_code == 401 and "already used" in replay.json()["detail"]
    forged = jwt.encode(
        {"aud": "privet", "iat": now, "exp": now + 120, "jti": "x", "sub": "u1"}, "guess" * 8, algorithm="HS256"
    )
    refused = client.post(f"{API}/token", json={"token": forged})
    assert refused.status_code == 401 and refused.json()["title"] == "Unauthorized"


def test_an_ended_session_is_refused(client: TestClient, db: Session) -> None:
    """An erasure or closure ends the person's sessions (P45): the API refuses a session issued before."""
    from privet.subjects import sessions

    now = int(time.time())
    token = jwt.encode(
        {
            "aud": "privet",
            "iat": now,
            "exp": now + 120,
            "jti": secrets.token_hex(8),
            "identity_type": "phone",
            "identity": cn_mobile(fake_zh),
        },
        SECRET,
        algorithm="HS256",
    )
    session = client.post(f"{API}/token", json={"token": token}).json()["subject_session"]
    assert client.get(f"{API}/me", headers=_subject_header(session)).status_code == 200
    subject_id = sessions.read(client.app.state.keyring, session).subject_id
    sessions.end_all(db, subject_id)
    db.commit()
    ended = client.get(f"{API}/me", headers=_subject_header(session))
    assert ended.status_code == 401 and "ended" in ended.json()["detail"]


def test_me_needs_a_valid_subject_session(client: TestClient) -> None:
    assert client.get(f"{API}/me").status_code == 401
    assert client.get(f"{API}/me", headers={"Authorization": "Bearer pvt_nothing"}).status_code == 401
    assert client.get(f"{API}/me", headers=_subject_header("ps1.e30.00")).status_code == 401


def test_routes_are_public_and_rate_limited(client: TestClient, settings: Settings) -> None:
    verify = [r for r in api_routes(client.app) if r.path.startswith("/api/v1/verify")]
    assert {r.path for r in verify} == {f"{API}/{name}" for name in ("start", "check", "token", "me")}
    assert all(r.public and r.rate_limited for r in verify) and not [p for p in unguarded(client.app) if "/verify" in p]
    settings.public_rate_limit_per_minute = 2
    answers = [client.get(f"{API}/me").status_code for _ in range(3)]
    assert answers == [401, 401, 429]
