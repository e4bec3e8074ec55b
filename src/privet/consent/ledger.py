"""The consent ledger: validated, append-only records with the ISO/IEC TS 27560 fields.

A record is never updated or deleted: a withdrawal is a new record, so what was true before it stays provable (P17).
Each record updates the current-state projection, writes one audit event and queues webhooks, in the caller's
transaction. Nothing is written when a check fails. The checks and writes themselves are in `consent.batch`,
shared with the group-commit writer that records concurrent requests together (`consent.writer`).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import Session

from privet.consent import projection
from privet.consent.batch import Recording
from privet.consent.models import ConsentRecord
from privet.consent.rules import METHODS, Policy, check_categories, legal_basis_for, purpose_rule
from privet.kit.clock import utcnow
from privet.kit.crypto import Keyring
from privet.kit.errors import InvalidInput, NotFound, PrivetError, Problem

DEFAULT_NOTICE = "privacy-policy"
EVIDENCE_KEYS = frozenset({"client", "user_agent", "notice_id", "gpc", "gpc_honoured", "source", "source_id",
                           "banner_choice", "reason"})
VISITOR_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")
LANGUAGE = re.compile(r"^[a-z]{2}(_[A-Z]{2})?$")
FUTURE_SKEW = timedelta(minutes=5)  # clocks of callers differ a little; further in the future is a mistake


def _bad(message: str, where: str, hint: str) -> InvalidInput:
    return InvalidInput(message, hint, [Problem(message, where, hint)])


def aware(moment: datetime | None, where: str = "at") -> datetime | None:
    """A timezone-aware UTC datetime; naive ones are refused (their zone is unknown)."""
    if moment is None:
        return None
    if not isinstance(moment, datetime) or moment.tzinfo is None:
        raise _bad("A time needs a timezone", where, "send ISO 8601 with an offset, e.g. 2024-05-01T08:00:00Z")
    return moment.astimezone(timezone.utc)


def check_evidence(evidence: dict | None, *, keyring: Keyring | None = None, client_ip: str | None = None,
                   user_agent: str | None = None) -> dict:
    """Evidence kept with a record: only a hashed client address, the user agent, the notice id and flags."""
    out: dict[str, Any] = {}
    for key, value in (evidence or {}).items():
        if key not in EVIDENCE_KEYS:
            raise _bad(f"Evidence cannot hold {key!r}", f"evidence.{key}",
                       "keep to: " + ", ".join(sorted(EVIDENCE_KEYS)) + " (client addresses are hashed by Privet)")
        if not isinstance(value, (str, bool, int, dict)) or (isinstance(value, str) and len(value) > 300):
            raise _bad("Evidence values are short text, numbers or flags", f"evidence.{key}", "send at most "
                       "300 characters")
        out[key] = value
    if client_ip:
        if keyring is None:
            raise ValueError("hashing a client address needs the keyring")
        out["client"] = keyring.fingerprint(client_ip)
    if user_agent:
        out["user_agent"] = user_agent[:300]
    return out


_notice_sql: dict[str, object] = {}  # Core statements, built once


def _notice(session: Session, key: str, version: int | None) -> tuple[int | None, str | None]:
    """(version, notice version id): the given version, checked, or the notice's current one."""
    found = find_notice(session, key, version)
    if found is None:
        raise _bad(f"Notice {key!r} has no version {version}", "notice_version",
                   "send a published version (privet notices list), or leave it out for the current one")
    return found


def find_notice(session: Session, key: str, version: int | None) -> tuple[int | None, str | None] | None:
    """(version, id) of the given version or of the notice's latest, (None, None) for an unpublished notice's
    latest, None for a given version that does not exist."""
    if not _notice_sql:
        from privet.notices.models import Notice, NoticeVersion

        n, v = Notice.__table__.c, NoticeVersion.__table__.c
        joined = NoticeVersion.__table__.join(Notice.__table__, n.id == v.notice_id)
        _notice_sql["latest"] = (select(v.version, v.id).select_from(joined).where(n.key == bindparam("key"))
                                 .order_by(v.version.desc()).limit(1))
        _notice_sql["given"] = select(v.version, v.id).select_from(joined).where(
            n.key == bindparam("key"), v.version == bindparam("version"))
    session.flush()  # a notice published earlier in this transaction counts
    if version is None:  # the latest published version (notices.service.current_version), in one query
        latest = session.connection().execute(_notice_sql["latest"], {"key": key}).first()
        return (latest[0], latest[1]) if latest else (None, None)
    found = session.connection().execute(_notice_sql["given"], {"key": key, "version": version}).first()
    return (version, found[1]) if found is not None else None


def record(session: Session, *, subject_id: str | None = None, visitor_id: str | None = None, purpose: str,
           event: str, method: str, actor: str, categories: list[str] | None = None,
           legal_basis: str | None = None, separate_kind: str | None = None, notice_key: str | None = None,
           notice_version: int | None = None, language: str | None = None, jurisdiction: str | None = None,
           guardian_id: str | None = None, expires_at: datetime | None = None, at: datetime | None = None,
           evidence: dict | None = None, client_ip: str | None = None, user_agent: str | None = None,
           keyring: Keyring | None = None) -> ConsentRecord:
    """Validate and append one record; update the projection, audit it, queue webhooks."""
    return record_all(session, [Recording(
        subject_id=subject_id, visitor_id=visitor_id, purpose=purpose, event=event, method=method, actor=actor,
        categories=categories, legal_basis=legal_basis, separate_kind=separate_kind, notice_key=notice_key,
        notice_version=notice_version, language=language, jurisdiction=jurisdiction, guardian_id=guardian_id,
        expires_at=expires_at, at=at, evidence=evidence, client_ip=client_ip, user_agent=user_agent)],
        keyring=keyring)[0]


def record_all(session: Session, items: list[Recording], *, keyring: Keyring | None = None) -> list[ConsentRecord]:
    """Record every one of these events or none: the first one refused raises its error before any record is
    written (the caller's transaction then rolls back, with any subject created for an identity)."""
    from privet.consent.batch import attach, check_all, write_checked

    checks, now = check_all(session, items, keyring=keyring)
    for outcome in checks:
        if isinstance(outcome, PrivetError):
            raise outcome
    return attach(session, write_checked(session, items, now))


def prepare(policy: Policy, *, subject_id: str | None, visitor_id: str | None, purpose: str, event: str,
            method: str, categories: list[str] | None = None, legal_basis: str | None = None,
            separate_kind: str | None = None, language: str | None = None, jurisdiction: str | None = None,
            guardian_id: str | None = None, expires_at: datetime | None = None,
            at: datetime | None = None, now: datetime | None = None) -> dict:
    """The checked ledger columns of one record, without touching the store (the importer uses it per row)."""
    if (subject_id is None) == (visitor_id is None):
        raise _bad("A record is for exactly one subject or one visitor", "subject_id",
                   "send either subject_id or visitor_id")
    if visitor_id is not None and not VISITOR_ID.match(visitor_id):
        raise _bad("A visitor id is 8 to 64 letters, digits or . _ : -", "visitor_id",
                   "send the id from the banner's first-party cookie")
    if visitor_id is not None and guardian_id is not None:
        raise _bad("An anonymous visitor cannot have a guardian", "guardian_id", "leave guardian_id out")
    if method not in METHODS:
        raise _bad(f"Unknown collection method {method!r}", "method", "use one of: " + ", ".join(METHODS))
    rule = purpose_rule(policy, purpose)
    cats = check_categories(policy, categories)
    basis, kind = legal_basis_for(policy, rule, event, cats, legal_basis, separate_kind)
    now = now or utcnow()
    at = aware(at) or now
    if at > now + FUTURE_SKEW:
        raise _bad("The record's time is in the future", "at", "send when the person acted (not later than now)")
    expires_at = aware(expires_at, "expires_at")
    if expires_at is not None and expires_at <= at:
        raise _bad("A consent cannot expire before it was given", "expires_at", "send a time after `at`")
    if language is not None and not LANGUAGE.match(language):
        raise _bad("Unknown language code", "language", "use en or zh_CN")
    jurisdiction = jurisdiction or policy.organisation.get("region")
    if jurisdiction is not None and not re.match(r"^[A-Za-z][A-Za-z0-9_-]{0,9}$", jurisdiction):
        raise _bad("A jurisdiction is a short region code", "jurisdiction", "use e.g. CN, EU, US-CA")
    return {"subject_id": subject_id, "visitor_id": visitor_id, "purpose": purpose, "categories": cats,
            "legal_basis": basis, "separate_kind": kind, "event": event, "at": at, "expires_at": expires_at,
            "language": language, "method": method, "jurisdiction": jurisdiction, "guardian_id": guardian_id}


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
    stmt = select(ConsentRecord).where(or_(ConsentRecord.subject_id.in_(subjects),
                                           ConsentRecord.visitor_id.in_(visitors)))
    if purpose is not None:
        stmt = stmt.where(ConsentRecord.purpose == purpose)
    return list(session.execute(stmt.order_by(ConsentRecord.at, ConsentRecord.seq)).scalars())


def get_record(session: Session, record_id: str) -> ConsentRecord:
    """A ledger record by its public id, or NotFound."""
    found = session.execute(select(ConsentRecord).where(ConsentRecord.id == record_id)).scalar_one_or_none()
    if found is None:
        raise NotFound("No consent record has this id", "record ids are on receipts and in the subject's history")
    return found


def overview(session: Session, subject_id: str) -> dict:
    """A subject's current states and full history (its merged ids and linked visitors included), and channels."""
    from privet.consent import channels
    from privet.consent.visitors import holders
    from privet.subjects.service import get_subject, holder_ids

    subject = get_subject(session, subject_id)
    keys = holders(session, holder_ids(session, subject))
    return {"subject_id": subject.id, "states": projection.states(session, keys), "history": history(session, keys),
            "channels": channels.preferences(session, subject.id)}
