"""The audit chain: one row per state change, each keyed-hashing the one before it (see privet.audit.chain)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from privet.db.append_only import guard
from privet.db.base import Base


class AuditEvent(Base):
    """One state change. `hash` = HMAC-SHA256 under the installation's audit key of the canonical JSON of every
    other column (prev_hash included); events written before the chain was keyed carry a plain SHA-256 instead."""

    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False
    )
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(80), index=True)
    object_type: Mapped[str] = mapped_column(String(60))
    object_id: Mapped[str] = mapped_column(String(200))
    details: Mapped[dict]
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


guard(AuditEvent.__table__)  # the database refuses UPDATE and DELETE (privet.db.append_only)


class AuditHead(Base):
    """A single row holding the chain's last seq and hash: the append lock and a guard against truncation.

    `keyed_from` is the first event written with the key (1 for chains keyed from the start; NULL while a chain
    written before keying is not yet sealed); `mac` keys (seq, hash, keyed_from), so moving the head back over
    removed events, or the point where keying began, takes the key.
    """

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    hash: Mapped[str] = mapped_column(String(64))
    keyed_from: Mapped[int | None] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    mac: Mapped[str | None] = mapped_column(String(64))
