"""Browser sessions: a random cookie (stored only as its SHA-256) plus a CSRF token for unsafe methods."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from privet.audit.service import record
from privet.auth.models import User, WebSession
from privet.auth.principal import Principal
from privet.auth.scopes import ROLES
from privet.kit.clock import utcnow

# Every user may see and change their own account; while a one-time password is in use, nothing more.
ONE_TIME_SCOPES = frozenset({"account:self"})


def session_id(cookie: str) -> str:
    """The stored id of a session cookie."""
    return hashlib.sha256(cookie.encode()).hexdigest()


def user_scopes(user: User) -> frozenset[str]:
    """The scopes a user holds now: the role's plus their own account, or only that while the password is one-time."""
    if user.must_change_password:
        return ONE_TIME_SCOPES
    return ROLES.get(user.role, frozenset()) | ONE_TIME_SCOPES


def start_session(session: Session, user: User, ttl_minutes: int) -> tuple[str, str]:
    """Open a session for `user`; returns (cookie token, CSRF token)."""
    cookie, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        WebSession(
            id=session_id(cookie),
            user_id=user.id,
            csrf_token=csrf,
            created_at=now,
            expires_at=now + timedelta(minutes=ttl_minutes),
        )
    )
    session.flush()
    record(
        session,
        actor=f"user:{user.username}",
        action="session.started",
        object_type="user",
        object_id=user.id,
        details={"ttl_minutes": ttl_minutes},
    )
    return cookie, csrf


def _live(session: Session, cookie: str) -> tuple[WebSession, User] | None:
    if not cookie or len(cookie) > 200:
        return None
    row = session.execute(
        select(WebSession, User).join(User, User.id == WebSession.user_id).where(WebSession.id == session_id(cookie))
    ).first()
    if row is None:
        return None
    web, user = row
    if web.revoked_at is not None or web.expires_at <= utcnow() or not user.active:
        return None
    return web, user


def principal_for_session(session: Session, cookie: str) -> Principal | None:
    """The user behind a session cookie, or None when it is unknown, expired, revoked or the user inactive."""
    live = _live(session, cookie)
    if live is None:
        return None
    web, user = live
    return Principal(kind="user", id=user.id, name=user.username, scopes=user_scopes(user), session_id=web.id)


def csrf_ok(session: Session, cookie: str, token: str) -> bool:
    """True when `token` is the live session's CSRF token (compared in constant time)."""
    live = _live(session, cookie)
    return live is not None and bool(token) and hmac.compare_digest(live[0].csrf_token.encode(), token.encode())


def end_session(session: Session, cookie: str) -> bool:
    """Revoke the session behind `cookie`; False when there was none live."""
    live = _live(session, cookie)
    if live is None:
        return False
    web, user = live
    web.revoked_at = utcnow()
    session.flush()
    record(
        session,
        actor=f"user:{user.username}",
        action="session.ended",
        object_type="user",
        object_id=user.id,
        details={},
    )
    return True
