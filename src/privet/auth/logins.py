"""Logging in with a password: per-account throttling, a temporary lock, and an audit event for every refusal.

One counter per account, whichever route is used (`POST /api/v1/auth/login` and the console's login form) and
whichever process answers: the state is a `limit_state` row in the store (`privet.db.limits`), keyed by a keyed
hash of the typed username, locked for the attempt's transaction so concurrent guesses are counted one by one.
Unknown usernames are counted the same way, so a lock says nothing about whether an account exists.

- The first `login_free_failures` failures in a row cost nothing; each further one makes the next attempt wait
  `login_delay_seconds`, doubling (1 s, 2 s, 4 s …); after `login_lock_failures` the account is locked for
  `login_lock_minutes` (and locks again after one more failure until a success, an unlock or
  `login_failure_reset_minutes` without a failure clear the run).
- An attempt inside a wait or lock is refused (429 with Retry-After) without checking the password.
- Every failed and every refused login writes an audit event: the account's user id (or, for a name that is no
  account, the keyed hash), the route, the reason and a keyed hash of the client address. Never the password,
  and never the typed name (it may be an e-mail address, or a password typed into the wrong field).
- An admin ends a lock with `privet users unlock NAME`, `POST /api/v1/auth/users/{id}/unlock` or the console.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from privet.audit.service import record
from privet.auth.models import User
from privet.auth.service import check_password
from privet.db.limits import LimitState, upsert
from privet.kit.clock import utcnow
from privet.kit.crypto import Keyring
from privet.kit.errors import PrivetError, Unauthorized
from privet.settings import Settings

BUCKET = "login"
ACTOR = "public:login"
T = LimitState.__table__


class LoginFailed(Unauthorized):
    """Wrong username or password (one message for an unknown, inactive or wrong one). The failure was counted and
    audited in the caller's transaction: commit it (answer without raising)."""

    def __init__(self) -> None:
        super().__init__("Wrong username or password", "check both and try again")


class LoginRefused(PrivetError):
    """An attempt inside a wait or a lock; `headers` carries Retry-After. Audited in the caller's transaction."""

    def __init__(self, locked: bool, retry_after: int) -> None:
        if locked:
            detail = (
                f"This account is locked after repeated failed logins; try again in "
                f"{math.ceil(retry_after / 60)} minutes"
            )
            hint = "or ask an admin to unlock it (privet users unlock NAME, or the console's Users page)"
        else:
            detail = f"Too many failed logins for this account; wait {retry_after} seconds before trying again"
            hint = "each further failed login makes the wait longer, and enough of them lock the account"
        super().__init__(detail, hint, [], 429, "Too many requests")
        self.locked, self.retry_after = locked, retry_after
        self.headers = {"Retry-After": str(retry_after)}


@dataclass(frozen=True)
class LockState:
    """An account's run of failed logins: how many, and when the next attempt is allowed (None: now)."""

    failures: int
    not_before: datetime | None
    locked: bool


def account_key(keyring: Keyring, username: str) -> str:
    """The keyed hash an account's (or a typed name's) login state is kept under."""
    return keyring.fingerprint("login:" + (username or "").strip().lower())


def wait_after(failures: int, settings: Settings) -> timedelta | None:
    """How long the next attempt must wait after `failures` failed logins in a row (None: no wait)."""
    lock = timedelta(minutes=settings.login_lock_minutes)
    if failures >= settings.login_lock_failures:
        return lock
    extra = failures - settings.login_free_failures
    if extra <= 0 or settings.login_delay_seconds <= 0:
        return None
    return min(timedelta(seconds=settings.login_delay_seconds * 2 ** min(extra - 1, 30)), lock)


def _held(session: Session, key: str, settings: Settings, now: datetime) -> LockState:
    """The account's state, its row locked until the caller's transaction ends (created when missing)."""
    expires = now + timedelta(minutes=settings.login_failure_reset_minutes)
    stmt = upsert(session).values(bucket=BUCKET, key=key, slot=0, count=0, expires_at=expires, updated_at=now)
    stmt = stmt.on_conflict_do_update(
        index_elements=[T.c.bucket, T.c.key, T.c.slot], set_={"updated_at": T.c.updated_at}
    )  # no change: it takes the row lock
    failures, until, last = session.execute(stmt.returning(T.c.count, T.c.until, T.c.updated_at)).one()
    if failures and last <= now - timedelta(minutes=settings.login_failure_reset_minutes):
        failures, until = 0, None  # a run of failures long ago is forgotten
    return LockState(
        failures,
        until if until and until > now else None,
        failures >= settings.login_lock_failures and bool(until and until > now),
    )


def _failed(session: Session, key: str, failures: int, settings: Settings, now: datetime) -> LockState:
    wait = wait_after(failures, settings)
    until = now + wait if wait else None
    expires = max(until or now, now) + timedelta(minutes=settings.login_failure_reset_minutes)
    session.execute(
        T.update()
        .where(T.c.bucket == BUCKET, T.c.key == key, T.c.slot == 0)
        .values(count=failures, until=until, updated_at=now, expires_at=expires)
    )
    return LockState(failures, until, failures >= settings.login_lock_failures)


def _target(user: User | None, key: str) -> tuple[str, str]:
    return ("user", user.id) if user is not None else ("login_name", key[:32])


def log_in(
    session: Session,
    keyring: Keyring,
    settings: Settings,
    username: str,
    password: str,
    *,
    route: str,
    client: str | None,
) -> User:
    """The user, when the attempt is allowed and the password right; else LoginRefused or LoginFailed.

    Both errors leave their count and audit event in the session: the caller answers without raising, so the
    request's unit of work commits them.
    """
    now = utcnow()
    key = account_key(keyring, username)
    state = _held(session, key, settings, now)
    user = session.scalar(select(User).where(User.username == username))
    object_type, object_id = _target(user, key)
    seen = {"route": route, "client": keyring.fingerprint(client)[:16] if client else None}
    if state.not_before is not None:
        refusal = LoginRefused(state.locked, max(1, math.ceil((state.not_before - now).total_seconds())))
        record(
            session,
            actor=ACTOR,
            action="login.refused",
            object_type=object_type,
            object_id=object_id,
            details={
                **seen,
                "reason": "locked" if state.locked else "waiting",
                "failures": state.failures,
                "retry_after": refusal.retry_after,
            },
        )
        raise refusal
    checked = check_password(session, user, password)  # `user` itself, when the password is right
    if checked is None:
        after = _failed(session, key, state.failures + 1, settings, now)
        reason = "unknown_user" if user is None else "inactive" if not user.active else "wrong_password"
        record(
            session,
            actor=ACTOR,
            action="login.failed",
            object_type=object_type,
            object_id=object_id,
            details={
                **seen,
                "reason": reason,
                "failures": after.failures,
                "locked": after.locked,
                "wait_seconds": math.ceil((after.not_before - now).total_seconds()) if after.not_before else 0,
            },
        )
        raise LoginFailed()
    session.execute(delete(T).where(T.c.bucket == BUCKET, T.c.key == key))
    return checked


def lock_states(session: Session, keyring: Keyring, settings: Settings, users: list[User]) -> dict[str, LockState]:
    """Users with failed logins on record, by user id: their failures and any wait or lock now running."""
    keys = {account_key(keyring, u.username): u.id for u in users}
    now = utcnow()
    reset = now - timedelta(minutes=settings.login_failure_reset_minutes)
    rows = session.execute(
        select(T.c.key, T.c.count, T.c.until, T.c.updated_at).where(
            T.c.bucket == BUCKET, T.c.key.in_(list(keys)), T.c.count > 0
        )
    ).all()
    states = {}
    for key, count, until, last in rows:
        if last > reset:
            running = until if until and until > now else None
            states[keys[key]] = LockState(count, running, running is not None and count >= settings.login_lock_failures)
    return states


def unlock(session: Session, keyring: Keyring, settings: Settings, user: User, *, actor: str) -> LockState | None:
    """End the user's lock or wait and forget their failed logins (audited); None when there were none."""
    key = account_key(keyring, user.username)
    now = utcnow()
    row = session.execute(
        select(T.c.count, T.c.until).where(T.c.bucket == BUCKET, T.c.key == key, T.c.slot == 0).with_for_update()
    ).first()
    if row is None:
        return None
    count, until = row  # by position: `row.count` is also the name of a tuple method
    if not count:
        return None
    session.execute(delete(T).where(T.c.bucket == BUCKET, T.c.key == key))
    running = until if until and until > now else None
    was = LockState(count, running, running is not None and count >= settings.login_lock_failures)
    record(
        session,
        actor=actor,
        action="user.unlocked",
        object_type="user",
        object_id=user.id,
        details={"failures": was.failures, "was_locked": was.locked, "was_waiting": running is not None},
    )
    return was
