"""The sliding-window limiter behind public endpoints (login today, the privacy centre later)."""

from __future__ import annotations

from privet.http.ratelimit import SlidingWindowLimiter


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


def test_when_the_shared_count_is_unreachable_each_process_still_limits() -> None:
    from types import SimpleNamespace

    from privet.http.ratelimit import SharedLimiter
    from privet.settings import Settings

    unreachable = Settings(secret_key="test-secret-key-0123456789abcdef", limits_redis_url="redis://127.0.0.1:1/0")
    state = SimpleNamespace(settings=unreachable, sessionmaker=object(), keyring=None)
    limiter = SharedLimiter("login", state)
    assert [limiter.hit("10.0.0.1", 2) is None for _ in range(3)] == [True, True, False]


def test_a_hit_the_shared_count_refuses_is_not_counted_by_the_process() -> None:
    from types import SimpleNamespace

    from privet.http.ratelimit import SharedLimiter

    class Full:  # another process took the whole budget
        def take(self, bucket: str, key: str, limit: int, window: float, now: float, share: int) -> tuple:
            return 0, 30

    limiter = SharedLimiter("login", SimpleNamespace(shared_windows=Full(), keyring=None))
    assert [limiter.hit("10.0.0.1", 2) for _ in range(5)] == [30] * 5  # the shared answer, every time
    assert limiter.local.hit("10.0.0.1", 2) is None  # its own window still has room: refusals took nothing


def test_a_client_staying_on_one_process_costs_few_shared_round_trips() -> None:
    from types import SimpleNamespace

    from privet.db.limits import room_of, share_of
    from privet.http.ratelimit import SharedLimiter

    class Counting:  # the shared count, as one process would find it alone
        def __init__(self) -> None:
            self.used, self.calls = 0, 0

        def take(self, bucket: str, key: str, limit: int, window: float, now: float, share: int) -> tuple:
            self.calls += 1
            room = room_of(0, self.used, limit, 0.0)
            if room == 0:
                return 0, 60
            taken = share_of(room, share)
            self.used += taken
            return taken, None

    shared = Counting()
    limiter = SharedLimiter("banner", SimpleNamespace(shared_windows=shared, keyring=None))
    answers = [limiter.hit("10.0.0.1", 600) for _ in range(650)]
    assert answers[:600] == [None] * 600 and all(a is not None for a in answers[600:])  # exactly the limit
    assert shared.calls < 100  # places taken in shares while the window had room: not one round trip each
