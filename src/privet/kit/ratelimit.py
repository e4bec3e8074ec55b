"""A small in-memory sliding-window rate limiter for public endpoints, keyed by client address.

Per process: with several workers each counts on its own, so the effective limit is at most
`workers × limit`. Good enough to blunt password guessing and form flooding without a Redis.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque

from fastapi import Request

from privet.kit.errors import PrivetError

WINDOW_SECONDS = 60.0
MAX_KEYS = 10_000  # beyond this many tracked addresses, idle ones are forgotten


class RateLimited(PrivetError):
    """Too many requests from one client; `headers` carries Retry-After."""

    def __init__(self, retry_after: int):
        super().__init__(f"Too many requests; try again in {retry_after} seconds",
                         "slow down: this endpoint accepts a limited number of requests per minute", [], 429,
                         "Too many requests")
        self.headers = {"Retry-After": str(retry_after)}


class SlidingWindowLimiter:
    """At most `limit` hits per key in any `window` seconds."""

    def __init__(self, window: float = WINDOW_SECONDS, clock=time.monotonic):  # noqa: ANN001
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

    def _forget_idle(self, now: float) -> None:
        for key in [k for k, v in self._hits.items() if not v or v[-1] <= now - self.window]:
            del self._hits[key]


_create_lock = threading.Lock()


def limiter_for(state: object, bucket: str) -> SlidingWindowLimiter:
    """The app's limiter for `bucket`, created on first use (kept on `app.state`, so per app)."""
    with _create_lock:
        limiters = getattr(state, "rate_limiters", None)
        if limiters is None:
            limiters = {}
            state.rate_limiters = limiters
        return limiters.setdefault(bucket, SlidingWindowLimiter())


class rate_limited:  # noqa: N801 - used like a function: Depends(rate_limited("login"))
    """A FastAPI dependency limiting each client address to `public_rate_limit_per_minute` hits per bucket."""

    def __init__(self, bucket: str, setting: str = "public_rate_limit_per_minute"):
        self.bucket, self.setting = bucket, setting

    def __call__(self, request: Request) -> None:
        if request.method == "OPTIONS":  # CORS preflights are answered without counting
            return
        limit = getattr(request.app.state.settings, self.setting)
        client = request.client.host if request.client else "unknown"
        retry_after = limiter_for(request.app.state, self.bucket).hit(client, limit)
        if retry_after is not None:
            raise RateLimited(retry_after)
