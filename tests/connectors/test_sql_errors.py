"""Connector selection, unreachable datastores, and the bounded, shared connection pool."""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from privet.connectors.base import ConnectorError, DatastorePlan
from privet.connectors.registry import connector_class, open_connector
from privet.connectors.sql import engines
from privet.connectors.sql.connector import PostgresConnector, SqliteConnector
from privet.settings import Settings
from tests.connectors.shop import ALICE

DOWN = {
    "sqlite": "sqlite:///{tmp}/missing/shop.sqlite",
    "postgresql": "postgresql+psycopg://postgres:pw-secret@127.0.0.1:1/shop",
    "mysql": "mysql+pymysql://root:pw-secret@127.0.0.1:1/shop",
}


def test_kinds_are_registered_lazily() -> None:
    assert connector_class("sqlite") is SqliteConnector and connector_class("postgresql") is PostgresConnector
    with pytest.raises(ConnectorError, match="No connector for datastore kind `tape`"):
        connector_class("tape")


def test_a_missing_secret_is_a_connector_error(shop_plan: DatastorePlan, settings: Settings) -> None:
    plan = dataclasses.replace(shop_plan, secret="not_configured")
    with pytest.raises(ConnectorError, match=r"`shop_db`.*`not_configured` is not configured"):
        open_connector(plan, settings)


@pytest.mark.parametrize("kind", sorted(DOWN))
def test_a_datastore_that_is_down_is_a_connector_error(
    kind: str, shop_plan: DatastorePlan, settings: Settings, tmp_path: Path
) -> None:
    url = DOWN[kind].format(tmp=tmp_path)
    plan = dataclasses.replace(shop_plan, kind=kind)
    settings = settings.model_copy(update={"secrets": {"down": url}})
    for call in (lambda c: c.test_connection(), lambda c: c.fetch({"email": [ALICE["email"]]})):
        with open_connector(plan, settings, secret="down") as connector, pytest.raises(ConnectorError) as info:
            call(connector)
        message = str(info.value)
        assert (
            message.startswith("Datastore `shop_db`")
            and "pw-secret" not in message
            and "127.0.0.1" not in message
            and ALICE["email"] not in message
        )
    assert not (tmp_path / "missing").exists()  # no empty SQLite database was created
    engines.dispose_all()


def test_an_unusable_url_is_a_connector_error(shop_plan: DatastorePlan, settings: Settings) -> None:
    settings = settings.model_copy(update={"secrets": {"bad": "nosuchdb://x"}})
    with open_connector(shop_plan, settings, secret="bad") as connector, pytest.raises(ConnectorError):
        connector.test_connection()


def test_engines_are_shared_and_the_pool_is_bounded(shop_db, shop_plan) -> None:
    url, settings = shop_db
    with open_connector(shop_plan, settings) as a, open_connector(shop_plan, settings) as b:
        a.test_connection()
        b.test_connection()
    engine = engines.engine_for(url)
    assert engine is engines.engine_for(url)
    assert engine.pool.size() == engines.POOL_SIZE

    def access(_: int) -> int:
        with open_connector(shop_plan, settings) as connector:
            return connector.fetch({"email": [ALICE["email"]]}).counts["orders"]["found"]

    with ThreadPoolExecutor(max_workers=30) as pool:  # more requests in flight than connections
        assert set(pool.map(access, range(60))) == {2}
    assert engine.pool.checkedout() == 0
    if url.startswith("postgresql"):
        database = sa.engine.make_url(url).database
        probe = sa.create_engine(url)
        with probe.connect() as conn:
            held = conn.execute(
                sa.text("SELECT count(*) FROM pg_stat_activity WHERE datname = :d"), {"d": database}
            ).scalar_one()
        probe.dispose()
        assert held <= engines.POOL_SIZE + engines.MAX_OVERFLOW + 1  # + the probe itself


@pytest.mark.parametrize("ddl", ["ALTER TABLE customers DROP COLUMN phone", "DROP TABLE sims"])
def test_a_schema_changed_since_the_map_was_applied_changes_nothing(shop_db, shop_plan, ddl: str) -> None:
    """A column or table the data map declares is gone: every request on the datastore fails with one clear error
    naming it, before anything is read or changed, and no retry can make it pass."""
    from privet.connectors.sql.schema import SchemaMismatch, forget

    url, settings = shop_db
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
        if ddl.startswith("DROP TABLE") and conn.dialect.name != "sqlite":  # devices.primary_sim_id refers to it
            conn.exec_driver_sql(
                "ALTER TABLE devices DROP "
                + ("CONSTRAINT" if conn.dialect.name == "postgresql" else "FOREIGN KEY")
                + " fk_device_sim"
            )
        conn.exec_driver_sql(ddl)
    engine.dispose()
    forget()
    before = dict(_snapshot_all(url).items())
    named = "customers.phone" if "phone" in ddl else "table `sims`"
    with open_connector(shop_plan, settings) as connector:
        for call in (
            lambda: connector.erase({"email": [ALICE["email"]]}, retain_from=date(2025, 1, 1)),
            lambda: connector.fetch({"email": [ALICE["email"]]}),
            lambda: connector.rectify({"email": [ALICE["email"]]}, {"user.name": "New Name"}),
        ):
            with pytest.raises(SchemaMismatch) as info:
                call()
            assert named in str(info.value) and getattr(info.value, "permanent", False)
    assert _snapshot_all(url) == before


def _snapshot_all(url: str) -> dict[str, list[tuple]]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            md = sa.MetaData()
            md.reflect(conn, resolve_fks=False)
            return {
                name: sorted((tuple(r) for r in conn.execute(sa.select(t))), key=repr) for name, t in md.tables.items()
            }
    finally:
        engine.dispose()
