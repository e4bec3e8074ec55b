"""The consent ledger: validated, append-only records with the ISO/IEC TS 27560 fields.

A record is never updated or deleted: a withdrawal is a new record, so what was true before it stays provable (P17).
Each record updates the current-state projection, writes one audit event and queues webhooks, in the caller's
transaction. Nothing is written when a check fails. The checks are in `ledger.checks`, the checks and
writes of many records in `ledger.recording`, shared with the group-commit writer that records concurrent requests
together (`ledger.group_commit`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from privet.consent.ledger.recording import Recording, attach, check_all, write_checked
from privet.consent.models import ConsentRecord
from privet.kit.crypto import Keyring
from privet.kit.errors import NotFound, PrivetError


def record(
    session: Session,
    *,
    subject_id: str | None = None,
    visitor_id: str | None = None,
    purpose: str,
    event: str,
    method: str,
    actor: str,
    categories: list[str] | None = None,
    legal_basis: str | None = None,
    separate_kind: str | None = None,
    notice_key: str | None = None,
    notice_version: int | None = None,
    language: str | None = None,
    jurisdiction: str | None = None,
    guardian_id: str | None = None,
    expires_at: datetime | None = None,
    at: datetime | None = None,
    evidence: dict | None = None,
    client_ip: str | None = None,
    user_agent: str | None = None,
    keyring: Keyring | None = None,
) -> ConsentRecord:
    """Validate and append one record; update the projection, audit it, queue webhooks."""
    return record_all(
        session,
        [
            Recording(
                subject_id=subject_id,
                visitor_id=visitor_id,
                purpose=purpose,
                event=event,
                method=method,
                actor=actor,
                categories=categories,
                legal_basis=legal_basis,
                separate_kind=separate_kind,
                notice_key=notice_key,
                notice_version=notice_version,
                language=language,
                jurisdiction=jurisdiction,
                guardian_id=guardian_id,
                expires_at=expires_at,
                at=at,
                evidence=evidence,
                client_ip=client_ip,
                user_agent=user_agent,
            )
        ],
        keyring=keyring,
    )[0]


def record_all(session: Session, items: list[Recording], *, keyring: Keyring | None = None) -> list[ConsentRecord]:
    """Record every one of these events or none: the first one refused raises its error before any record is
    written (the caller's transaction then rolls back, with any subject created for an identity)."""
    checks, now = check_all(session, items, keyring=keyring)
    for outcome in checks:
        if isinstance(outcome, PrivetError):
            raise outcome
    return attach(session, write_checked(session, items, now))


def grant(session: Session, **kwargs: Any) -> ConsentRecord:
    """Record a given consent (see `record`)."""
    return record(session, event="given", **kwargs)


def withdraw(session: Session, **kwargs: Any) -> ConsentRecord:
    """Record a withdrawal (see `record`); earlier records stay as they were."""
    return record(session, event="withdrawn", **kwargs)


def _split(holder_ids: list[str]) -> tuple[list[str], list[str]]:
    subjects, visitors = [], []
    for holder in holder_ids:
        if holder.startswith("v:"):
            visitors.append(holder[2:])
        else:
            subjects.append(holder[2:] if holder.startswith("s:") else holder)
    return subjects, visitors


def history(session: Session, holder_ids: list[str], purpose: str | None = None) -> list[ConsentRecord]:
    """Every record of these holders (subject ids, "s:<id>" or "v:<visitor id>"), oldest first by (at, seq)."""
    subjects, visitors = _split(holder_ids)
    if not subjects and not visitors:
        return []
    stmt = select(ConsentRecord).where(
        or_(ConsentRecord.subject_id.in_(subjects), ConsentRecord.visitor_id.in_(visitors))
    )
    if purpose is not None:
        stmt = stmt.where(ConsentRecord.purpose == purpose)
    return list(session.execute(stmt.order_by(ConsentRecord.at, ConsentRecord.seq)).scalars())


def get_record(session: Session, record_id: str) -> ConsentRecord:
    """A ledger record by its public id, or NotFound."""
    found = session.execute(select(ConsentRecord).where(ConsentRecord.id == record_id)).scalar_one_or_none()
    if found is None:
        raise NotFound("No consent record has this id", "record ids are on receipts and in the subject's history")
    return found
