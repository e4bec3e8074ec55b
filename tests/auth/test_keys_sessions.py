"""API keys (shown once, hashed at rest, refused when revoked/expired/malformed) and browser sessions."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from privet.audit.models import AuditEvent
from privet.auth import service
from privet.auth.models import ApiKey, WebSession
from privet.kit.clock import frozen_at, utcnow
from privet.kit.errors import Conflict, InvalidInput
from tests.auth.conftest import ACTOR


def test_key_secret_shown_once_and_hashed_at_rest(db: Session) -> None:
    key, token = service.create_api_key(db, "crm-sync", ["datamap:read", "taxonomy:read"], actor=ACTOR)
    assert token.startswith(f"pvt_{key.prefix}_") and key.prefix.startswith("pk_")
    secret = token[len(f"pvt_{key.prefix}_") :]
    db.flush()
    row = db.execute(text("SELECT * FROM api_keys WHERE id = :id"), {"id": key.id}).mappings().one()
    stored = json.dumps({k: str(v) for k, v in row.items()})
    assert token not in stored and secret not in stored
    assert len(row["key_hash"]) == 64
    events = json.dumps([e.details for e in db.scalars(select(AuditEvent))])
    assert secret not in events and row["key_hash"] not in events
    principal = service.principal_for_api_key(db, token)
    assert principal.kind == "apikey" and principal.scopes == {"datamap:read", "taxonomy:read"}
    assert principal.actor == f"apikey:{key.prefix}"


def test_unknown_scope_refused_listing_valid_ones(db: Session) -> None:
    with pytest.raises(InvalidInput) as caught:
        service.create_api_key(db, "bad", ["datamap:read", "everything"], actor=ACTOR)
    assert "everything" in caught.value.render() and "audit:read" in caught.value.render()
    assert db.scalar(select(ApiKey).where(ApiKey.name == "bad")) is None


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: "",
        lambda t: "garbage",
        lambda t: t[:-1],
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),
        lambda t: t.replace("pvt_", "pvx_"),
        lambda t: t + "x",
        lambda t: t.upper(),
    ],
)
def test_malformed_or_wrong_tokens_refused(db: Session, mangle) -> None:
    _key, token = service.create_api_key(db, "svc", ["audit:read"], actor=ACTOR)
    assert service.principal_for_api_key(db, mangle(token)) is None


def test_revoked_key_refused_and_revoke_audited(db: Session) -> None:
    key, token = service.create_api_key(db, "svc", ["audit:read"], actor=ACTOR)
    service.revoke_api_key(db, key.prefix, actor=ACTOR)
    assert service.principal_for_api_key(db, token) is None
    with pytest.raises(Conflict):
        service.revoke_api_key(db, key.id, actor=ACTOR)
    actions = db.scalars(select(AuditEvent.action).where(AuditEvent.object_id == key.id)).all()
    assert actions == ["apikey.created", "apikey.revoked"]


def test_expired_key_refused(db: Session) -> None:
    now = utcnow()
    _key, token = service.create_api_key(db, "svc", ["audit:read"], actor=ACTOR, expires_at=now + timedelta(hours=1))
    with frozen_at(now + timedelta(minutes=59)):
        assert service.principal_for_api_key(db, token) is not None
    with frozen_at(now + timedelta(hours=1, seconds=1)):
        assert service.principal_for_api_key(db, token) is None
    with pytest.raises(InvalidInput):
        service.create_api_key(db, "svc", ["audit:read"], actor=ACTOR, expires_at=now - timedelta(seconds=1))


def test_last_used_written_at_most_once_a_minute(db: Session) -> None:
    key, token = service.create_api_key(db, "svc", ["audit:read"], actor=ACTOR)
    start = utcnow()
    with frozen_at(start):
        service.principal_for_api_key(db, token)
    assert key.last_used_at == start
    with frozen_at(start + timedelta(seconds=30)):
        service.principal_for_api_key(db, token)
    assert key.last_used_at == start
    with frozen_at(start + timedelta(seconds=61)):
        service.principal_for_api_key(db, token)
    assert key.last_used_at == start + timedelta(seconds=61)


def test_session_lifecycle_and_expiry(db: Session, make_user) -> None:
    user, _ = make_user("privacy_officer")
    start = utcnow()
    with frozen_at(start):
        cookie, csrf = service.start_session(db, user, ttl_minutes=30)
    stored = db.scalars(select(WebSession).where(WebSession.user_id == user.id)).one()
    assert stored.id != cookie and cookie not in stored.id and stored.csrf_token == csrf
    with frozen_at(start + timedelta(minutes=29)):
        principal = service.principal_for_session(db, cookie)
        assert principal.actor == f"user:{user.username}" and "datamap:write" in principal.scopes
        assert service.csrf_ok(db, cookie, csrf)
        assert not service.csrf_ok(db, cookie, csrf[:-1]) and not service.csrf_ok(db, cookie, "")
    with frozen_at(start + timedelta(minutes=30, seconds=1)):
        assert service.principal_for_session(db, cookie) is None
        assert not service.csrf_ok(db, cookie, csrf)
    assert service.principal_for_session(db, "not-a-session") is None


def test_end_session_and_deactivation_revoke(db: Session, make_user) -> None:
    make_user("admin")
    user, _ = make_user("admin")
    first, _ = service.start_session(db, user, 60)
    second, _ = service.start_session(db, user, 60)
    assert service.end_session(db, first) and service.principal_for_session(db, first) is None
    assert service.principal_for_session(db, second) is not None
    service.deactivate_user(db, user, actor=ACTOR)
    assert service.principal_for_session(db, second) is None


def test_one_time_password_limits_scopes(db: Session) -> None:
    username, _password = service.ensure_first_admin(db)
    admin = service.find_user(db, username)
    cookie, _ = service.start_session(db, admin, 60)
    assert service.principal_for_session(db, cookie).scopes == {"account:self"}
    service.set_password(
        db,
        admin,
        "a much better passphrase",
        actor=f"user:{username}",
        must_change=False,
        keep_session=service.principal_for_session(db, cookie).session_id,
    )
    assert "users:admin" in service.principal_for_session(db, cookie).scopes


def test_role_scopes(db: Session, make_user) -> None:
    auditor, _ = make_user("auditor")
    agent, _ = make_user("agent")
    scopes = {
        u.role: service.principal_for_session(db, service.start_session(db, u, 5)[0]).scopes for u in (auditor, agent)
    }
    assert "audit:read" in scopes["auditor"] and "datamap:read" in scopes["auditor"]
    assert not {"datamap:write", "users:admin"} & scopes["auditor"]
    assert "audit:read" not in scopes["agent"] and "datamap:write" not in scopes["agent"]
