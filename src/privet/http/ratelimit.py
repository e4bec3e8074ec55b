"""Rate limits of public endpoints, keyed by client address and held across every Privet process.

Each bucket counts in a sliding window shared by all processes: in the store's `limit_state` table, or in Redis
when `PRIVET_LIMITS_REDIS_URL` is set (see `privet.db.limits`). In front of it each process keeps its own window
(`SlidingWindowLimiter`): a client this process alone already refuses is refused without a store round trip, and
since a process's own count never exceeds the shared one, that never refuses what the shared count allows. When
the shared counter cannot be reached, the process's own window still holds (a warning is logged).

The client address is the direct peer's, or the one a trusted proxy forwarded (`privet.kit.proxies`). Addresses
are counted under a keyed hash, never stored in clear.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fastapi import Request

from privet.kit.errors import PrivetError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from privet.db.limits import RedisWindows, StoreWindows

WINDOW_SECONDS = 60.0
MAX_KEYS = 10_000  # beyond this many tracked addresses, idle ones are forgotten
log = logging.getLogger("privet.limits")
# The app's state (`app.state`), or in tests any object with its attributes: they are read with getattr and the
# shared counter and limiters are set on it on first use.
AppState = Any


class RateLimited(PrivetError):
    """Too many requests from one client; `headers` carries Retry-After."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            f"Too many requests; try again in {retry_after} seconds",
            "slow down: this endpoint accepts a limited number of requests per minute",
            [],
            429,
            "Too many requests",
        )
        self.headers = {"Retry-After": str(retry_after)}


class SlidingWindowLimiter:
    """At most `limit` hits per key in any `window` seconds, in this process's memory."""

    def __init__(self, window: float = WINDOW_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self.window = window
        self.clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, limit: int) -> int | None:
        """Count one hit; returns None when allowed, else the seconds to wait before the next is allowed."""
        now = self.clock()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= limit:
                return max(1, math.ceil(hits[0] + self.window - now))
            hits.append(now)
            if len(self._hits) > MAX_KEYS:
                self._forget_idle(now)
            return None

    def forget_last(self, key: str) -> None:
        """Take back the last hit of `key` (the shared count refused it: it must not extend the wait)."""
        with self._lock:
            hits = self._hits.get(key)
            if hits:
                hits.pop()

    def _forget_idle(self, now: float) -> None:
        for key in [k for k, v in self._hits.items() if not v or v[-1] <= now - self.window]:
            del self._hits[key]


class SharedLimiter:
    """One bucket's limit across processes: this process's window first, then places taken from the shared count.

    A request for places takes one, or, while the window has plenty of room, a share of it (`LEASE_SHARE`): the
    process then lets the same client in on its own until those places are used, one shared round trip for many
    requests (the places are counted as used whether or not they are, so the limit is never exceeded; a client
    spread over several processes may be refused slightly before it, never after). Near the limit each place is
    taken alone, so the count is exact where it matters.
    """

    def __init__(self, bucket: str, state: AppState, window: float = WINDOW_SECONDS) -> None:
        self.bucket, self.state, self.window = bucket, state, window
        self.local = SlidingWindowLimiter(window)
        self._leases: dict[str, tuple[int, int]] = {}  # key -> (window slot, places taken and not yet used)
        self._lock = threading.Lock()

    def hit(self, client: str, limit: int) -> int | None:
        """Count one hit of `client`; None when allowed, else the seconds to wait."""
        keyring = getattr(self.state, "keyring", None)
        key = keyring.fingerprint(client) if keyring is not None else client
        wait = self.local.hit(key, limit)
        if wait is not None:
            return wait
        now = time.time()
        slot = int(now // self.window)
        with self._lock:
            lease = self._leases.get(key)
            if lease is not None and lease[0] == slot and lease[1] > 0:
                self._leases[key] = (slot, lease[1] - 1)
                return None
        try:
            windows = shared_windows(self.state)
            if windows is None:
                return None
            taken, wait = windows.take(self.bucket, key, limit, self.window, now, LEASE_SHARE)
        except Exception as exc:  # noqa: BLE001 - store or Redis unreachable: this process's own limit still holds
            _warn(exc)
            return None
        if wait is not None:
            self.local.forget_last(key)
            return wait
        with self._lock:
            if len(self._leases) > MAX_KEYS:
                self._leases = {k: v for k, v in self._leases.items() if v[0] == slot and v[1] > 0}
            left = self._leases.get(key, (slot, 0))
            self._leases[key] = (slot, (left[1] if left[0] == slot else 0) + taken - 1)
        return None


LEASE_SHARE = 8  # take an eighth of the room left at once (one place when fewer than 16 are left)


_warned = [0.0]


def _warn(exc: Exception) -> None:
    if time.monotonic() - _warned[0] > 60:  # once a minute, not once a request
        _warned[0] = time.monotonic()
        log.warning("shared rate limits unreachable (%s); each process counts on its own meanwhile", type(exc).__name__)


_create_lock = threading.Lock()


def shared_windows(state: AppState) -> StoreWindows | RedisWindows | None:
    """The app's shared counter (Redis when configured, else the store), made on first use; None without a store."""
    windows = getattr(state, "shared_windows", None)
    if windows is not None:
        return windows
    sessionmaker = getattr(state, "sessionmaker", None)
    settings = getattr(state, "settings", None)
    if sessionmaker is None or settings is None:
        return None
    from privet.db.limits import RedisWindows, StoreWindows

    with _create_lock:
        if getattr(state, "shared_windows", None) is None:
            url = settings.limits_redis_url
            state.shared_windows = RedisWindows(url) if url else StoreWindows(_Current(state))
        return state.shared_windows


class _Current:
    """Calls the app's sessionmaker as it is now (tests swap it for one bound to their transaction)."""

    def __init__(self, state: AppState) -> None:
        self.state = state

    def __call__(self) -> Session:
        return self.state.sessionmaker()


def limiter_for(state: AppState, bucket: str) -> SharedLimiter:
    """The app's limiter for `bucket`, created on first use (kept on `app.state`)."""
    with _create_lock:
        limiters = getattr(state, "rate_limiters", None)
        if limiters is None:
            limiters = {}
            state.rate_limiters = limiters
        return limiters.setdefault(bucket, SharedLimiter(bucket, state))


class rate_limited:  # noqa: N801 - used like a function: Depends(rate_limited("login"))
    """A FastAPI dependency limiting each client address to `public_rate_limit_per_minute` hits per bucket."""

    def __init__(self, bucket: str, setting: str = "public_rate_limit_per_minute") -> None:
        self.bucket, self.setting = bucket, setting

    def __call__(self, request: Request) -> None:
        if request.method == "OPTIONS":  # CORS preflights are answered without counting
            return
        limit = getattr(request.app.state.settings, self.setting)
        client = request.client.host if request.client else "unknown"
        retry_after = limiter_for(request.app.state, self.bucket).hit(client, limit)
        if retry_after is not None:
            raise RateLimited(retry_after)
