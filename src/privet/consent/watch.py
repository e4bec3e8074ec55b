"""The decision API's watch on the store: one cheap query per decision, on a connection of its own that is
opened again (with back-off) whenever the database drops it.

A decision reads where the store stands (`snapshot.generation_statement`: the audit head, the ledger's last seq,
the policy's versions) before answering, so an answer never lags a recorded change. That query runs through a
raw DBAPI cursor on a connection taken out of the pool: no ORM session, no transaction bookkeeping, no pool
checkout per decision. A connection the server ended (`pg_terminate_backend`, a restart or failover, an idle
timeout) is closed and replaced at once; while the store stays away, attempts are paced by `Backoff` and
decisions answer 503 in between, never 500.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any

from sqlalchemy import Connection

from privet.consent.snapshot import generation_statement
from privet.kit.outage import Backoff, store_down, store_unavailable


class GenerationWatch:
    """Reads the store's generation; reconnects by itself after a dropped connection."""

    def __init__(self, sessionmaker: Any) -> None:
        bind = sessionmaker.kw["bind"]
        self.sql = str(generation_statement().compile(dialect=bind.dialect))
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
            return tuple(cursor.fetchone())
        finally:
            with contextlib.suppress(Exception):
                cursor.close()

    def __call__(self) -> tuple:
        """The generation tuple; raises `Unavailable` (503) while the store cannot be reached."""
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
                generation = self._read()
            except Exception as exc:
                if not store_unavailable(exc):
                    raise
                self._drop()
                self.backoff.failed()
                raise store_down() from None
            self.backoff.succeeded()
            self.reconnects += 1
            return generation

    def close(self) -> None:
        """Release the connection (a later call opens a new one)."""
        with self.lock:
            if not self.shared:
                self._drop()
