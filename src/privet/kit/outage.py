"""Telling a store outage from a bug, and pacing reconnection while it lasts.

A dropped connection (`pg_terminate_backend`, a database restart or failover, an idle timeout) is not a fault of
the request that met it: it gets a 503 problem, never a 500, and long-lived connections open a new one with
back-off (`Backoff`) instead of failing for good.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from privet.kit.errors import Unavailable

if TYPE_CHECKING:
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse

T = TypeVar("T")
_DBAPI_NAMES = frozenset({"OperationalError", "InterfaceError"})  # PEP 249: connection-level failures


def store_unavailable(exc: BaseException) -> bool:
    """True when `exc` says the database is unreachable, busy past its timeout or dropped the connection."""
    from sqlalchemy import exc as sa

    if isinstance(exc, (sa.OperationalError, sa.InterfaceError, sa.DisconnectionError, sa.TimeoutError)):
        return True
    if isinstance(exc, sa.DBAPIError):
        return bool(exc.connection_invalidated)
    if isinstance(exc, sa.SQLAlchemyError):
        return False
    # a driver's own error, from a DBAPI connection used without SQLAlchemy (psycopg, sqlite3, PyMySQL)
    return any(cls.__name__ in _DBAPI_NAMES for cls in type(exc).__mro__)


def store_down(what: str = "Privet's store") -> Unavailable:
    """The 503 problem answered while the store cannot be reached."""
    return Unavailable(
        f"{what} cannot be reached just now; this request may not have been completed",
        "try again in a moment (Privet reconnects by itself)",
    )


class Backoff:
    """When to try again after failures: `first` seconds, doubled per failure up to `cap`, with jitter.

    Thread-safe. `ready()` says whether an attempt is due; `failed()` schedules the next one; `succeeded()`
    resets. Callers answer 503 (or sleep) while not ready instead of hammering a database that is away.
    """

    def __init__(self, first: float = 0.05, cap: float = 1.0) -> None:
        self.first, self.cap = first, cap
        self.failures = 0
        self._next = 0.0
        self._lock = threading.Lock()

    def ready(self) -> bool:
        """True when no failure is recent enough to wait for."""
        return time.monotonic() >= self._next

    def delay(self) -> float:
        """Seconds until the next attempt is due (0 when ready)."""
        return max(0.0, self._next - time.monotonic())

    def failed(self) -> float:
        """Count a failure; returns the delay before the next attempt."""
        with self._lock:
            self.failures += 1
            delay = min(self.cap, self.first * 2 ** (self.failures - 1)) * random.uniform(0.8, 1.0)
            self._next = time.monotonic() + delay
            return delay

    def succeeded(self) -> None:
        """Forget the failures."""
        if self.failures:
            with self._lock:
                self.failures, self._next = 0, 0.0


def dropped(exc: BaseException) -> bool:
    """True when the database ended the connection under `exc` (SQLAlchemy invalidated it; the pool replaces it)."""
    return bool(getattr(exc, "connection_invalidated", False))


def once_more_on_drop(work: Callable[[], T]) -> T:
    """Run `work`; run it once more when the database dropped its connection. Only for work that is safe to
    repeat (a guarded update, a read): a drop during a commit may have committed it."""
    try:
        return work()
    except Exception as exc:
        if not dropped(exc):
            raise
    return work()


def outage_exceptions() -> tuple[type[Exception], ...]:
    """The SQLAlchemy errors that always mean a store outage (see `store_unavailable`)."""
    from sqlalchemy import exc as sa

    return sa.OperationalError, sa.InterfaceError, sa.DisconnectionError, sa.TimeoutError


async def on_store_outage(_request: object, _exc: Exception) -> JSONResponse:
    """Exception handler for `outage_exceptions`: the 503 problem. Registered for those classes (not left to the
    catch-all handler, which re-raises after answering and so makes the server close the keep-alive connection:
    the client's next request would fail too)."""
    from fastapi.responses import JSONResponse

    problem = store_down()
    return JSONResponse(problem.as_problem(), status_code=problem.status, media_type="application/problem+json")


def install_handlers(app: Starlette) -> None:
    """Answer store outages met mid-request with a 503 problem, keeping the client's connection."""
    for cls in outage_exceptions():
        app.add_exception_handler(cls, on_store_outage)
