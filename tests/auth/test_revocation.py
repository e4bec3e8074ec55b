"""A revoked API key stops working at once: remembered keys are used only under the generation they were checked
under, and every request reads the generation again."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from privet.auth import keys, service
from privet.auth.models import ApiKey
from privet.db import limits
from privet.db.engine import session_scope
from privet.kit.clock import utcnow


@pytest.fixture(autouse=True)
def fresh_state() -> None:
    """Each test starts with no remembered keys (as a new process would)."""
    keys.forget_recent()


def _revoke_elsewhere(factory, key_id: str) -> None:
    """What another process's revocation leaves in the store (this process's memory is not told)."""
    with session_scope(factory) as session:
        session.execute(update(ApiKey).where(ApiKey.id == key_id).values(revoked_at=utcnow()))
        limits.bump(session, keys.REVOKED)


def test_a_remembered_key_is_not_used_once_the_generation_moved(db: Session, session_factory) -> None:
    key, token = service.create_api_key(db, "svc", ["decide"], actor="test")
    db.commit()
    before = limits.generation(db, keys.REVOKED)
    assert service.principal_for_api_key(db, token).id == key.id
    assert keys.known_principal(token, before).id == key.id  # checked just now, nothing revoked: no store check
    _revoke_elsewhere(session_factory, key.id)
    after = limits.generation(db, keys.REVOKED)
    assert after == before + 1
    assert keys.known_principal(token, after) is None  # the next request reads `after`: to the store again
    with session_factory() as fresh:  # (db keeps its loaded copy of the key)
        assert service.principal_for_api_key(fresh, token) is None  # the store says revoked
    assert keys.known_principal(token, after) is None


def test_a_remembered_key_is_checked_again_after_a_while_and_never_past_its_expiry(
    db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    _key, token = service.create_api_key(db, "svc", ["decide"], actor="test")
    db.commit()
    current = limits.generation(db, keys.REVOKED)
    monkeypatch.setattr(keys, "RECENT_SECONDS", -1.0)  # remembered for no time at all
    service.principal_for_api_key(db, token)
    assert keys.known_principal(token, current) is None
    monkeypatch.setattr(keys, "RECENT_SECONDS", 600.0)
    _key, expired = service.create_api_key(
        db, "svc", ["decide"], actor="test", expires_at=utcnow() + timedelta(seconds=1)
    )
    db.commit()
    service.principal_for_api_key(db, expired)
    keys._recent[expired] = (0.0, *keys._recent[expired][1:])  # its expiry reached (as time passes)
    assert keys.known_principal(expired, current) is None


def test_revoked_over_http_the_next_request_is_refused(
    client: TestClient, make_key: Callable[..., str], db: Session
) -> None:
    admin = {"Authorization": f"Bearer {make_key('users:admin')}"}
    victim = make_key("decide", "consent:read")
    victim_headers = {"Authorization": f"Bearer {victim}"}
    for _ in range(2):  # the second answer comes from memory
        assert client.get("/api/v1/consent/subjects/" + "0" * 26, headers=victim_headers).status_code == 404
    assert keys.is_known(victim)
    prefix = keys.TOKEN.match(victim).group(1)
    assert client.delete(f"/api/v1/auth/apikeys/{prefix}", headers=admin).status_code == 204
    assert client.get("/api/v1/consent/subjects/" + "0" * 26, headers=victim_headers).status_code == 401
    assert (
        client.post(
            "/api/v1/decisions", headers=victim_headers, json={"subject_id": "0" * 26, "purpose": "analytics.usage"}
        ).status_code
        == 401
    )
    assert limits.generation(db, keys.REVOKED) >= 1


def test_revoked_in_the_store_by_someone_else_the_next_request_is_refused(
    client: TestClient, make_key: Callable[..., str], db: Session
) -> None:
    token = make_key("decide", "consent:read")
    headers = {"Authorization": f"Bearer {token}"}
    for _ in range(2):
        assert client.get("/api/v1/consent/subjects/" + "0" * 26, headers=headers).status_code == 404
    key = keys.find_api_key(db, keys.TOKEN.match(token).group(1))
    db.execute(update(ApiKey).where(ApiKey.id == key.id).values(revoked_at=utcnow()))
    limits.bump(db, keys.REVOKED)  # as `revoke_api_key` in another process does, in the same transaction
    db.commit()
    assert keys.is_known(token)  # this process was not told
    assert client.get("/api/v1/consent/subjects/" + "0" * 26, headers=headers).status_code == 401
