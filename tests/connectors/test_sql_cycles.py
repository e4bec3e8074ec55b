"""A cycle of NOT NULL references (erased with checks deferred), and pooled connections the server dropped."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from privet.connectors.base import DatastorePlan, FieldSpec, TableSpec
from privet.connectors.sql import engines, schema
from privet.connectors.sql.connector import SqlConnector
from tests.connectors.conftest import KINDS, new_database


def _metadata(deferrable: bool) -> sa.MetaData:
    md = sa.MetaData()
    fk = {"deferrable": True, "initially": "IMMEDIATE"} if deferrable else {}  # MariaDB has no DEFERRABLE
    sa.Table(
        "wallets",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "card_id",
            sa.Integer,
            sa.ForeignKey("cards.id", use_alter=True, name="fk_wallet_card", **fk),
            nullable=False,
        ),
        sa.Column("label", sa.String(40)),
    )
    sa.Table(
        "cards",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("wallet_id", sa.Integer, sa.ForeignKey("wallets.id", **fk), nullable=False),
        sa.Column("email", sa.String(100), nullable=False),
    )
    return md


def _fill(url: str) -> None:
    engine = sa.create_engine(url)
    md = _metadata(not url.startswith("mysql"))
    with engine.begin() as conn:
        md.create_all(conn)
    with engine.begin() as conn:  # each row needs the other first: insert with checks deferred
        dialect = conn.dialect.name
        conn.exec_driver_sql(
            {"sqlite": "PRAGMA defer_foreign_keys = ON", "postgresql": "SET CONSTRAINTS ALL DEFERRED"}.get(
                dialect, "SET FOREIGN_KEY_CHECKS = 0"
            )
        )
        conn.execute(
            md.tables["wallets"].insert(),
            [{"id": 1, "card_id": 1, "label": "mine"}, {"id": 2, "card_id": 2, "label": "yours"}],
        )
        conn.execute(
            md.tables["cards"].insert(),
            [{"id": 1, "wallet_id": 1, "email": "a@example.com"}, {"id": 2, "wallet_id": 2, "email": "b@example.com"}],
        )
        if dialect not in ("sqlite", "postgresql"):
            conn.exec_driver_sql("SET FOREIGN_KEY_CHECKS = 1")
    engine.dispose()


PLAN = DatastorePlan(
    "wallet_db",
    "sqlite",
    "CN",
    {
        "wallets": TableSpec(
            "w",
            "wallets",
            ("id",),
            (
                FieldSpec("id", action="delete_row"),
                FieldSpec("card_id", action="delete_row"),
                FieldSpec("label", "user.financial", None, "delete_row"),
            ),
        ),
        "cards": TableSpec(
            "w",
            "cards",
            ("id",),
            (
                FieldSpec("id", action="delete_row"),
                FieldSpec("wallet_id", action="delete_row"),
                FieldSpec("email", "user.contact.email", "email", "delete_row"),
            ),
        ),
    },
    (),
    (("cards", "email", "email"),),
)


@pytest.fixture(params=KINDS)
def wallet_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    url, drop = new_database(request.param, tmp_path)
    _fill(url)
    yield url
    engines.dispose_all()
    schema.forget()
    drop()


def _ids(url: str) -> dict[str, list[int]]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        out = {t: sorted(conn.execute(sa.text(f"SELECT id FROM {t}")).scalars()) for t in ("wallets", "cards")}
    engine.dispose()
    return out


def test_a_not_null_cycle_is_erased_with_deferred_checks(wallet_url: str) -> None:
    connector = SqlConnector(PLAN, wallet_url, hash_key=b"test-erasure-hash-key-0123456789")
    found = connector.fetch({"email": ["a@example.com"]})
    assert found.counts == {"wallets": {"found": 1}, "cards": {"found": 1}}
    assert connector.layout().ordering.deferred  # nothing nullable to cut the cycle at
    result = connector.erase({"email": ["a@example.com"]}, retain_from=date(2025, 1, 1))
    assert result.counts["wallets"]["deleted"] == 1 and result.counts["cards"]["deleted"] == 1
    assert _ids(wallet_url) == {"wallets": [2], "cards": [2]}
    again = connector.erase({"email": ["a@example.com"]}, retain_from=date(2025, 1, 1))
    assert all(c["found"] == 0 for c in again.counts.values())
    if wallet_url.startswith("mysql"):  # checks are back on for the pooled connection
        engine = engines.engine_for(wallet_url)
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT @@FOREIGN_KEY_CHECKS").scalar() == 1


def test_a_connection_the_server_dropped_is_replaced(wallet_url: str) -> None:
    if wallet_url.startswith("sqlite"):
        pytest.skip("SQLite has no server to drop connections")
    connector = SqlConnector(PLAN, wallet_url, hash_key=b"test-erasure-hash-key-0123456789")
    assert connector.fetch({"email": ["b@example.com"]}).counts["cards"] == {"found": 1}
    engine = engines.engine_for(wallet_url)
    with engine.connect() as conn:  # the pooled connection's server side goes away (a restart, a timeout)
        pid = conn.exec_driver_sql(
            "SELECT pg_backend_pid()" if wallet_url.startswith("postgresql") else "SELECT CONNECTION_ID()"
        ).scalar()
    admin = sa.create_engine(wallet_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(
            f"SELECT pg_terminate_backend({int(pid)})" if wallet_url.startswith("postgresql") else f"KILL {int(pid)}"
        )
    admin.dispose()
    assert connector.fetch({"email": ["b@example.com"]}).counts["cards"] == {"found": 1}
