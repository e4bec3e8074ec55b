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
import time
from datetime import datetime, timedelta

from sqlalchemy import BigInteger, Connection, Integer, String, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from privet.db.base import Base
from privet.kit.clock import utcnow

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


def upsert(session: Session):  # noqa: ANN201 - the dialect's INSERT supporting ON CONFLICT
    """An INSERT of `limit_state` with `on_conflict_do_update` (PostgreSQL and SQLite, the store's dialects)."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(T)


def _window_wait(prev: int, cur: int, limit: int, frac: float, window: float) -> int:
    """Seconds until the estimate `prev * (1 - f) + cur` lets one more hit in (no hit is counted meanwhile)."""
    if cur >= limit:  # only the next window helps: there `cur` is the previous count, weighted down
        wait = (1 - frac) * window + (1 - limit / cur) * window
    else:
        wait = ((1 - (limit - cur) / prev) - frac) * window if prev else 0.0
    return max(1, math.ceil(round(wait, 6)))  # 40.000000000000004 is 40


class StoreWindows:
    """Sliding-window counts in the store, one short transaction per hit (two statements)."""

    def __init__(self, sessionmaker) -> None:  # noqa: ANN001 - sqlalchemy.orm.sessionmaker
        self.sessionmaker = sessionmaker
        self._purged = time.monotonic()

    def hit(self, bucket: str, key: str, limit: int, window: float, now: float | None = None) -> int | None:
        """Count one hit; None when allowed, else the seconds to wait."""
        from privet.db.engine import begin_write

        now = time.time() if now is None else now
        with self.sessionmaker() as session:
            begin_write(session)  # SQLite: take the write lock before reading, so read-then-write cannot race
            wait = window_hit(session, bucket, key, limit, window, now)
            session.commit()
        if time.monotonic() - self._purged > PURGE_EVERY:
            self._purged = time.monotonic()
            with self.sessionmaker() as session:
                begin_write(session)
                purge(session)
                session.commit()
        return wait


PURGE_EVERY = 300.0  # seconds between two deletions of expired rows by one process


def window_hit(session: Session, bucket: str, key: str, limit: int, window: float, now: float) -> int | None:
    """Count one hit of (bucket, key) in the caller's transaction; None when allowed, else the seconds to wait."""
    slot = int(now // window)
    frac = (now - slot * window) / window
    counts = dict(session.execute(select(T.c.slot, T.c.count).where(
        T.c.bucket == bucket, T.c.key == key, T.c.slot.in_((slot - 1, slot)))).all())
    prev, cur = counts.get(slot - 1, 0), counts.get(slot, 0)
    threshold = limit - prev * (1 - frac)  # this window's count must stay below it
    if cur >= threshold:
        return _window_wait(prev, cur, limit, frac, window)
    stamp = utcnow()
    expires = stamp + timedelta(seconds=2 * window)
    stmt = upsert(session).values(bucket=bucket, key=key, slot=slot, count=1, expires_at=expires, updated_at=stamp)
    # The condition is checked on the row as it is when locked: two processes cannot both take the last place.
    stmt = stmt.on_conflict_do_update(index_elements=[T.c.bucket, T.c.key, T.c.slot],
                                      set_={"count": T.c.count + 1, "updated_at": stamp},
                                      where=T.c.count < threshold).returning(T.c.count)
    if session.execute(stmt).first() is None:  # another process took it meanwhile
        return _window_wait(prev, max(cur, math.ceil(threshold)), limit, frac, window)
    return None


_LUA = """
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
local prev = tonumber(redis.call('GET', KEYS[2]) or '0')
if cur >= tonumber(ARGV[1]) - prev * tonumber(ARGV[2]) then return {0, prev, cur} end
redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
return {1, prev, cur + 1}
"""


class RedisWindows:
    """The same sliding-window counts in Redis: one atomic script call per hit."""

    def __init__(self, url: str) -> None:
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
        self.script = self.client.register_script(_LUA)

    def hit(self, bucket: str, key: str, limit: int, window: float, now: float | None = None) -> int | None:
        """Count one hit; None when allowed, else the seconds to wait."""
        now = time.time() if now is None else now
        slot = int(now // window)
        frac = (now - slot * window) / window
        name = f"privet:limit:{bucket}:{key}:"
        allowed, prev, cur = self.script(keys=[f"{name}{slot}", f"{name}{slot - 1}"],
                                         args=[limit, 1 - frac, math.ceil(2 * window)])
        return None if allowed else _window_wait(int(prev), int(cur), limit, frac, window)


def hold(session: Session, bucket: str, key: str, ttl: timedelta) -> None:
    """Lock the row (bucket, key) until the caller's transaction ends (creating it if needed).

    Callers that count rows elsewhere and then insert one (the verification-code caps) would otherwise let two
    processes both see room for one more; with the lock, the second waits and counts the first's row.
    """
    stamp = utcnow()
    stmt = upsert(session).values(bucket=bucket, key=key, slot=0, count=0, expires_at=stamp + ttl, updated_at=stamp)
    session.execute(stmt.on_conflict_do_update(index_elements=[T.c.bucket, T.c.key, T.c.slot],
                                               set_={"expires_at": stamp + ttl, "updated_at": stamp}))


def bump(session: Session, name: str) -> None:
    """Add one to the generation counter `name` in the caller's transaction (committed with the change it marks)."""
    stamp = utcnow()
    stmt = upsert(session).values(bucket=GENERATION, key=name, slot=0, count=1, updated_at=stamp)
    session.execute(stmt.on_conflict_do_update(index_elements=[T.c.bucket, T.c.key, T.c.slot],
                                               set_={"count": T.c.count + 1, "updated_at": stamp}))


_GENERATION = select(T.c.count).where(T.c.bucket == GENERATION, T.c.slot == 0)


def generation(session: Session | Connection, name: str) -> int:
    """The generation counter `name` (0 before its first bump)."""
    return session.execute(_GENERATION.where(T.c.key == name)).scalar() or 0


def purge(session: Session) -> int:
    """Delete rows past their expiry; returns how many."""
    return session.execute(delete(T).where(T.c.expires_at < utcnow())).rowcount or 0
