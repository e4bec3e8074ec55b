"""State every Privet process shares for its limits: window counters, per-key state rows and generation numbers.

Several `privet serve` processes (and machines) behind one address must enforce one policy, so limits are not
counted in process memory but in one small table of the store, `limit_state`, or in Redis for the public rate
limits when `PRIVET_LIMITS_REDIS_URL` is set (the only limit counted on requests that would otherwise not write
the store at all). A row is (bucket, key, slot) → count, with a time (`until`) for per-account login state and an
expiry after which nobody needs it (`purge` deletes those).

- `StoreWindows` / `RedisWindows`: a sliding-window rate limit approximated by two fixed windows (the current one,
  and the previous one weighted by how much of it still overlaps the sliding window); only accepted hits count,
  so hammering while refused does not push the reopening further away.
- `hold`: take a row lock on (bucket, key) for the rest of the caller's transaction, serialising checks that count
  rows elsewhere (the verification-code caps) across processes.
- `bump` / `generation`: a counter whose change tells every process to drop what it cached (API-key revocation).

Keys are keyed hashes (client addresses, identities and typed usernames never reach this table in clear).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import BigInteger, Connection, Executable, Integer, String, bindparam, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from privet.db.base import Base
from privet.kit.clock import utcnow

if TYPE_CHECKING:
    from sqlalchemy.dialects.postgresql import Insert as PgInsert
    from sqlalchemy.dialects.sqlite import Insert as SqliteInsert

log = logging.getLogger("privet.limits")
GENERATION = "generation"  # bucket of generation counters (slot 0, never expire)


class LimitState(Base):
    """One counter or state row of a shared limit (see the module's docstring)."""

    __tablename__ = "limit_state"

    bucket: Mapped[str] = mapped_column(String(40), primary_key=True)
    key: Mapped[str] = mapped_column(String(100), primary_key=True)  # a keyed hash or a fixed name
    slot: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)  # window number, or 0
    count: Mapped[int] = mapped_column(Integer, default=0)
    until: Mapped[datetime | None]  # login state: no attempt before this time
    expires_at: Mapped[datetime | None] = mapped_column(index=True)  # deletable after this; None: keep
    updated_at: Mapped[datetime]


T = LimitState.__table__


def upsert(session: Session) -> PgInsert | SqliteInsert:
    """An INSERT of `limit_state` with `on_conflict_do_update` (PostgreSQL and SQLite, the store's dialects)."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(T)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(T)


def _window_wait(prev: int, cur: int, limit: int, frac: float, window: float) -> int:
    """Seconds until the estimate `prev * (1 - f) + cur` lets one more hit in (no hit is counted meanwhile)."""
    if cur >= limit:  # only the next window helps: there `cur` is the previous count, weighted down
        wait = (1 - frac) * window + (1 - limit / cur) * window
    else:
        wait = ((1 - (limit - cur) / prev) - frac) * window if prev else 0.0
    return max(1, math.ceil(round(wait, 6)))  # 40.000000000000004 is 40


def room_of(prev: int, cur: int, limit: int, frac: float) -> int:
    """Hits that fit now: the most n with `prev * (1 - frac) + cur + n - 1 < limit` (0 when full)."""
    return max(0, math.ceil(round(limit - prev * (1 - frac) - cur, 9)))


def share_of(room: int, share: int) -> int:
    """How many of `room` places one request takes: 1, or a `1/share` part of them when `share` is set."""
    return max(1, room // share) if share else 1


class _Take:
    """One request for places, waiting to be counted, and its answer."""

    __slots__ = ("bucket", "done", "error", "key", "limit", "now", "share", "taken", "wait", "window")

    def __init__(self, bucket: str, key: str, limit: int, window: float, now: float, share: int) -> None:
        self.bucket, self.key, self.limit, self.window, self.now, self.share = bucket, key, limit, window, now, share
        self.done, self.taken = False, 0
        self.wait: int | None = None
        self.error: Exception | None = None


class StoreWindows:
    """Sliding-window counts in the store.

    Requests arriving together in one process are counted together: whichever thread gets the turn counts every
    request queued so far in one transaction (each in order, so the count stays exact), and the others find theirs
    answered. Under load that is one store transaction for many requests instead of one each.
    """

    def __init__(self, sessionmaker: Callable[[], Session]) -> None:
        self.sessionmaker = sessionmaker
        self._purged = time.monotonic()
        self._queue: list[_Take] = []
        self._queued = threading.Lock()
        self._turn = threading.Lock()

    def hit(self, bucket: str, key: str, limit: int, window: float, now: float | None = None) -> int | None:
        """Count one hit; None when allowed, else the seconds to wait."""
        return self.take(bucket, key, limit, window, now)[1]

    def take(
        self, bucket: str, key: str, limit: int, window: float, now: float | None = None, share: int = 0
    ) -> tuple[int, int | None]:
        """Take places (one, or a `1/share` part of the room left): (places taken, None), or (0, seconds to wait)."""
        mine = _Take(bucket, key, limit, window, time.time() if now is None else now, share)
        with self._queued:
            self._queue.append(mine)
        with self._turn:
            if not mine.done:  # nobody counted it meanwhile: count it, with whatever else is waiting
                with self._queued:
                    batch, self._queue = self._queue, []
                self._count(batch)
        if mine.error is not None:
            raise mine.error
        return mine.taken, mine.wait

    def _count(self, batch: list[_Take]) -> None:
        from privet.db.engine import begin_write

        try:
            with self.sessionmaker() as session:
                begin_write(session)  # SQLite: take the write lock before reading, so read-then-write cannot race
                for one in batch:
                    one.taken, one.wait = window_take(
                        session, one.bucket, one.key, one.limit, one.window, one.now, one.share
                    )
                if time.monotonic() - self._purged > PURGE_EVERY:
                    self._purged = time.monotonic()
                    purge(session)
                session.commit()
        except Exception as exc:  # noqa: BLE001 - every waiting caller gets the error (they fall back, see kit)
            for one in batch:
                one.taken, one.wait, one.error = 0, None, exc
        for one in batch:
            one.done = True


PURGE_EVERY = 300.0  # seconds between two deletions of expired rows by one process
_COUNTS = select(T.c.slot, T.c.count).where(
    T.c.bucket == bindparam("b"), T.c.key == bindparam("k"), T.c.slot.in_([bindparam("prev"), bindparam("slot")])
)
_TAKES: dict[str, Executable] = {}  # the counting upsert, built once per dialect (building costs what running does)


def _take_statement(session: Session) -> Executable:
    dialect = session.get_bind().dialect.name
    if dialect not in _TAKES:
        stmt = upsert(session).values(
            bucket=bindparam("b"),
            key=bindparam("k"),
            slot=bindparam("slot"),
            count=bindparam("n"),
            expires_at=bindparam("expires"),
            updated_at=bindparam("stamp"),
        )
        # The condition is checked on the row as it is when locked: two processes cannot both take the last place.
        _TAKES[dialect] = stmt.on_conflict_do_update(
            index_elements=[T.c.bucket, T.c.key, T.c.slot],
            set_={"count": T.c.count + stmt.excluded.count, "updated_at": stmt.excluded.updated_at},
            where=T.c.count + stmt.excluded.count <= bindparam("most"),
        ).returning(T.c.count)
    return _TAKES[dialect]


def window_take(
    session: Session, bucket: str, key: str, limit: int, window: float, now: float, share: int = 0
) -> tuple[int, int | None]:
    """Take places of (bucket, key) in the caller's transaction: (taken, None), or (0, seconds to wait)."""
    slot = int(now // window)
    frac = (now - slot * window) / window
    connection = session.connection()  # Core statements: no ORM on this path
    counts = dict(connection.execute(_COUNTS, {"b": bucket, "k": key, "prev": slot - 1, "slot": slot}).all())
    prev, cur = counts.get(slot - 1, 0), counts.get(slot, 0)
    room = room_of(prev, cur, limit, frac)
    if room == 0:
        return 0, _window_wait(prev, cur, limit, frac, window)
    stamp = utcnow()
    values = {
        "b": bucket,
        "k": key,
        "slot": slot,
        "expires": stamp + timedelta(seconds=2 * window),
        "stamp": stamp,
        "most": cur + room,
    }
    for taken in dict.fromkeys((share_of(room, share), 1)):  # another process may have taken some meanwhile
        if connection.execute(_take_statement(session), {**values, "n": taken}).first() is not None:
            return taken, None
    return 0, _window_wait(prev, cur + room, limit, frac, window)


def window_hit(session: Session, bucket: str, key: str, limit: int, window: float, now: float) -> int | None:
    """Count one hit of (bucket, key) in the caller's transaction; None when allowed, else the seconds to wait."""
    return window_take(session, bucket, key, limit, window, now)[1]


_LUA = """
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
local prev = tonumber(redis.call('GET', KEYS[2]) or '0')
local room = math.ceil(tonumber(ARGV[1]) - prev * tonumber(ARGV[2]) - cur - 1e-9)
if room <= 0 then return {0, prev, cur} end
local take = 1
local share = tonumber(ARGV[4])
if share > 0 then take = math.max(1, math.floor(room / share)) end
redis.call('INCRBY', KEYS[1], take)
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
return {take, prev, cur + take}
"""


class RedisWindows:
    """The same sliding-window counts in Redis: one atomic script call per request for places."""

    def __init__(self, url: str) -> None:
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
        self.script = self.client.register_script(_LUA)

    def hit(self, bucket: str, key: str, limit: int, window: float, now: float | None = None) -> int | None:
        """Count one hit; None when allowed, else the seconds to wait."""
        return self.take(bucket, key, limit, window, now)[1]

    def take(
        self, bucket: str, key: str, limit: int, window: float, now: float | None = None, share: int = 0
    ) -> tuple[int, int | None]:
        """Take places (one, or a `1/share` part of the room left): (places taken, None), or (0, seconds to wait)."""
        now = time.time() if now is None else now
        slot = int(now // window)
        frac = (now - slot * window) / window
        name = f"privet:limit:{bucket}:{key}:"
        taken, prev, cur = self.script(
            keys=[f"{name}{slot}", f"{name}{slot - 1}"], args=[limit, 1 - frac, math.ceil(2 * window), share]
        )
        return (int(taken), None) if taken else (0, _window_wait(int(prev), int(cur), limit, frac, window))


def hold(session: Session, bucket: str, key: str, ttl: timedelta) -> None:
    """Lock the row (bucket, key) until the caller's transaction ends (creating it if needed).

    Callers that count rows elsewhere and then insert one (the verification-code caps) would otherwise let two
    processes both see room for one more; with the lock, the second waits and counts the first's row.
    """
    stamp = utcnow()
    stmt = upsert(session).values(bucket=bucket, key=key, slot=0, count=0, expires_at=stamp + ttl, updated_at=stamp)
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=[T.c.bucket, T.c.key, T.c.slot], set_={"expires_at": stamp + ttl, "updated_at": stamp}
        )
    )


def bump(session: Session, name: str) -> None:
    """Add one to the generation counter `name` in the caller's transaction (committed with the change it marks)."""
    stamp = utcnow()
    stmt = upsert(session).values(bucket=GENERATION, key=name, slot=0, count=1, updated_at=stamp)
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=[T.c.bucket, T.c.key, T.c.slot], set_={"count": T.c.count + 1, "updated_at": stamp}
        )
    )


_GENERATION = select(T.c.count).where(T.c.bucket == GENERATION, T.c.slot == 0)


def generation(session: Session | Connection, name: str) -> int:
    """The generation counter `name` (0 before its first bump)."""
    return session.execute(_GENERATION.where(T.c.key == name)).scalar() or 0


def purge(session: Session) -> int:
    """Delete rows past their expiry; returns how many."""
    from privet.db.engine import rowcount

    return rowcount(session.execute(delete(T).where(T.c.expires_at < utcnow()))) or 0
