"""Fixtures for the job tests: settings, a store shared with worker subprocesses, the recorded calls."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from privet.db.engine import make_engine, make_sessionmaker
from privet.jobs import dispatch
from privet.settings import Settings
from tests.jobs import handlers
from tests.support.services import create_pg_database

SECRET = "test-secret-key-0123456789abcdef"


@pytest.fixture(autouse=True)
def _fresh_calls() -> Iterator[None]:
    handlers.CALLS.clear()
    yield
    handlers.CALLS.clear()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings with short retries (the lease cannot be shorter than 5 s)."""
    return Settings(
        data_dir=tmp_path / "var", secret_key=SECRET, jobs_retry_seconds=2, jobs_max_attempts=3, jobs_lease_seconds=5
    )


@pytest.fixture
def db(session_factory: sessionmaker[Session], settings: Settings) -> Iterator[Session]:
    """The rolled-back session, with jobs following the test's settings."""
    with session_factory() as session:
        session.info[dispatch.SETTINGS_KEY] = settings
        yield session


@dataclass
class SharedStore:
    """A committed store a test shares with threads or subprocesses."""

    url: str
    engine: Engine
    sessionmaker: sessionmaker[Session]

    def env(self, settings: Settings, **extra: str) -> dict[str, str]:
        """PRIVET_* variables pointing a subprocess at this store with the test's job settings."""
        return {
            "PRIVET_DATABASE_URL": self.url,
            "PRIVET_SECRET_KEY": SECRET,
            "PRIVET_DATA_DIR": str(settings.data_dir),
            "PRIVET_JOBS_LEASE_SECONDS": str(settings.jobs_lease_seconds),
            "PRIVET_JOBS_RETRY_SECONDS": str(settings.jobs_retry_seconds),
            "PRIVET_JOBS_MAX_ATTEMPTS": str(settings.jobs_max_attempts),
            **extra,
        }


def create_tables(engine: Engine) -> None:
    """Privet's tables, by its migrations (as `privet db upgrade` makes them)."""
    from privet.db.migrate import upgrade

    upgrade(engine)


def make_shared_store(kind: str, tmp_path: Path) -> tuple[SharedStore, callable]:
    """A fresh SQLite file or PostgreSQL database with Privet's tables, marked as migrated, plus a drop function."""
    if kind == "sqlite":
        url, drop = f"sqlite:///{tmp_path / 'shared.db'}", (lambda: None)
    else:
        url, drop = create_pg_database()
    engine = make_engine(url)
    create_tables(engine)
    handlers.create_progress_table(engine)
    store = SharedStore(url, engine, make_sessionmaker(engine))

    def cleanup() -> None:
        engine.dispose()
        drop()

    return store, cleanup


@pytest.fixture(scope="session")
def _shared_stores(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """One committed store per backend for the whole run (a new PostgreSQL database costs seconds)."""
    made: dict[str, tuple[SharedStore, callable]] = {}
    yield made
    for _store, cleanup in made.values():
        cleanup()


@pytest.fixture(params=["sqlite", "postgresql"])
def shared_store(
    request: pytest.FixtureRequest, _shared_stores: dict, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SharedStore]:
    """A committed store on SQLite (a file) and on PostgreSQL (a database), emptied of jobs for each test."""
    if request.param not in _shared_stores:
        _shared_stores[request.param] = make_shared_store(request.param, tmp_path_factory.mktemp("shared"))
    store = _shared_stores[request.param][0]
    yield store
    store.engine.dispose()  # connections a killed worker's test left behind
    with store.engine.begin() as conn:
        conn.execute(text("DELETE FROM jobs"))
        conn.execute(text(f"DELETE FROM {handlers.PROGRESS}"))
