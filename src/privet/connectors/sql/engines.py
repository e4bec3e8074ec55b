"""One engine per datastore URL, shared by every request in the process, with a small bounded pool.

Fifty requests in flight must not open fifty connections to a company database: each URL gets `POOL_SIZE`
connections kept open plus `MAX_OVERFLOW` under load; callers beyond that wait up to `POOL_TIMEOUT` seconds.
Parameters are hidden from SQLAlchemy's error messages (they are personal data). SQLite files are opened
read-write but never created (a missing file is an unreachable datastore, not a new empty one), with foreign
keys enforced for our connections. Connections are not pinged on checkout (a round trip per request); the
connector retries once on a connection the server dropped instead.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url

POOL_SIZE = 4
MAX_OVERFLOW = 4
POOL_TIMEOUT = 30
CONNECT_TIMEOUT = 10

_ENGINES: dict[str, Engine] = {}
_LOCK = threading.Lock()


def _sqlite_creator(url: URL) -> Callable[[], sqlite3.Connection]:
    from urllib.parse import quote

    path = url.database or ""
    if path in ("", ":memory:"):
        raise ValueError("an in-memory SQLite database cannot be a datastore")

    def connect() -> sqlite3.Connection:
        conn = sqlite3.connect(f"file:{quote(path)}?mode=rw", uri=True, check_same_thread=False, timeout=POOL_TIMEOUT)
        conn.isolation_level = None  # SQLAlchemy's BEGIN (below) makes savepoints work; see privet.db.engine
        conn.execute("PRAGMA foreign_keys=ON")
        return conn

    return connect


def _sqlite_begin(conn: Connection) -> None:
    # a reading transaction that later writes fails at once when another writer got in between; a writer that
    # takes the lock up front waits its turn (the busy timeout) instead
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("privet_write") else "BEGIN")


def _create(url_text: str) -> Engine:
    url = make_url(url_text)
    backend = url.get_backend_name()
    kwargs: dict = {
        "hide_parameters": True,
        "pool_size": POOL_SIZE,
        "max_overflow": MAX_OVERFLOW,
        "pool_timeout": POOL_TIMEOUT,
        "pool_recycle": 1800,
    }
    if backend == "sqlite":
        kwargs["creator"] = _sqlite_creator(url)
    elif backend in ("postgresql", "mysql", "mariadb"):
        kwargs["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT}
    engine = create_engine(url, **kwargs)
    if backend == "sqlite":
        event.listen(engine, "begin", _sqlite_begin)
    return engine


def engine_for(url: str) -> Engine:
    """The shared engine of a datastore URL (created on first use; ValueError etc. for a malformed URL)."""
    engine = _ENGINES.get(url)
    if engine is None:
        with _LOCK:
            engine = _ENGINES.get(url)
            if engine is None:
                engine = _ENGINES[url] = _create(url)
    return engine


def dispose_all() -> None:
    """Close every pooled connection (application shutdown, tests)."""
    with _LOCK:
        engines = list(_ENGINES.values())
        _ENGINES.clear()
    for engine in engines:
        engine.dispose()
