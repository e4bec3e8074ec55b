"""Users, passwords and first admin. API keys and sessions live in `keys.py` and `sessions.py`.

Every function takes a session and never commits; every change writes one audit event whose
details hold ids and flags only — never a password, a token or its hash.
"""

from __future__ import annotations

import re

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from privet.audit.service import record
from privet.auth import passwords
from privet.auth.keys import create_api_key, list_api_keys, principal_for_api_key, revoke_api_key
from privet.auth.models import ROLE_NAMES, User, WebSession
from privet.auth.scopes import ROLES
from privet.auth.sessions import csrf_ok, end_session, principal_for_session, start_session
from privet.kit.clock import utcnow
from privet.kit.errors import Conflict, InvalidInput, NotFound, Problem

__all__ = [
    "authenticate_password",
    "create_api_key",
    "create_user",
    "csrf_ok",
    "deactivate_user",
    "end_session",
    "ensure_first_admin",
    "find_user",
    "list_api_keys",
    "list_users",
    "principal_for_api_key",
    "principal_for_session",
    "revoke_api_key",
    "set_active",
    "set_password",
    "set_role",
    "start_session",
]

FIRST_ADMIN = "admin"
# Handles, not e-mail addresses: usernames appear in audit actors, which must stay free of contact data.
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


def _check_role(role: str) -> None:
    if role not in ROLE_NAMES or role not in ROLES:
        raise InvalidInput(
            f"Unknown role {role!r}",
            f"use one of: {', '.join(ROLE_NAMES)}",
            [Problem(f"unknown role {role!r}", "role", f"use one of: {', '.join(ROLE_NAMES)}")],
        )


def _check_username(username: str) -> None:
    if not _USERNAME.match(username or ""):
        raise InvalidInput(
            "That is not a valid username",
            "use 2–64 lowercase letters, digits, dots, dashes or underscores (a handle, not an e-mail address)",
        )


def create_user(
    session: Session, username: str, role: str, *, password: str | None = None, actor: str
) -> tuple[User, str | None]:
    """Create a user; when no password is given, generate one and return it (the only time it is visible)."""
    _check_username(username)
    _check_role(role)
    if password is not None:
        passwords.check_strength(password)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"A user named {username!r} already exists", "choose another username")
    secret = password if password is not None else passwords.generate_password()
    generated = secret if password is None else None
    user = User(
        username=username,
        role=role,
        password_hash=passwords.hash_password(secret),
        must_change_password=generated is not None,
    )
    session.add(user)
    session.flush()
    record(
        session,
        actor=actor,
        action="user.created",
        object_type="user",
        object_id=user.id,
        details={"role": role, "password_generated": generated is not None},
    )
    return user, generated


def list_users(session: Session) -> list[User]:
    """All users, by username."""
    return list(session.scalars(select(User).order_by(User.username)))


def find_user(session: Session, id_or_username: str) -> User:
    """A user by id or username; NotFound otherwise."""
    user = session.get(User, id_or_username) or session.scalar(select(User).where(User.username == id_or_username))
    if user is None:
        raise NotFound(f"No user {id_or_username!r}", "list users with `privet users list` or GET /auth/users")
    return user


def _other_active_admins(session: Session, user: User) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(User)
            .where(User.role == "admin", User.active.is_(True), User.id != user.id)
        )
        or 0
    )


def _guard_last_admin(session: Session, user: User) -> None:
    # Without an active admin nobody could manage users or keys any more, short of editing the database.
    if user.role == "admin" and user.active and _other_active_admins(session, user) == 0:
        raise Conflict("This is the last active admin", "make another user admin first")


def _revoke_sessions(session: Session, user_id: str, *, keep: str | None = None) -> None:
    stmt = update(WebSession).where(WebSession.user_id == user_id, WebSession.revoked_at.is_(None))
    if keep:
        stmt = stmt.where(WebSession.id != keep)
    session.execute(stmt.values(revoked_at=utcnow()))


def set_role(session: Session, user: User, role: str, *, actor: str) -> User:
    """Change a user's role (refused for the last active admin)."""
    _check_role(role)
    if role == user.role:
        return user
    if role != "admin":
        _guard_last_admin(session, user)
    old, user.role = user.role, role
    session.flush()
    record(
        session,
        actor=actor,
        action="user.role_changed",
        object_type="user",
        object_id=user.id,
        details={"from": old, "to": role},
    )
    return user


def set_active(session: Session, user: User, active: bool, *, actor: str) -> User:
    """Activate or deactivate a user; deactivation ends every session at once."""
    if active == user.active:
        return user
    if not active:
        _guard_last_admin(session, user)
        _revoke_sessions(session, user.id)
    user.active = active
    session.flush()
    record(
        session,
        actor=actor,
        action="user.activated" if active else "user.deactivated",
        object_type="user",
        object_id=user.id,
        details={},
    )
    return user


def deactivate_user(session: Session, user: User, *, actor: str) -> User:
    """Deactivate a user (kept for the audit chain's sake, never deleted)."""
    return set_active(session, user, False, actor=actor)


def set_password(
    session: Session,
    user: User,
    password: str | None = None,
    *,
    actor: str,
    must_change: bool | None = None,
    keep_session: str | None = None,
) -> str | None:
    """Set a password (generated when None, then returned once) and end the user's other sessions.

    `must_change` defaults to True for a generated password (a one-time password), False otherwise.
    """
    if password is not None:
        passwords.check_strength(password)
    secret = password if password is not None else passwords.generate_password()
    generated = secret if password is None else None
    user.password_hash = passwords.hash_password(secret)
    user.must_change_password = generated is not None if must_change is None else must_change
    _revoke_sessions(session, user.id, keep=keep_session)
    session.flush()
    record(
        session,
        actor=actor,
        action="user.password_set",
        object_type="user",
        object_id=user.id,
        details={"password_generated": generated is not None, "must_change": user.must_change_password},
    )
    return generated


def authenticate_password(session: Session, username: str, password: str) -> User | None:
    """The active user with this username and password, or None; takes as long whether or not the user exists.

    This checks the password only: logins go through `privet.auth.logins.log_in`, which throttles and audits.
    """
    return check_password(session, session.scalar(select(User).where(User.username == username)), password)


def check_password(session: Session, user: User | None, password: str) -> User | None:
    """`user` when it is active and `password` is theirs (recording the login time), else None."""
    if not passwords.verify_password(user.password_hash if user else None, password):
        return None
    assert user is not None  # without a user there is no hash, and no password verifies
    if not user.active:
        return None
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    user.last_login_at = utcnow()
    session.flush()
    return user


def ensure_first_admin(session: Session) -> tuple[str, str] | None:
    """On a store without users, create `admin` with a one-time password and return (username, password)."""
    if session.scalar(select(func.count()).select_from(User)):
        return None
    _user, password = create_user(session, FIRST_ADMIN, "admin", actor="system:init")
    assert password is not None  # none was given, so one was generated
    return FIRST_ADMIN, password
