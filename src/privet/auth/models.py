"""Auth tables: admin console users, API keys for services, and browser sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from privet.db.base import Base, IdMixin
from privet.kit.clock import utcnow

ROLE_NAMES = ("admin", "privacy_officer", "agent", "auditor")


class User(IdMixin, Base):
    """A person who logs in to the admin console. Never deleted, only deactivated (the audit chain names them)."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint("role IN ('admin', 'privacy_officer', 'agent', 'auditor')", name="role"),)

    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))  # argon2id PHC string, salt and parameters included
    role: Mapped[str] = mapped_column(String(30))
    active: Mapped[bool] = mapped_column(default=True)
    must_change_password: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]


class ApiKey(IdMixin, Base):
    """A credential for a service, holding a fixed list of scopes.

    Only a SHA-256 of the token is stored. A slow password hash (argon2) protects low-entropy secrets
    that people choose; these tokens are 256 random bits, so brute force is hopeless whatever the hash,
    and a fast hash keeps every authenticated request cheap.
    """

    __tablename__ = "api_keys"

    name: Mapped[str] = mapped_column(String(120))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)  # public handle, e.g. pk_ab12cd34
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 hex of the whole token
    scopes: Mapped[list]
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class WebSession(Base):
    """A logged-in browser. The id is the SHA-256 of the cookie, so a leaked table cannot be replayed."""

    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
