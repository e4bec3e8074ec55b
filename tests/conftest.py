"""Shared fixtures: every store-backed test runs on SQLite and on a real PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from privet.db.engine import make_engine
from privet.settings import Settings
from tests.support.services import create_pg_database

STORES = ["sqlite", "postgresql"]

# No timing in tests: Hypothesis' per-example deadline (200 ms) and its too-slow check would fail a correct test on a
# busy machine (the suite runs on every core), so neither applies.
hypothesis_settings.register_profile("privet", deadline=None, suppress_health_check=[HealthCheck.too_slow])
hypothesis_settings.load_profile("privet")


def sa_url(url: str):
    from sqlalchemy.engine import make_url

    return make_url(url)


def _new_store_url(kind: str, tmp: Path) -> tuple[str, callable]:
    if kind == "sqlite":
        return f"sqlite:///{tmp / 'privet.db'}", lambda: None
    return create_pg_database()


@pytest.fixture(scope="session", params=STORES)
def engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """A store with Privet's schema, one per backend for the whole run."""
    from privet.tables import metadata

    url, drop = _new_store_url(request.param, tmp_path_factory.mktemp("store"))
    eng = make_engine(url)
    metadata.create_all(eng)
    yield eng
    eng.dispose()
    drop()


@pytest.fixture
def connection(engine: Engine) -> Iterator:
    """A connection inside a transaction rolled back after the test."""
    conn = engine.connect()
    outer = conn.begin()
    yield conn
    outer.rollback()
    conn.close()


@pytest.fixture
def session_factory(connection, settings: Settings) -> sessionmaker[Session]:
    """Sessions whose commits become savepoints of the per-test transaction (keys: the `settings` fixture's)."""
    from privet.db.engine import SETTINGS_INFO

    return sessionmaker(
        bind=connection,
        join_transaction_mode="create_savepoint",
        expire_on_commit=False,
        info={SETTINGS_INFO: settings},
    )


@pytest.fixture
def db(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session for service tests; everything it does is rolled back."""
    with session_factory() as session:
        yield session


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings isolated in a temporary folder; senders chosen explicitly (the default is none): e-mail through
    SMTP (tests point smtp_port at their local server), SMS printed."""
    return Settings(
        data_dir=tmp_path / "var",
        secret_key="test-secret-key-0123456789abcdef",
        mail_sender="smtp",
        sms_sender="console",
    )


@pytest.fixture
def app(settings: Settings, engine: Engine, session_factory: sessionmaker[Session]):
    """The application bound to the per-test transaction."""
    from privet.app import create_app

    application = create_app(settings, engine=engine, check_migrations=False)
    application.state.test_sessionmaker = session_factory
    return application


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    """An HTTP client for the app (no credentials)."""
    with TestClient(app) as test_client:
        app.state.sessionmaker = app.state.test_sessionmaker
        yield test_client


@pytest.fixture(scope="session")
def pg_migrated_template() -> Iterator[str]:
    """A PostgreSQL database migrated to head once per run: CLI tests on a migrated store copy it (a copy takes a
    fraction of the time the migrations take)."""
    from privet.db import migrate

    url, drop = create_pg_database()
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()  # a template must have no connections when it is copied
    yield sa_url(url).database
    drop()


@pytest.fixture(scope="session")
def sqlite_migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite store migrated to head once per run, copied for CLI tests on a migrated store."""
    from privet.db import migrate

    path = tmp_path_factory.mktemp("template") / "privet.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(params=STORES)
def cli_store(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh store (SQLite file or PostgreSQL database) wired into PRIVET_* for CLI tests: empty, or already
    migrated (a copy of the migrated template) for tests using the `privet` fixture, which would migrate it."""
    from privet.settings import get_settings

    if request.param == "postgresql" and "privet" in request.fixturenames:
        url, drop = create_pg_database(template=request.getfixturevalue("pg_migrated_template"))
    elif "privet" in request.fixturenames:
        import shutil

        shutil.copyfile(request.getfixturevalue("sqlite_migrated_template"), tmp_path / "privet.db")
        url, drop = f"sqlite:///{tmp_path / 'privet.db'}", (lambda: None)
    else:
        url, drop = _new_store_url(request.param, tmp_path)
    monkeypatch.setenv("PRIVET_DATABASE_URL", url)
    monkeypatch.setenv("PRIVET_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("PRIVET_SECRET_KEY", "test-secret-key-0123456789abcdef")
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()
    drop()


class PrivetCli:
    """Runs `privet ...` in-process and returns (exit code, stdout, stderr)."""

    def __init__(self) -> None:
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None):
        result = self.runner.invoke(_entry, list(args), input=input, catch_exceptions=False)
        return result


@click.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.pass_context
def _entry(ctx: click.Context) -> None:
    """Runs the real entry point so exit codes and error printing match `privet` itself."""
    import sys

    from privet import cli as cli_module

    sys.argv = ["privet", *ctx.args]
    cli_module.main()


@pytest.fixture
def privet(cli_store: str) -> PrivetCli:
    """`privet(...)` on a fresh, migrated store."""
    run = PrivetCli()
    result = run("db", "upgrade")
    assert result.exit_code == 0, result.output
    return run
