"""Scratch company databases of each dialect, and connections that run the schemas' hand-written SQL as written."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

from tests.support.services import create_mysql_database, create_pg_database

DIALECTS = ("sqlite", "postgresql", "mariadb")


def new_database(dialect: str, folder: Path, name: str) -> tuple[str, Callable[[], None]]:
    """An empty database of `dialect` and a function that drops it (skipped, or failed under CI=true, when the
    server is unreachable: tests.support.services)."""
    if dialect == "sqlite":
        path = folder / f"{name}.sqlite"
        sa.create_engine(f"sqlite:///{path}").connect().close()
        return f"sqlite:///{path}", lambda: None
    if dialect == "postgresql":
        return create_pg_database()
    if dialect == "mariadb":
        return create_mysql_database()
    raise ValueError(f"unknown dialect {dialect!r}")


@contextmanager
def connect(url: str) -> Iterator[sa.Connection]:
    """A connection for the checks' own SQL: double-quoted names work on MariaDB too (ANSI_QUOTES), and every
    statement sees the latest committed state (autocommit)."""
    args = {}
    if sa.engine.make_url(url).get_backend_name() in ("mysql", "mariadb"):
        # before SQLAlchemy first looks at the connection, so its reflection knows names are double-quoted
        args["init_command"] = "SET SESSION sql_mode = CONCAT(@@sql_mode, ',ANSI_QUOTES')"
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool, isolation_level="AUTOCOMMIT", connect_args=args)
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()
