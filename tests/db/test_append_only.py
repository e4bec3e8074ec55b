"""The database itself refuses UPDATE and DELETE on the audit events and the consent ledger.

SQLite and PostgreSQL stores get the triggers from migration 0008 (a migrated store is copied from the run's
template); MariaDB is not a store Privet runs on (its migrations stop at 0006), but the triggers are written for
it too and checked on tables made by `create_all`.
"""

from __future__ import annotations

import importlib.util
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from privet.db import append_only, migrate
from privet.db.engine import make_engine
from privet.tables import metadata
from tests.support.services import create_mysql_database, create_pg_database

GUARDED = ("audit_events", "consent_records")
AT = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)


def _migration_0008():
    path = next((migrate.MIGRATIONS / "versions").glob("0008_*.py"))
    spec = importlib.util.spec_from_file_location("migration_0008", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A store with the guarded tables: migrated (SQLite, PostgreSQL) or made by create_all (MariaDB)."""
    if request.param == "sqlite":
        shutil.copyfile(request.getfixturevalue("sqlite_migrated_template"), tmp_path / "privet.db")
        url, drop = f"sqlite:///{tmp_path / 'privet.db'}", (lambda: None)
    elif request.param == "postgresql":
        url, drop = create_pg_database(template=request.getfixturevalue("pg_migrated_template"))
    else:
        url, drop = create_mysql_database()
    engine = make_engine(url)
    if request.param == "mariadb":
        metadata.create_all(engine, tables=[metadata.tables[name] for name in ("subjects", *GUARDED)])
    yield engine
    engine.dispose()
    drop()


ROWS = {
    "audit_events": {
        "seq": 1,
        "at": AT,
        "actor": "system",
        "action": "test.event",
        "object_type": "thing",
        "object_id": "1",
        "details": {},
        "prev_hash": "0" * 64,
        "hash": "1" * 64,
    },
    "consent_records": {
        "id": "r1",
        "visitor_id": "v1",
        "purpose": "analytics",
        "categories": [],
        "legal_basis": "consent",
        "event": "given",
        "at": AT,
        "recorded_at": AT,
        "method": "banner",
        "evidence": {},
        "actor": "visitor",
    },
}
CHANGES = {"audit_events": {"actor": "someone-else"}, "consent_records": {"event": "refused"}}


@pytest.mark.promise("P17", "P24")
@pytest.mark.parametrize("name", GUARDED)
def test_update_and_delete_are_refused_with_a_clear_error(store: Engine, name: str) -> None:
    table = metadata.tables[name]
    with store.begin() as conn:
        conn.execute(table.insert(), [ROWS[name]])  # appending is what the table is for
    for statement, operation in ((table.update().values(CHANGES[name]), "UPDATE"), (table.delete(), "DELETE")):
        with pytest.raises(sa.exc.DBAPIError) as refused, store.begin() as conn:
            conn.execute(statement)
        assert f"{name} is append-only: {operation} refused" in str(refused.value.orig)
    with store.connect() as conn:
        row = conn.execute(sa.select(table)).mappings().one()
    assert all(row[column] == value for column, value in ROWS[name].items() if column not in ("at", "recorded_at"))


def test_truncate_is_refused_on_postgresql(store: Engine) -> None:
    if store.dialect.name != "postgresql":
        pytest.skip(
            "TRUNCATE fires no row trigger: PostgreSQL's statement trigger covers it; SQLite has none and "
            "MariaDB's TRUNCATE needs DROP rights"
        )
    for name in GUARDED:
        with pytest.raises(sa.exc.DBAPIError, match=f"{name} is append-only: TRUNCATE refused"), store.begin() as c:
            c.exec_driver_sql(f"TRUNCATE {name} CASCADE")


def test_every_guarded_table_has_its_triggers(store: Engine) -> None:
    with store.connect() as conn:
        for name in GUARDED:
            assert append_only.installed(conn, name) == set(append_only.trigger_names(store.dialect.name, name))


def test_the_test_stores_made_by_create_all_have_them_too(connection) -> None:
    for name in GUARDED:
        assert append_only.installed(connection, name) == set(append_only.trigger_names(connection.dialect.name, name))


def test_migration_0008_guards_every_table_the_models_mark_append_only() -> None:
    marked = {table.name for table in metadata.tables.values() if table.info.get(append_only.GUARDED_INFO)}
    assert marked == set(GUARDED) == set(_migration_0008().GUARDED), (
        "a table newly marked append-only needs a migration installing its triggers"
    )


def test_downgrade_removes_the_triggers_and_upgrade_puts_them_back(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'privet.db'}")
    try:
        migrate.upgrade(engine)
        from alembic import command

        command.downgrade(migrate.alembic_config(engine), "0007")
        with engine.connect() as conn:
            assert not any(append_only.installed(conn, name) for name in GUARDED)
            assert "keyed_from" not in {c["name"] for c in sa.inspect(conn).get_columns("audit_head")}
        migrate.upgrade(engine)
        with engine.connect() as conn:
            assert all(append_only.installed(conn, name) for name in GUARDED)
    finally:
        engine.dispose()
