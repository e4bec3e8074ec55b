"""A revoked API key stops working in every process: remembered keys are trusted only under a fresh generation."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from privet.auth import keys, service
from privet.auth.models import ApiKey
from privet.db import limits
from privet.db.engine import make_engine, make_sessionmaker, session_scope
from privet.db.models import metadata
from privet.kit.clock import utcnow
from privet.settings import Settings


@pytest.fixture(autouse=True)
def fresh_state(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with no remembered keys and no generation known (as a new process would)."""
    monkeypatch.setattr(keys, "_generation", keys._Generation())
    keys.forget_recent()


def _revoke_elsewhere(factory, key_id: str) -> None:  # noqa: ANN001
    """What another process's revocation leaves in the store (this process's memory is not told)."""
    with session_scope(factory) as session:
        session.execute(update(ApiKey).where(ApiKey.id == key_id).values(revoked_at=utcnow()))
        limits.bump(session, keys.REVOKED)


def test_a_remembered_key_is_not_trusted_once_the_generation_is_stale(db: Session, session_factory,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    key, token = service.create_api_key(db, "svc", ["decide"], actor="test")
    db.commit()
    monkeypatch.setattr(keys, "FRESH_SECONDS", 60.0)  # however slow this machine is
    assert service.principal_for_api_key(db, token).id == key.id
    assert keys.recent_principal(token).id == key.id  # checked just now: no store round trip
    _revoke_elsewhere(session_factory, key.id)
    assert keys.recent_principal(token).id == key.id  # not re-read yet: memory is trusted while fresh
    # Nothing re-read the generation here (a test's single connection gets no watcher thread): the memory is
    # trusted only until FRESH_SECONDS after the last confirmation, then the caller must ask the store.
    monkeypatch.setattr(keys, "FRESH_SECONDS", 0.05)
    time.sleep(0.06)
    assert keys.recent_principal(token) is None
    with session_factory() as fresh:  # (db keeps its loaded copy of the key)
        assert service.principal_for_api_key(fresh, token) is None  # the store says revoked
    assert keys.recent_principal(token) is None


def test_a_new_generation_drops_what_was_checked_under_the_old_one(db: Session,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keys, "FRESH_SECONDS", 60.0)  # however slow this machine is
    _key, token = service.create_api_key(db, "svc", ["decide"], actor="test")
    db.commit()
    service.principal_for_api_key(db, token)
    assert keys.recent_principal(token) is not None
    known = keys._generation.value
    keys._generation.confirm(known + 1, time.monotonic())  # a read that saw someone's revocation
    assert keys.recent_principal(token) is None
    keys._generation.confirm(known, time.monotonic() - 10)  # an older read arriving late changes nothing
    assert keys._generation.value == known + 1


def test_the_watcher_thread_sees_another_process_revoke_within_the_settle_time(tmp_path, settings: Settings) -> None:  # noqa: ANN001
    engine = make_engine(f"sqlite:///{tmp_path / 'keys.db'}")
    metadata.create_all(engine)
    factory = make_sessionmaker(engine, settings)
    try:
        with session_scope(factory) as session:
            key, token = service.create_api_key(session, "svc", ["decide"], actor="test")
        with factory() as session:
            assert service.principal_for_api_key(session, token) is not None  # an engine: the watcher starts
        assert keys._generation.thread is not None and keys._generation.thread.is_alive()
        confirmed = keys._generation.confirmed
        deadline = time.monotonic() + 30
        while keys._generation.confirmed == confirmed and time.monotonic() < deadline:
            time.sleep(keys.REFRESH_SECONDS)
        assert keys._generation.confirmed > confirmed  # kept fresh in the background, no request needed
        _revoke_elsewhere(factory, key.id)
        keys.settle_revocation()
        assert keys.recent_principal(token) is None
    finally:
        keys._generation.engine = None  # the thread goes idle; the engine can go
        engine.dispose()


def test_revoking_over_http_answers_once_every_process_has_dropped_the_key(client: TestClient, make_key,
                                                                            db: Session) -> None:  # noqa: ANN001
    admin = {"Authorization": f"Bearer {make_key('users:admin')}"}
    victim = make_key("decide", "consent:read")
    victim_headers = {"Authorization": f"Bearer {victim}"}
    assert client.get("/api/v1/consent/subjects/" + "0" * 26, headers=victim_headers).status_code == 404
    prefix = keys.TOKEN.match(victim).group(1)
    started = time.monotonic()
    assert client.delete(f"/api/v1/auth/apikeys/{prefix}", headers=admin).status_code == 204
    assert time.monotonic() - started >= keys.SETTLE_SECONDS
    assert client.get("/api/v1/consent/subjects/" + "0" * 26, headers=victim_headers).status_code == 401
    assert limits.generation(db, keys.REVOKED) >= 1
