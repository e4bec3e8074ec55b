"""The current time, in UTC, replaceable in tests."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import UTC, datetime

_frozen: ContextVar[datetime | None] = ContextVar("privet_frozen_now", default=None)


def utcnow() -> datetime:
    """Now, timezone-aware UTC (or the frozen time inside `frozen_at`)."""
    return _frozen.get() or datetime.now(UTC)


@contextlib.contextmanager
def frozen_at(moment: datetime) -> Iterator[None]:
    """Freeze `utcnow()` at `moment` in this context (tests, replays)."""
    token = _frozen.set(moment if moment.tzinfo else moment.replace(tzinfo=UTC))
    try:
        yield
    finally:
        _frozen.reset(token)
