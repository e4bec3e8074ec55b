"""The limits every process shares: sliding windows in the store and in Redis, row holds, generations, purging."""

from __future__ import annotations

import secrets
import threading
from datetime import timedelta

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from privet.db import limits
from privet.db.engine import make_sessionmaker
from privet.db.limits import LimitState, RedisWindows, StoreWindows
from privet.kit.clock import utcnow
from tests.support.brokers import redis_broker

WINDOW = 60.0
T0 = 1_800_000_000.0  # the start of a window (a multiple of 60)


def _key() -> str:
    return secrets.token_hex(8)


def _windows(kind: str, engine: Engine, session_factory: sessionmaker[Session]):
    if kind == "redis":
        return RedisWindows(redis_broker())
    return StoreWindows(session_factory)


@pytest.fixture(params=["store", "redis"])
def windows(request: pytest.FixtureRequest, engine: Engine, session_factory: sessionmaker[Session]):
    return _windows(request.param, engine, session_factory)


def test_a_limit_per_key_within_the_window(windows) -> None:
    key, other = _key(), _key()
    assert [windows.hit("t", key, 3, WINDOW, T0 + 1) for _ in range(3)] == [None, None, None]
    assert windows.hit("t", key, 3, WINDOW, T0 + 20) == 40  # the next window, and then most of it
    assert windows.hit("t", other, 3, WINDOW, T0 + 20) is None  # another client has its own budget
    assert windows.hit("u", key, 3, WINDOW, T0 + 20) is None  # and another bucket


def test_the_window_slides(windows) -> None:
    key = _key()
    for _ in range(4):
        assert windows.hit("t", key, 4, WINDOW, T0 + 50) is None
    assert windows.hit("t", key, 4, WINDOW, T0 + 59) is not None
    # 15 s into the next window, 3/4 of the previous one still overlaps: 4 * 0.75 = 3 counted, room for one
    assert windows.hit("t", key, 4, WINDOW, T0 + 75) is None
    assert windows.hit("t", key, 4, WINDOW, T0 + 75) == 1  # 3 + 1 = 4: full until a little more has slid out
    assert windows.hit("t", key, 4, WINDOW, T0 + 120 + 30) is None  # the old hits have left the window


def test_refused_hits_do_not_extend_the_wait(windows) -> None:
    key = _key()
    assert windows.hit("t", key, 1, WINDOW, T0 + 10) is None
    waits = [windows.hit("t", key, 1, WINDOW, T0 + 10 + i * 0.1) for i in range(30)]
    assert all(w is not None for w in waits)
    assert windows.hit("t", key, 1, WINDOW, T0 + 60 + 10 + 1) is None  # as if nobody had hammered


def test_store_windows_count_every_process_once(engine: Engine, tmp_path) -> None:
    """Threads with their own sessions (as processes would be) never let more than the limit through."""
    if engine.dialect.name == "sqlite":  # the shared fixture's file: a store of our own keeps this test's rows
        from privet.db.engine import make_engine
        from privet.tables import metadata

        engine = make_engine(f"sqlite:///{tmp_path / 'limits.db'}")
        metadata.create_all(engine)
    factory = make_sessionmaker(engine)
    counters = [StoreWindows(factory) for _ in range(4)]
    key, allowed = _key(), []

    def hammer(counter: StoreWindows) -> None:
        for _ in range(10):
            allowed.append(counter.hit("race", key, 12, WINDOW, T0 + 5) is None)

    threads = [threading.Thread(target=hammer, args=(c,)) for c in counters]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sum(allowed) == 12 and len(allowed) == 40
    with factory() as session:
        limits.purge(session)
        session.execute(LimitState.__table__.delete().where(LimitState.key == key))
        session.commit()


def test_a_generation_counts_bumps_and_starts_at_zero(db: Session) -> None:
    name = f"test.{_key()}"
    assert limits.generation(db, name) == 0
    limits.bump(db, name)
    limits.bump(db, name)
    assert limits.generation(db, name) == 2
    assert limits.generation(db.connection(), name) == 2  # a plain connection reads it too


def test_hold_makes_a_row_that_expires_and_purge_removes_expired_rows(db: Session) -> None:
    key = _key()
    limits.hold(db, "otp-identity", key, timedelta(hours=1))
    limits.hold(db, "otp-identity", key, timedelta(hours=1))  # a second hold of the same row is no error
    count = select(func.count()).select_from(LimitState).where(LimitState.key == key)
    assert db.scalar(count) == 1
    assert limits.purge(db) == 0 or db.scalar(count) == 1  # not expired yet
    db.execute(
        LimitState.__table__.update().where(LimitState.key == key).values(expires_at=utcnow() - timedelta(seconds=1))
    )
    assert limits.purge(db) >= 1 and db.scalar(count) == 0


def test_a_share_of_the_room_is_taken_at_once_and_single_places_near_the_limit(windows) -> None:
    key = _key()
    assert windows.take("t", key, 100, WINDOW, T0 + 1, 8) == (12, None)  # an eighth of 100
    assert windows.take("t", key, 100, WINDOW, T0 + 1, 8) == (11, None)  # of the 88 left
    taken = 23
    while (got := windows.take("t", key, 100, WINDOW, T0 + 1, 8))[0]:
        taken += got[0]
        assert got[0] == 1 or taken <= 100 - 15  # single places once fewer than 16 are left
    assert taken == 100 and got[1] is not None
