"""Password guessing: per-account waits and locks across both login routes, audited, ended by an admin."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from privet.audit.models import AuditEvent
from privet.auth import logins, service
from privet.auth.deps import SESSION_COOKIE
from privet.kit.crypto import Keyring
from privet.settings import Settings

API = "/api/v1"
HTML = {"Accept": "text/html"}


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(logins, "utcnow", clock)
    return clock


@pytest.fixture
def ring(settings: Settings) -> Keyring:
    return Keyring.from_settings(settings)


@pytest.fixture
def policy(settings: Settings) -> Settings:
    settings.login_free_failures, settings.login_delay_seconds = 2, 1.0
    settings.login_lock_failures, settings.login_lock_minutes = 5, 15
    return settings


def _attempt(db: Session, ring: Keyring, settings: Settings, username: str, password: str, route: str = "api"):
    try:
        return logins.log_in(db, ring, settings, username, password, route=route, client="198.51.100.7")
    except (logins.LoginFailed, logins.LoginRefused) as exc:
        return exc


def test_failures_make_the_account_wait_longer_then_lock_it(
    db: Session, ring: Keyring, policy: Settings, clock: Clock, make_user
) -> None:
    user, password = make_user("agent")
    attempt = lambda secret: _attempt(db, ring, policy, user.username, secret)  # noqa: E731
    assert isinstance(attempt("wrong-1"), logins.LoginFailed)
    assert isinstance(attempt("wrong-2"), logins.LoginFailed)  # the free failures cost nothing
    assert isinstance(attempt("wrong-3"), logins.LoginFailed)
    refused = attempt(password)  # inside the wait: refused without looking at the password
    assert isinstance(refused, logins.LoginRefused) and not refused.locked and refused.retry_after == 1
    assert refused.status == 429 and refused.headers == {"Retry-After": "1"}
    clock.advance(seconds=1)
    assert isinstance(attempt("wrong-4"), logins.LoginFailed)
    assert attempt(password).retry_after == 2  # the wait doubles
    clock.advance(seconds=2)
    assert isinstance(attempt("wrong-5"), logins.LoginFailed)
    locked = attempt(password)
    assert isinstance(locked, logins.LoginRefused) and locked.locked and locked.retry_after == 15 * 60
    assert "locked" in locked.detail and "unlock" in locked.hint
    clock.advance(minutes=15)
    assert isinstance(attempt("wrong-6"), logins.LoginFailed)  # a failure right after the lock locks again
    assert attempt(password).locked
    clock.advance(minutes=15)
    assert attempt(password).id == user.id  # a success ends the run
    assert isinstance(attempt("wrong-7"), logins.LoginFailed)
    assert isinstance(attempt(password), service.User)


def test_a_run_of_failures_is_forgotten_after_a_quiet_time(
    db: Session, ring: Keyring, policy: Settings, clock: Clock, make_user
) -> None:
    user, password = make_user("agent")
    for n in range(3):
        clock.advance(seconds=5)
        assert isinstance(_attempt(db, ring, policy, user.username, f"wrong-{n}"), logins.LoginFailed)
    clock.advance(minutes=policy.login_failure_reset_minutes)
    assert isinstance(_attempt(db, ring, policy, user.username, "wrong-again"), logins.LoginFailed)
    assert isinstance(_attempt(db, ring, policy, user.username, password), service.User)  # counted from 1 again


def test_unknown_usernames_wait_and_lock_alike(
    db: Session, ring: Keyring, policy: Settings, clock: Clock, make_user
) -> None:
    user, _password = make_user("agent")
    answers = {}
    for name in (user.username, "nobody-here"):
        answers[name] = [type(_attempt(db, ring, policy, name, "wrong")).__name__ for _ in range(4)]
    assert answers[user.username] == answers["nobody-here"] == ["LoginFailed"] * 3 + ["LoginRefused"]


def test_every_failed_and_refused_login_is_audited_without_secrets(
    db: Session, ring: Keyring, policy: Settings, clock: Clock, make_user
) -> None:
    user, _password = make_user("agent")
    typed_password, typed_name = "Secret-typed-1234", "li.wei@example.com"  # an e-mail in the username box
    for _ in range(3):
        _attempt(db, ring, policy, user.username, typed_password)
    _attempt(db, ring, policy, user.username, typed_password, route="console")  # refused: inside the wait
    _attempt(db, ring, policy, typed_name, typed_password)
    events = list(
        db.scalars(
            select(AuditEvent).where(AuditEvent.action.in_(["login.failed", "login.refused"])).order_by(AuditEvent.seq)
        )
    )
    assert [e.action for e in events] == ["login.failed"] * 3 + ["login.refused", "login.failed"]
    assert all(e.object_type == "user" and e.object_id == user.id for e in events[:4])
    assert events[3].details["reason"] == "waiting" and events[3].details["route"] == "console"
    assert events[2].details["failures"] == 3 and events[2].details["wait_seconds"] == 1
    assert events[0].details["reason"] == "wrong_password" and events[0].actor == "public:login"
    unknown = events[4]
    assert unknown.object_type == "login_name" and unknown.details["reason"] == "unknown_user"
    assert unknown.object_id == logins.account_key(ring, typed_name)[:32]
    written = " ".join(f"{e.object_id} {e.details}" for e in events)
    for secret in (typed_password, typed_name, user.username, "198.51.100.7"):
        assert secret not in written
    assert events[0].details["client"] == ring.fingerprint("198.51.100.7")[:16]


def test_concurrent_guesses_are_counted_one_by_one(any_store_engine, settings: Settings) -> None:
    """Guesses racing in separate transactions (as in several processes) cannot all slip past the lock."""
    from privet.db.engine import make_sessionmaker, session_scope

    settings.login_free_failures, settings.login_lock_failures = 10, 3
    ring = Keyring.from_settings(settings)
    factory = make_sessionmaker(any_store_engine, settings)
    with session_scope(factory) as session:
        _user, _ = service.create_user(session, "racer", "agent", password="Racing-password-123", actor="test")
    outcomes: list[str] = []

    def guess() -> None:
        from privet.db.engine import begin_write

        with factory() as session:
            begin_write(session)
            outcome = _attempt(session, ring, settings, "racer", "wrong-guess")
            session.commit()
        outcomes.append(type(outcome).__name__)

    threads = [threading.Thread(target=guess) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(outcomes) == ["LoginFailed"] * 3 + ["LoginRefused"] * 5


@pytest.fixture(params=["sqlite", "postgresql"])
def any_store_engine(request: pytest.FixtureRequest, tmp_path):
    """A store of its own (its rows are committed by several threads)."""
    from privet.db.engine import make_engine
    from privet.tables import metadata
    from tests.support.services import create_pg_database

    url, drop = (
        (f"sqlite:///{tmp_path / 'own.db'}", lambda: None) if request.param == "sqlite" else create_pg_database()
    )
    engine = make_engine(url)
    metadata.create_all(engine)
    yield engine
    engine.dispose()
    drop()


# ---- over HTTP ------------------------------------------------------------------------------------------------
def _api_login(client: TestClient, username: str, password: str):
    return client.post(f"{API}/auth/login", json={"username": username, "password": password})


def _console_login(client: TestClient, username: str, password: str):
    from tests.web.admin.conftest import form_token

    return client.post(
        "/admin/login",
        headers=HTML,
        follow_redirects=False,
        data={"username": username, "password": password, "csrf_token": form_token(client), "next": "/admin"},
    )


def test_the_api_and_the_console_share_one_count_per_account(client: TestClient, settings: Settings, make_user) -> None:
    settings.login_free_failures, settings.login_delay_seconds = 2, 60.0
    user, password = make_user("agent")
    assert _api_login(client, user.username, "wrong").status_code == 401
    assert _console_login(client, user.username, "wrong").status_code == 401
    assert _api_login(client, user.username, "wrong").status_code == 401  # the third: now each waits 60 s
    by_console = _console_login(client, user.username, password)
    assert by_console.status_code == 429 and by_console.headers["retry-after"] in ("59", "60")
    assert "Wait 60 seconds" in by_console.text or "Wait 59 seconds" in by_console.text
    assert SESSION_COOKIE not in by_console.cookies
    by_api = _api_login(client, user.username, password)
    assert by_api.status_code == 429 and by_api.headers["content-type"].startswith("application/problem+json")
    assert "wait" in by_api.json()["detail"] and int(by_api.headers["retry-after"]) <= 60


def test_the_console_says_an_account_is_locked_in_chinese(client: TestClient, settings: Settings, make_user) -> None:
    settings.login_free_failures, settings.login_lock_failures = 1, 1
    user, password = make_user("agent")
    assert _api_login(client, user.username, "wrong").status_code == 401
    client.get("/admin/login?lang=zh_CN", headers=HTML)
    locked = _console_login(client, user.username, password)
    assert locked.status_code == 429 and "该账户因多次登录失败已被锁定" in locked.text and "15 分钟" in locked.text


def test_an_admin_unlocks_through_the_api(
    client: TestClient, settings: Settings, make_user, make_key, db: Session
) -> None:
    settings.login_delay_seconds, settings.login_lock_failures = 0, 2
    user, password = make_user("agent")
    for _ in range(2):
        assert _api_login(client, user.username, "wrong").status_code == 401
    assert _api_login(client, user.username, password).status_code == 429
    auditor = {"Authorization": f"Bearer {make_key('audit:read')}"}
    assert client.post(f"{API}/auth/users/{user.id}/unlock", headers=auditor).status_code == 403
    admin = {"Authorization": f"Bearer {make_key('users:admin')}"}
    unlocked = client.post(f"{API}/auth/users/{user.username}/unlock", headers=admin)
    assert unlocked.status_code == 200, unlocked.text
    assert unlocked.json()["failures"] == 2 and unlocked.json()["was_locked"] is True
    assert _api_login(client, user.username, password).status_code == 200
    again = client.post(f"{API}/auth/users/{user.id}/unlock", headers=admin).json()
    assert again["failures"] == 0 and again["was_locked"] is False
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "user.unlocked")).one()
    assert event.object_id == user.id and event.actor.startswith("apikey:") and event.details["was_locked"] is True


def test_privet_users_unlock(privet, cli_store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from privet.db.store import store_session
    from privet.settings import get_settings

    monkeypatch.setenv("PRIVET_LOGIN_LOCK_FAILURES", "1")
    get_settings.cache_clear()
    settings = get_settings()
    ring = Keyring.from_settings(settings)
    with store_session(settings) as session:
        _user, _ = service.create_user(session, "locked.out", "agent", password="Locked-out-password-1", actor="test")
    with store_session(settings) as session:
        assert isinstance(_attempt(session, ring, settings, "locked.out", "wrong"), logins.LoginFailed)
    with store_session(settings) as session:
        assert _attempt(session, ring, settings, "locked.out", "Locked-out-password-1").locked
    result = privet("users", "unlock", "locked.out")
    assert result.exit_code == 0, result.output
    assert "locked.out unlocked (was locked after 1 failed logins in a row)" in result.output
    with store_session(settings) as session:
        assert _attempt(session, ring, settings, "locked.out", "Locked-out-password-1").username == "locked.out"
    assert "nothing to unlock" in privet("users", "unlock", "locked.out").output
    missing = privet("users", "unlock", "nobody")
    assert missing.exit_code == 2 and "No user 'nobody'" in missing.output
