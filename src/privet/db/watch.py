"""A watch on the store: one cheap query per call, on a connection of its own that is opened again (with back-off)
whenever the database drops it.

Hot paths read one small thing from the store on every request (the decision API where the ledger stands, every
API request the API-key revocation generation) so that an answer never lags a committed change. That query runs
through a raw DBAPI cursor on a connection taken out of the pool: no ORM session, no transaction bookkeeping, no
pool checkout per call. A connection the server ended (`pg_terminate_backend`, a restart or failover, an idle
timeout) is closed and replaced at once; while the store stays away, attempts are paced by `Backoff` and callers
answer 503 in between, never 500.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.sql import ClauseElement

from privet.kit.outage import Backoff, store_down, store_unavailable


class StatementWatch:
    """Reads one row of one statement (its parameters bound as literals); reconnects by itself."""

    def __init__(self, sessionmaker: Any, statement: ClauseElement) -> None:
        bind = sessionmaker.kw["bind"]
        self.sessionmaker = sessionmaker
        self.sql = str(statement.compile(dialect=bind.dialect, compile_kwargs={"literal_binds": True}))
        self.bind, self.lock, self.backoff = bind, threading.Lock(), Backoff(first=0.05, cap=0.5)
        self.reconnects = 0  # connections opened after the first, for tests and /readyz
        self.dbapi: Any = None
        self.shared = isinstance(bind, Connection)  # tests: the caller's connection, inside its transaction
        if self.shared:
            self.dbapi = bind.connection.dbapi_connection
        else:
            self._connect()

    def _connect(self) -> None:
        """A connection of its own, out of the pool, reading committed state statement by statement."""
        raw = self.bind.raw_connection()
        raw.detach()
        dbapi = raw.dbapi_connection
        try:
            if self.bind.dialect.name != "sqlite":  # Privet's SQLite connections already run in autocommit mode
                dbapi.rollback()  # a pool pre-ping may have opened a transaction
                dbapi.autocommit = True
        except Exception:
            with contextlib.suppress(Exception):
                dbapi.close()
            raise
        self.dbapi = dbapi

    def _drop(self) -> None:
        dbapi, self.dbapi = self.dbapi, None
        if dbapi is not None:
            with contextlib.suppress(Exception):  # already closed by the server: nothing to release
                dbapi.close()

    def _read(self) -> tuple:
        cursor = self.dbapi.cursor()
        try:
            cursor.execute(self.sql)
            row = cursor.fetchone()
            return tuple(row) if row is not None else ()
        finally:
            with contextlib.suppress(Exception):
                cursor.close()

    def __call__(self) -> tuple:
        """The row (empty when the statement found none); raises `Unavailable` (503) while the store is away."""
        with self.lock:
            if self.dbapi is not None:
                try:
                    return self._read()
                except Exception as exc:
                    if self.shared or not store_unavailable(exc):
                        raise
                    self._drop()  # ended by the server: open another at once, the server may well be up
            if not self.backoff.ready():
                raise store_down()
            try:
                self._connect()
                row = self._read()
            except Exception as exc:
                if not store_unavailable(exc):
                    raise
                self._drop()
                self.backoff.failed()
                raise store_down() from None
            self.backoff.succeeded()
            self.reconnects += 1
            return row

    def close(self) -> None:
        """Release the connection (a later call opens a new one)."""
        with self.lock:
            if not self.shared:
                self._drop()
