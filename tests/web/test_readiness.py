"""/readyz: 200 only when the store answers, migrations are current, the decision cache is current and a sender can
deliver codes; otherwise 503 naming what is not ready. /healthz stays a liveness check throughout."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from privet.db.engine import make_engine
from privet.kit.outage import store_down
from privet.settings import Settings
from privet.web import readiness


@pytest.fixture
def store(sqlite_migrated_template: Path, tmp_path: Path) -> Iterator:
    path = tmp_path / "privet.db"
    shutil.copy(sqlite_migrated_template, path)
    engine = make_engine(f"sqlite:///{path}")
    yield engine
    engine.dispose()


def _client(settings: Settings, engine, **changes: object) -> TestClient:
    from privet.app import create_app

    return TestClient(create_app(settings.model_copy(update=changes), engine=engine, check_migrations=False))


def _readyz(client: TestClient) -> tuple[int, dict]:
    client.app.state.readiness = None  # past the half-second cache
    answer = client.get("/readyz")
    return answer.status_code, answer.json()


def test_ready_when_everything_is(settings: Settings, store) -> None:
    with _client(settings, store) as client:
        status, body = _readyz(client)
        assert status == 200, body
        assert body["status"] == "ready"
        assert {k: body["checks"][k] for k in ("store", "migrations", "decisions", "codes")} == dict.fromkeys(
            ("store", "migrations", "decisions", "codes"), "ok"
        )
        assert body["checks"]["senders"] == {"email": "smtp", "sms": "console"}


def test_no_sender_means_not_ready(settings: Settings, store) -> None:
    with _client(settings, store, mail_sender="none", sms_sender="none") as client:
        status, body = _readyz(client)
        assert status == 503 and body["status"] == 503 and body["detail"] == "Not ready: codes", body
        assert "PRIVET_MAIL_SENDER" in body["checks"]["codes"] and "none" in body["checks"]["senders"]["sms"]
        assert client.get("/healthz").status_code == 200  # alive all the same
    with _client(settings, store, mail_sender="none", sms_sender="console") as client:
        assert _readyz(client)[0] == 200  # one channel that can deliver is enough


def test_migrations_behind_means_not_ready(settings: Settings, store) -> None:
    with store.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    with _client(settings, store) as client:
        status, body = _readyz(client)
        assert (
            status == 503
            and "0001" in body["checks"]["migrations"]
            and "privet db upgrade" in body["checks"]["migrations"]
        ), body


def test_decision_cache_not_current_means_not_ready(settings: Settings, store, monkeypatch: pytest.MonkeyPatch) -> None:
    with _client(settings, store) as client:
        assert _readyz(client)[0] == 200  # loads the decision cache
        assert client.app.state.decider is not None

        def away() -> tuple:
            raise store_down()

        monkeypatch.setattr(client.app.state, "decision_watch", away)
        status, body = _readyz(client)
        assert status == 503 and body["checks"]["decisions"].startswith("not current"), body


def test_answers_are_cached_briefly(settings: Settings, store, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real = readiness.readiness
    monkeypatch.setattr(readiness, "readiness", lambda app: calls.append(1) or real(app))
    with _client(settings, store) as client:
        for _ in range(5):
            assert client.get("/readyz").status_code == 200
        assert len(calls) == 1  # probes in a burst cost the store one check
        time.sleep(readiness.CACHE_SECONDS + 0.05)
        assert client.get("/readyz").status_code == 200 and len(calls) == 2
