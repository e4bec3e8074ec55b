"""Reaching the real database servers tests use; skip on a laptop without them, fail under CI."""

from __future__ import annotations

import os
import secrets

import pytest
import sqlalchemy as sa

PG_ADMIN_URL = os.environ.get("PRIVET_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
MYSQL_ADMIN_URL = os.environ.get("PRIVET_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test")


def unavailable(what: str, exc: Exception) -> None:
    """Skip with the reason, or fail when CI=true (CI must exercise every real service)."""
    message = f"{what} is unreachable ({type(exc).__name__}: {str(exc).splitlines()[0][:160]})"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message + " — under CI=true this is a failure, not a skip")
    pytest.skip(message)


def _swap_database(url: str, name: str) -> str:
    return sa.engine.make_url(url).set(database=name).render_as_string(hide_password=False)


def create_pg_database(template: str | None = None) -> tuple[str, callable]:
    """A fresh PostgreSQL database (empty, or a copy of database `template`); returns its URL and a function that
    drops it."""
    name = f"privet_t_{secrets.token_hex(5)}"
    copy = f' TEMPLATE "{template}"' if template else ""
    try:
        admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"{copy}'))
    except Exception as exc:  # noqa: BLE001 - any driver error means "not reachable"
        unavailable("PostgreSQL", exc)

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return _swap_database(PG_ADMIN_URL, name), drop


def create_mysql_database() -> tuple[str, callable]:
    """A fresh, empty MariaDB/MySQL database; returns its URL and a function that drops it."""
    name = f"privet_t_{secrets.token_hex(5)}"
    try:
        admin = sa.create_engine(MYSQL_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
    except Exception as exc:  # noqa: BLE001
        unavailable("MariaDB", exc)

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS `{name}`"))
        admin.dispose()

    return _swap_database(MYSQL_ADMIN_URL, name), drop
