"""The sliding-window limiter behind public endpoints (login today, the privacy centre later)."""

from __future__ import annotations

from privet.kit.ratelimit import SlidingWindowLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_limit_per_key_within_the_window() -> None:
    clock = Clock()
    limiter = SlidingWindowLimiter(window=60, clock=clock)
    assert [limiter.hit("10.0.0.1", 3) for _ in range(3)] == [None, None, None]
    clock.now += 20
    assert limiter.hit("10.0.0.1", 3) == 40  # the oldest hit leaves the window in 40 s
    assert limiter.hit("10.0.0.2", 3) is None  # another address has its own budget


def test_window_slides() -> None:
    clock = Clock()
    limiter = SlidingWindowLimiter(window=60, clock=clock)
    limiter.hit("a", 2)
    clock.now += 30
    limiter.hit("a", 2)
    clock.now += 30.5  # the first hit has left the window, the second has not
    assert limiter.hit("a", 2) is None
    assert limiter.hit("a", 2) is not None


def test_refused_hits_do_not_extend_the_wait() -> None:
    clock = Clock()
    limiter = SlidingWindowLimiter(window=60, clock=clock)
    limiter.hit("a", 1)
    for _ in range(50):  # hammering while blocked must not push the reopening further away
        limiter.hit("a", 1)
    clock.now += 60
    assert limiter.hit("a", 1) is None
