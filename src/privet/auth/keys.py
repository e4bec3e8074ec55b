"""API keys: `pvt_<prefix>_<secret>`, shown once, stored as a SHA-256, scoped."""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import re
import secrets
import threading
import time
from datetime import datetime, timedelta

from sqlalchemy import Engine, or_, select
from sqlalchemy.orm import Session

from privet.audit.service import record
from privet.auth.deps import Principal
from privet.auth.models import ApiKey
from privet.auth.scopes import SCOPES
from privet.db.limits import bump, generation
from privet.kit.clock import utcnow
from privet.kit.errors import Conflict, InvalidInput, NotFound, Problem

# prefix: "pk_" + 8 hex (public, shown in lists and audit); secret: 32 random bytes, base64url (43 chars)
TOKEN = re.compile(r"^pvt_(pk_[0-9a-f]{8})_([A-Za-z0-9_-]{43})$")
LAST_USED_EVERY = timedelta(minutes=1)  # one write per key per minute at most, not one per request
# Checked keys are trusted from this process's memory for up to RECENT_SECONDS: authentication would otherwise be a
# store round trip per request (the decision API's main cost). Revocation must still reach every process at once, so
# a revocation also bumps a generation number in the store (`privet.db.limits`, same transaction), and a remembered
# key is used only while (1) it was checked under the generation this process knows and (2) this process confirmed
# that generation against the store less than FRESH_SECONDS ago. A background thread re-reads the generation every
# REFRESH_SECONDS while keys are remembered (one tiny query, never on a request's path); if it falls behind (store
# unreachable), requests simply check their key against the store again. Hence a key revoked at time T is refused by
# every process from T + FRESH_SECONDS on, and revoking answers only then (`SETTLE_SECONDS`).
RECENT_SECONDS = 5.0
RECENT_MAX = 10_000
REFRESH_SECONDS = 0.1
FRESH_SECONDS = 0.5
SETTLE_SECONDS = FRESH_SECONDS + 0.05
REVOKED = "apikeys.revoked"
_recent: dict[str, tuple[float, int, Principal]] = {}
log = logging.getLogger("privet.auth")


class _Generation:
    """The store's revocation generation as this process last confirmed it, and the thread that keeps it fresh."""

    def __init__(self) -> None:
        self.value: int | None = None
        self.confirmed = -math.inf  # monotonic time the confirming read started
        self.lock = threading.Lock()
        self.engine: Engine | None = None
        self.thread: threading.Thread | None = None
        self.failed_at = -math.inf

    def confirm(self, value: int, started: float) -> None:
        """Adopt a read of the generation that started at `started`, unless a later-started read came first."""
        with self.lock:
            if started <= self.confirmed:
                return
            if value != self.value:
                _recent.clear()  # entries of the old generation are unusable anyway; free them
                self.value = value
            self.confirmed = started

    def watch(self, engine: Engine) -> None:
        """Keep the generation fresh from `engine` in a background thread (started once per process)."""
        with self.lock:
            self.engine = engine
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._run, name="privet-key-revocations", daemon=True)
                self.thread.start()

    def _run(self) -> None:
        while True:
            time.sleep(REFRESH_SECONDS)
            engine = self.engine
            if engine is None or not _recent:  # nothing remembered: nothing to keep fresh
                continue
            started = time.monotonic()
            try:
                with engine.connect() as connection:
                    value = generation(connection, REVOKED)
            except Exception as exc:  # noqa: BLE001 - store unreachable: requests check keys themselves meanwhile
                if started - self.failed_at > 60:
                    self.failed_at = started
                    log.warning("cannot read the API-key revocation generation (%s); keys are checked against "
                                "the store on each request until it can", type(exc).__name__)
                continue
            self.confirm(value, started)


_generation = _Generation()


def recent_principal(token: str) -> Principal | None:
    """The principal of a token checked in the last few seconds, without touching the store (None: check it)."""
    entry = _recent.get(token)
    if entry is None:
        return None
    until, checked_under, principal = entry
    now = time.monotonic()
    if until <= now:
        _recent.pop(token, None)
        return None
    if checked_under != _generation.value or now - _generation.confirmed > FRESH_SECONDS:
        return None  # a key may have been revoked since: the caller checks against the store
    return principal


def _remember(token: str, principal: Principal, expires_at: datetime | None, checked_under: int) -> None:
    if len(_recent) >= RECENT_MAX:
        _recent.clear()
    until = time.monotonic() + RECENT_SECONDS
    if expires_at is not None:  # never trust a key past its own expiry
        until = min(until, time.monotonic() + (expires_at - utcnow()).total_seconds())
    _recent[token] = (until, checked_under, principal)


def forget_recent() -> None:
    """Drop every remembered key check (after a revocation)."""
    _recent.clear()


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _check_scopes(scopes: list[str]) -> list[str]:
    valid = ", ".join(sorted(SCOPES))
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown:
        raise InvalidInput(f"Unknown scope(s): {', '.join(unknown)}", f"use any of: {valid}",
                           [Problem(f"unknown scope {s!r}", "scopes", f"use any of: {valid}") for s in unknown])
    if not scopes:
        raise InvalidInput("An API key needs at least one scope", f"use any of: {valid}")
    return sorted(set(scopes))


def create_api_key(session: Session, name: str, scopes: list[str], *, actor: str,
                   expires_at: datetime | None = None) -> tuple[ApiKey, str]:
    """Create a key; returns it and the full token, which is never retrievable again."""
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise InvalidInput("An API key needs a name of 1–120 characters", "name it after the service using it")
    scopes = _check_scopes(list(scopes))
    if expires_at is not None and expires_at <= utcnow():
        raise InvalidInput("The expiry time is in the past", "give a future time, or none for no expiry")
    prefix = f"pk_{secrets.token_hex(4)}"
    while session.scalar(select(ApiKey.id).where(ApiKey.prefix == prefix)) is not None:
        prefix = f"pk_{secrets.token_hex(4)}"  # 32-bit prefixes collide rarely; the unique index backs this up
    token = f"pvt_{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey(name=name, prefix=prefix, key_hash=_digest(token), scopes=scopes, created_by=actor,
                 expires_at=expires_at)
    session.add(key)
    session.flush()
    record(session, actor=actor, action="apikey.created", object_type="apikey", object_id=key.id,
           details={"prefix": prefix, "scopes": scopes,
                    "expires_at": expires_at.isoformat() if expires_at else None})
    return key, token


def list_api_keys(session: Session) -> list[ApiKey]:
    """All keys, newest first (revoked ones included, for the record)."""
    return list(session.scalars(select(ApiKey).order_by(ApiKey.created_at.desc(), ApiKey.id.desc())))


def find_api_key(session: Session, id_or_prefix: str) -> ApiKey:
    """A key by id or public prefix; NotFound otherwise."""
    key = session.scalar(select(ApiKey).where(or_(ApiKey.id == id_or_prefix, ApiKey.prefix == id_or_prefix)))
    if key is None:
        raise NotFound(f"No API key {id_or_prefix!r}", "list keys with `privet apikeys list` or GET /auth/apikeys")
    return key


def revoke_api_key(session: Session, id_or_prefix: str, *, actor: str) -> ApiKey:
    """Revoke a key at once; revoking twice is a Conflict so scripts notice a wrong id."""
    key = find_api_key(session, id_or_prefix)
    if key.revoked_at is not None:
        raise Conflict(f"API key {key.prefix} is already revoked", "nothing to do")
    key.revoked_at = utcnow()
    session.flush()
    bump(session, REVOKED)  # committed with the revocation: every process drops its remembered keys
    forget_recent()
    record(session, actor=actor, action="apikey.revoked", object_type="apikey", object_id=key.id,
           details={"prefix": key.prefix})
    return key


def principal_for_api_key(session: Session, token: str) -> Principal | None:
    """The caller behind a bearer token, or None when it is malformed, unknown, revoked or expired."""
    match = TOKEN.match(token or "")
    if not match:
        return None
    # The generation first: a revocation committed between the two reads makes the key read see it revoked, or
    # leaves this check tagged with the old generation (so it is not trusted once the new one is known).
    started = time.monotonic()
    checked_under = generation(session, REVOKED)
    _generation.confirm(checked_under, started)
    key = session.scalar(select(ApiKey).where(ApiKey.prefix == match.group(1)))
    if key is None or not hmac.compare_digest(key.key_hash, _digest(token)):
        return None
    now = utcnow()
    if key.revoked_at is not None or (key.expires_at is not None and key.expires_at <= now):
        return None
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_EVERY:
        key.last_used_at = now  # written when the caller commits (best effort: see auth.deps.require)
    principal = Principal(kind="apikey", id=key.id, name=key.prefix, scopes=frozenset(key.scopes))
    _remember(token, principal, key.expires_at, checked_under)
    bind = session.get_bind()
    if isinstance(bind, Engine):  # not a test's single connection, which no other thread may use
        _generation.watch(bind)
    return principal


def settle_revocation() -> None:
    """Wait until no process trusts a key revoked (and committed) before this call."""
    time.sleep(SETTLE_SECONDS)
