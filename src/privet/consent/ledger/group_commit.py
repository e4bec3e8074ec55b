"""Group commit: the consent recordings of concurrent requests in one process, written in shared transactions.

One recording per transaction costs about ten statements and a commit, and every writer queues for the audit
head (held until commit, through PostgreSQL's flush to disk; SQLite has one writer at a time anyway), so the
store took recordings one by one. Here requests hand their recordings to one writer thread per app; it takes
everything waiting, checks each recording on its own and writes the good ones in one transaction
(`batch.record_many`). Each request still gets its own errors, its own record and audit event, and its answer
only after the commit that includes it. While one batch is written the next gathers, so batches grow with load
and a lone request waits for nobody. A batch whose connection the database dropped before its commit is written
again once on a new connection; a store that stays away answers each request 503 (the thread lives on).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from privet.consent.ledger.recording import Outcome, Recording, record_many
from privet.db.engine import begin_write, session_scope
from privet.kit.outage import store_down, store_unavailable

MAX_BATCH = 256  # bounds one transaction's time (and so every request's wait in it)
IDLE_SECONDS = 2.0  # an idle writer thread ends; the next recording starts another
Done = Callable[[Any], object]  # its answer is ignored; receives the written ledger row (a dict) or an exception
_CREATE = threading.Lock()
log = logging.getLogger("privet")


class RecordWriter:
    """Collects recordings from request threads or event loops and writes them in batches on its own thread."""

    def __init__(self, state: Any, *, max_batch: int = MAX_BATCH, idle_seconds: float = IDLE_SECONDS) -> None:
        self._state = state  # app.state: its sessionmaker and keyring are read per batch (tests swap them)
        self.max_batch, self.idle_seconds = max_batch, idle_seconds
        self._lock = threading.Condition()
        self._pending: list[tuple[Recording, Done]] = []
        self._running = False
        self.batches = 0  # transactions written, for tests and curiosity

    async def record(self, item: Recording) -> dict:
        """Record one event with whatever else is waiting: its written ledger row; raises the event's own error."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future = loop.create_future()
        self.submit(item, lambda outcome: loop.call_soon_threadsafe(_settle, future, outcome))
        outcome = await future
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    def submit(self, item: Recording, done: Done) -> None:
        """Queue one recording; `done` is called on the writer thread with its record or its error."""
        with self._lock:
            self._pending.append((item, done))
            if self._running:
                self._lock.notify()
                return
            self._running = True
        threading.Thread(target=self._run, name="privet-consent-writer", daemon=True).start()

    def _run(self) -> None:
        while True:
            with self._lock:
                if not self._pending:
                    self._lock.wait(self.idle_seconds)
                if not self._pending:
                    self._running = False
                    return
                batch, self._pending = self._pending[: self.max_batch], self._pending[self.max_batch :]
            outcomes = self._write([item for item, _ in batch])
            for (_, done), outcome in zip(batch, outcomes, strict=True):
                try:
                    done(outcome)
                except Exception:  # noqa: BLE001 - e.g. the request's event loop closed: nobody is waiting
                    log.debug("a recording's requester is gone")

    def _write(self, items: list[Recording]) -> Sequence[Outcome | BaseException]:
        try:
            return self._transaction(items)
        except Exception as exc:  # noqa: BLE001 - failed as a whole (e.g. a constraint): retry each alone
            if store_unavailable(exc):  # the store is away or busy past its timeout: alone is no better
                return [store_down()] * len(items)  # a 503 to each request, whose recording may not be kept
            if len(items) == 1:
                return [exc]
            return [self._alone(item) for item in items]

    def _alone(self, item: Recording) -> Outcome | BaseException:
        try:
            return self._transaction([item])[0]
        except Exception as exc:  # noqa: BLE001 - this recording's own failure, answered to its request
            return exc

    def _transaction(self, items: list[Recording]) -> list[Outcome]:
        factory = self._state.sessionmaker
        for attempt in (1, 2):
            written = False
            try:
                with _turn(factory), session_scope(factory) as session:
                    begin_write(session)
                    outcomes = record_many(session, items, keyring=self._state.keyring)
                    written = True  # only the commit is left: a failure from here on may have committed
            except DBAPIError as exc:
                # A connection the database dropped (terminated, restarted) before the commit was sent: nothing
                # was written, so the batch goes again once on a fresh connection (the pool replaced it).
                if attempt == 1 and not written and exc.connection_invalidated:
                    continue
                raise
            self.batches += 1
            return outcomes
        raise AssertionError("unreachable")


@contextlib.contextmanager
def _turn(factory: Any) -> Iterator[None]:
    """SQLite: take turns with the writers of other worker processes on a lock file next to the store.

    SQLite lets one writer in at a time and makes the others poll, sleeping 1, 2, 5, 10 ... ms between tries;
    a lock file wakes the next writer the moment the previous one is done, and meanwhile its batch grows.
    Only a courtesy among writer threads: anything else writing (the CLI, other routes) still just waits for
    SQLite's own lock, so correctness never depends on it.
    """
    bind = factory.kw.get("bind")
    url = bind.url if isinstance(bind, Engine) else None  # tests bind sessions to one connection: no lock there
    if url is None or url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        yield
        return
    try:
        fd = os.open(f"{url.database}-writer.lock", os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:  # e.g. a read-only folder: SQLite's own lock still orders the writers
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _settle(future: asyncio.Future, outcome: Any) -> None:
    if not future.done():  # a cancelled request (client gone): its record is written all the same
        future.set_result(outcome)


def writer_for(app: Any) -> RecordWriter:
    """The app's writer, made on first use."""
    writer = getattr(app.state, "consent_writer", None)
    if writer is None:
        with _CREATE:
            writer = getattr(app.state, "consent_writer", None)
            if writer is None:
                writer = app.state.consent_writer = RecordWriter(app.state)
    return writer
