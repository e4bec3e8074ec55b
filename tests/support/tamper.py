"""What someone with write access to the database (and no key) can do to Privet's append-only tables."""

from __future__ import annotations

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from privet.db import append_only

GUARDED = ("audit_events", "consent_records")


def lift_guards(target: Session | Connection) -> None:
    """Drop the append-only triggers, as an attacker with DDL rights would. Inside the caller's transaction: the
    per-test rollback (SQLite and PostgreSQL DDL is transactional) puts them back."""
    connection = target.connection() if isinstance(target, Session) else target
    for table in GUARDED:
        append_only.uninstall(connection, table)
