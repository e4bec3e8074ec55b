"""Engines and sessions. Built by `create_app` or the CLI, never at import time."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker

from privet.kit.errors import InvalidInput
from privet.settings import Settings

if TYPE_CHECKING:
    import sqlite3

    from sqlalchemy import CursorResult, Result


def make_engine(url: str, *, pool_size: int = 10, max_overflow: int = 5, echo: bool = False) -> Engine:
    """An engine for Privet's store (SQLite or PostgreSQL) or a connector's datastore."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise InvalidInput(
            "The database URL is not valid",
            "use a form such as sqlite:///var/privet.db or postgresql+psycopg://user@host/db",
        ) from None
    kwargs: dict = {"echo": echo, "hide_parameters": True}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            path = Path(database)
            path.parent.mkdir(parents=True, exist_ok=True)
            if not path.exists():  # the store holds personal data: readable by its owner only
                os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    else:
        kwargs.update(pool_size=pool_size, max_overflow=max_overflow, pool_pre_ping=True, pool_recycle=1800)
    try:
        engine = create_engine(parsed, **kwargs)
    except (NoSuchModuleError, ModuleNotFoundError) as exc:
        raise InvalidInput(
            f"No database driver for {parsed.drivername!r}",
            "install the driver: pip install 'privet[postgres]' (psycopg) or 'privet[mysql]' (PyMySQL)",
        ) from exc
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_pragmas(dbapi_conn: sqlite3.Connection, _record: object) -> None:
    """WAL for concurrent readers, enforced foreign keys, sane sync level."""
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()
    # pysqlite would only send BEGIN before DML, so a SAVEPOINT could become the outermost transaction and its
    # RELEASE would commit. Take BEGIN into our own hands (SQLAlchemy's documented pysqlite recipe).
    dbapi_conn.isolation_level = None


WRITE = {"privet_write": True}  # execution options of a session that will write (see begin_write)


def _sqlite_begin(conn: Connection) -> None:
    # A deferred transaction that reads and then writes fails at once ("database is locked") when another writer
    # committed in between; one that announces its write up front waits its turn (the busy timeout) instead.
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("privet_write") else "BEGIN")


def begin_write(session: Session) -> None:
    """Start the session's transaction as a writer (SQLite: take the write lock first; elsewhere: no change)."""
    session.connection(execution_options=WRITE)


SETTINGS_INFO = "privet.settings"  # Session.info: the Settings its keys come from (the audit chain's, see audit.chain)


def make_sessionmaker(bind: Engine, settings: Settings | None = None) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit; `settings` name the installation whose keys they
    use (default: this process's settings)."""
    return sessionmaker(
        bind=bind,
        expire_on_commit=False,
        autoflush=True,
        info={SETTINGS_INFO: settings} if settings is not None else None,
    )


@contextlib.contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error. The only place that commits."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def rowcount(result: Result[Any]) -> int:
    """The rows an UPDATE or DELETE matched. `Session.execute` is typed as returning a `Result`; for those
    statements it is a `CursorResult`, which has the count."""
    return cast("CursorResult[Any]", result).rowcount
