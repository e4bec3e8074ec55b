"""A read-only connection for discovery: its own small engine (never the requests' pool), every transaction
read-only and every statement bounded by a timeout, on SQLite, PostgreSQL and MariaDB/MySQL.

- PostgreSQL: `default_transaction_read_only` and `statement_timeout` set for the session at connect time.
- MariaDB: `SESSION TRANSACTION READ ONLY` and `max_statement_time` (MySQL: `max_execution_time`, SELECTs only).
- SQLite: the file opened with `mode=ro` and `query_only`; SQLite has no statement timeout, so a progress handler
  interrupts a statement running past its deadline (set before each statement).
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any, cast
from urllib.parse import quote

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from privet.datamap.scaffold import _connect_error, _engine, _parse

_SQLITE_STEPS = 5000  # virtual machine steps between deadline checks (cheap; about a millisecond)


class _Deadlined(sqlite3.Connection):
    """A SQLite connection whose statements are interrupted once `deadline` (monotonic seconds) has passed."""

    deadline = 0.0


def open_readonly(url: str, timeout: float) -> sa.Engine:
    """An engine on `url` whose connections only read and give up on a statement after `timeout` seconds."""
    parsed = _parse(url)
    if parsed.get_backend_name() == "sqlite":
        _engine(parsed)  # refuses a path with no database file (never creates one)
        return _sqlite(parsed, timeout)
    args: dict[str, Any] = {"connect_timeout": 5}
    if parsed.get_backend_name() == "postgresql":
        args["options"] = f"-c default_transaction_read_only=on -c statement_timeout={int(timeout * 1000)}"
    engine = sa.create_engine(parsed, poolclass=NullPool, connect_args=args, hide_parameters=True)
    if parsed.get_backend_name() in ("mysql", "mariadb"):
        event.listen(engine, "connect", lambda dbapi, _record: _mysql_session(dbapi, timeout))
    return engine


def connect(engine: sa.Engine, url: str) -> sa.Connection:
    """A connection, or the scaffold's one-line error naming host and database (never the password)."""
    try:
        return engine.connect()
    except DBAPIError as exc:
        raise _connect_error(_parse(url), exc) from None


def _mysql_session(dbapi: Any, timeout: float) -> None:
    # `dbapi`: a PyMySQL connection (untyped; its cursor is a context manager, which the DB-API protocol does not say)
    with dbapi.cursor() as cursor:
        cursor.execute("SET SESSION TRANSACTION READ ONLY")
        try:
            cursor.execute(f"SET SESSION max_statement_time = {float(timeout)}")  # MariaDB, seconds
        except Exception:  # noqa: BLE001 - MySQL has max_execution_time instead (milliseconds, SELECTs only)
            cursor.execute(f"SET SESSION max_execution_time = {int(timeout * 1000)}")


def _sqlite(parsed: URL, timeout: float) -> sa.Engine:
    path = parsed.database or ""

    def create() -> sqlite3.Connection:
        raw = sqlite3.connect(f"file:{quote(path)}?mode=ro", uri=True, factory=_Deadlined, check_same_thread=False)
        raw.execute("PRAGMA query_only = ON")
        raw.set_progress_handler(lambda: int(0 < raw.deadline < time.monotonic()), _SQLITE_STEPS)
        return raw

    engine = sa.create_engine("sqlite://", creator=create, poolclass=NullPool, hide_parameters=True)

    @event.listens_for(engine, "before_cursor_execute")
    def _arm(conn: sa.Connection, _cursor: Any, _statement: str, _params: Any, _context: Any, _many: bool) -> None:
        raw = cast(_Deadlined, conn.connection.dbapi_connection)  # made by create() above
        raw.deadline = time.monotonic() + timeout

    return engine
