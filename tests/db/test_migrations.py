"""Migrations build the whole schema from empty, match the models, and a stale store is refused clearly."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from privet.db import migrate
from privet.db.engine import make_engine
from privet.kit.errors import Unavailable
from privet.tables import metadata


@pytest.fixture
def empty_engine(cli_store: str):
    engine = make_engine(cli_store)
    yield engine
    engine.dispose()


def test_upgrade_from_empty_reaches_head_and_matches_models(empty_engine) -> None:
    assert migrate.current_revision(empty_engine) is None
    migrate.upgrade(empty_engine)
    assert migrate.current_revision(empty_engine) == migrate.head_revision()
    with empty_engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    assert diff == [], f"models and migrations differ; generate a migration: {diff}"


def test_head_constant_matches_migrations_folder() -> None:
    assert migrate.scripted_head() == migrate.HEAD_REVISION, "update HEAD_REVISION in privet/db/migrate.py"


def test_upgrade_twice_is_harmless(empty_engine) -> None:
    migrate.upgrade(empty_engine)
    migrate.upgrade(empty_engine)
    assert migrate.current_revision(empty_engine) == migrate.head_revision()


def test_store_without_migrations_is_refused_with_the_fix(empty_engine) -> None:
    with pytest.raises(Unavailable, match="privet db upgrade"):
        migrate.require_current(empty_engine)


def test_cli_on_unmigrated_store_exits_2_with_hint(cli_store: str) -> None:
    from tests.conftest import PrivetCli

    result = PrivetCli()("audit", "verify")
    assert result.exit_code == 2
    assert "privet db upgrade" in result.output
    assert "Traceback" not in result.output


def test_unreachable_store_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    from privet.settings import get_settings
    from tests.conftest import PrivetCli

    monkeypatch.setenv("PRIVET_DATABASE_URL", "postgresql+psycopg://nobody:secretpw@127.0.0.1:1/none")
    monkeypatch.setenv("PRIVET_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        result = PrivetCli()("db", "upgrade")
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2
    assert "Cannot connect" in result.output and "secretpw" not in result.output
