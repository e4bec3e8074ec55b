"""API keys: `pvt_<prefix>_<secret>`, shown once, stored as a SHA-256, scoped."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from datetime import datetime, timedelta

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from privet.audit.service import record
from privet.auth.models import ApiKey
from privet.auth.principal import Principal
from privet.auth.scopes import SCOPES
from privet.db.limits import GENERATION, T, bump, generation
from privet.kit.clock import utcnow
from privet.kit.errors import Conflict, InvalidInput, NotFound, Problem

# prefix: "pk_" + 8 hex (public, shown in lists and audit); secret: 32 random bytes, base64url (43 chars)
TOKEN = re.compile(r"^pvt_(pk_[0-9a-f]{8})_([A-Za-z0-9_-]{43})$")
LAST_USED_EVERY = timedelta(minutes=1)  # one write per key per minute at most, not one per request
# A key checked against the store is remembered by this process with the store's revocation generation read just
# before the check. Every later request reads that generation again (`privet.auth.callers`: one row by its primary
# key) and uses the memory only while it is unchanged; revoking a key bumps it in the same transaction, so from the
# revocation's commit on, the next request in every process checks the key in the store again and is refused.
# A remembered key is also checked again after RECENT_SECONDS (its last-used time) and never past its own expiry.
RECENT_SECONDS = 5.0
RECENT_MAX = 10_000
REVOKED = "apikeys.revoked"
_recent: dict[str, tuple[float, int, Principal]] = {}


def revocations_statement() -> Select[tuple[int]]:
    """The API-key revocation generation (one row by primary key; no row before the first revocation)."""
    return select(T.c.count).where(T.c.bucket == GENERATION, T.c.key == REVOKED, T.c.slot == 0)


def known_principal(token: str, current: int) -> Principal | None:
    """The principal of a token checked under revocation generation `current` in the last few seconds, without
    touching the store (None: check it there)."""
    entry = _recent.get(token)
    if entry is None:
        return None
    until, checked_under, principal = entry
    if checked_under != current or until <= time.monotonic():
        _recent.pop(token, None)
        return None
    return principal


def is_known(token: str) -> bool:
    """Whether this process remembers a check of `token` (which `known_principal` may still refuse)."""
    return token in _recent


def _remember(token: str, principal: Principal, expires_at: datetime | None, checked_under: int) -> None:
    if len(_recent) >= RECENT_MAX:
        _recent.clear()
    until = time.monotonic() + RECENT_SECONDS
    if expires_at is not None:  # never trust a key past its own expiry
        until = min(until, time.monotonic() + (expires_at - utcnow()).total_seconds())
    _recent[token] = (until, checked_under, principal)


def forget_recent() -> None:
    """Drop every remembered key check."""
    _recent.clear()


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _check_scopes(scopes: list[str]) -> list[str]:
    valid = ", ".join(sorted(SCOPES))
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown:
        raise InvalidInput(
            f"Unknown scope(s): {', '.join(unknown)}",
            f"use any of: {valid}",
            [Problem(f"unknown scope {s!r}", "scopes", f"use any of: {valid}") for s in unknown],
        )
    if not scopes:
        raise InvalidInput("An API key needs at least one scope", f"use any of: {valid}")
    return sorted(set(scopes))


def create_api_key(
    session: Session, name: str, scopes: list[str], *, actor: str, expires_at: datetime | None = None
) -> tuple[ApiKey, str]:
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
    key = ApiKey(
        name=name, prefix=prefix, key_hash=_digest(token), scopes=scopes, created_by=actor, expires_at=expires_at
    )
    session.add(key)
    session.flush()
    record(
        session,
        actor=actor,
        action="apikey.created",
        object_type="apikey",
        object_id=key.id,
        details={"prefix": prefix, "scopes": scopes, "expires_at": expires_at.isoformat() if expires_at else None},
    )
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
    bump(session, REVOKED)  # committed with the revocation: every process checks its remembered keys again
    record(
        session,
        actor=actor,
        action="apikey.revoked",
        object_type="apikey",
        object_id=key.id,
        details={"prefix": key.prefix},
    )
    return key


def principal_for_api_key(session: Session, token: str) -> Principal | None:
    """The caller behind a bearer token, or None when it is malformed, unknown, revoked or expired."""
    match = TOKEN.match(token or "")
    if not match:
        return None
    # The generation first: a revocation committed between the two reads makes the key read see it revoked, or
    # leaves this check remembered under the old generation (so it is not used once the new one is read).
    checked_under = generation(session, REVOKED)
    key = session.scalar(select(ApiKey).where(ApiKey.prefix == match.group(1)))
    if key is None or not hmac.compare_digest(key.key_hash, _digest(token)):
        return None
    now = utcnow()
    if key.revoked_at is not None or (key.expires_at is not None and key.expires_at <= now):
        return None
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_EVERY:
        key.last_used_at = now  # written when the caller commits (best effort: see auth.callers)
    principal = Principal(kind="apikey", id=key.id, name=key.prefix, scopes=frozenset(key.scopes))
    _remember(token, principal, key.expires_at, checked_under)
    return principal
