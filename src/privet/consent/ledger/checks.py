"""The checks of one consent record, without writing: its columns against the rules (`prepare`), its evidence, its
time and the notice version it names. Every refusal is an InvalidInput saying what to fix.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session

from privet.consent.ledger.rules import METHODS, Policy, check_categories, legal_basis_for, purpose_rule
from privet.kit.clock import utcnow
from privet.kit.crypto import Keyring
from privet.kit.errors import InvalidInput, Problem

DEFAULT_NOTICE = "privacy-policy"
EVIDENCE_KEYS = frozenset(
    {"client", "user_agent", "notice_id", "gpc", "gpc_honoured", "source", "source_id", "banner_choice", "reason"}
)
VISITOR_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")
LANGUAGE = re.compile(r"^[a-z]{2}(_[A-Z]{2})?$")
FUTURE_SKEW = timedelta(minutes=5)  # clocks of callers differ a little; further in the future is a mistake


def bad(message: str, where: str, hint: str) -> InvalidInput:
    return InvalidInput(message, hint, [Problem(message, where, hint)])


def aware(moment: datetime | None, where: str = "at") -> datetime | None:
    """A timezone-aware UTC datetime; naive ones are refused (their zone is unknown)."""
    if moment is None:
        return None
    if not isinstance(moment, datetime) or moment.tzinfo is None:
        raise bad("A time needs a timezone", where, "send ISO 8601 with an offset, e.g. 2024-05-01T08:00:00Z")
    return moment.astimezone(UTC)


def check_evidence(
    evidence: dict | None,
    *,
    keyring: Keyring | None = None,
    client_ip: str | None = None,
    user_agent: str | None = None,
) -> dict:
    """Evidence kept with a record: only a hashed client address, the user agent, the notice id and flags."""
    out: dict[str, Any] = {}
    for key, value in (evidence or {}).items():
        if key not in EVIDENCE_KEYS:
            raise bad(
                f"Evidence cannot hold {key!r}",
                f"evidence.{key}",
                "keep to: " + ", ".join(sorted(EVIDENCE_KEYS)) + " (client addresses are hashed by Privet)",
            )
        if not isinstance(value, (str, bool, int, dict)) or (isinstance(value, str) and len(value) > 300):
            raise bad(
                "Evidence values are short text, numbers or flags", f"evidence.{key}", "send at most 300 characters"
            )
        out[key] = value
    if client_ip:
        if keyring is None:
            raise ValueError("hashing a client address needs the keyring")
        out["client"] = keyring.fingerprint(client_ip)
    if user_agent:
        out["user_agent"] = user_agent[:300]
    return out


_notice_sql: dict[str, Select[Any]] = {}  # Core statements, built once


def checked_notice(session: Session, key: str, version: int | None) -> tuple[int | None, str | None]:
    """(version, notice version id): the given version, checked, or the notice's current one."""
    found = find_notice(session, key, version)
    if found is None:
        raise bad(
            f"Notice {key!r} has no version {version}",
            "notice_version",
            "send a published version (privet notices list), or leave it out for the current one",
        )
    return found


def find_notice(session: Session, key: str, version: int | None) -> tuple[int | None, str | None] | None:
    """(version, id) of the given version or of the notice's latest, (None, None) for an unpublished notice's
    latest, None for a given version that does not exist."""
    if not _notice_sql:
        from privet.notices.models import Notice, NoticeVersion

        n, v = Notice.__table__.c, NoticeVersion.__table__.c
        joined = NoticeVersion.__table__.join(Notice.__table__, n.id == v.notice_id)
        _notice_sql["latest"] = (
            select(v.version, v.id)
            .select_from(joined)
            .where(n.key == bindparam("key"))
            .order_by(v.version.desc())
            .limit(1)
        )
        _notice_sql["given"] = (
            select(v.version, v.id)
            .select_from(joined)
            .where(n.key == bindparam("key"), v.version == bindparam("version"))
        )
    session.flush()  # a notice published earlier in this transaction counts
    if version is None:  # the latest published version (notices.service.current_version), in one query
        latest = session.connection().execute(_notice_sql["latest"], {"key": key}).first()
        return (latest[0], latest[1]) if latest else (None, None)
    found = session.connection().execute(_notice_sql["given"], {"key": key, "version": version}).first()
    return (version, found[1]) if found is not None else None


def prepare(
    policy: Policy,
    *,
    subject_id: str | None,
    visitor_id: str | None,
    purpose: str,
    event: str,
    method: str,
    categories: list[str] | None = None,
    legal_basis: str | None = None,
    separate_kind: str | None = None,
    language: str | None = None,
    jurisdiction: str | None = None,
    guardian_id: str | None = None,
    expires_at: datetime | None = None,
    at: datetime | None = None,
    now: datetime | None = None,
) -> dict:
    """The checked ledger columns of one record, without touching the store (the importer uses it per row)."""
    if (subject_id is None) == (visitor_id is None):
        raise bad(
            "A record is for exactly one subject or one visitor", "subject_id", "send either subject_id or visitor_id"
        )
    if visitor_id is not None and not VISITOR_ID.match(visitor_id):
        raise bad(
            "A visitor id is 8 to 64 letters, digits or . _ : -",
            "visitor_id",
            "send the id from the banner's first-party cookie",
        )
    if visitor_id is not None and guardian_id is not None:
        raise bad("An anonymous visitor cannot have a guardian", "guardian_id", "leave guardian_id out")
    if method not in METHODS:
        raise bad(f"Unknown collection method {method!r}", "method", "use one of: " + ", ".join(METHODS))
    rule = purpose_rule(policy, purpose)
    cats = check_categories(policy, categories)
    basis, kind = legal_basis_for(policy, rule, event, cats, legal_basis, separate_kind)
    now = now or utcnow()
    at = aware(at) or now
    if at > now + FUTURE_SKEW:
        raise bad("The record's time is in the future", "at", "send when the person acted (not later than now)")
    expires_at = aware(expires_at, "expires_at")
    if expires_at is not None and expires_at <= at:
        raise bad("A consent cannot expire before it was given", "expires_at", "send a time after `at`")
    if language is not None and not LANGUAGE.match(language):
        raise bad("Unknown language code", "language", "use en or zh_CN")
    jurisdiction = jurisdiction or policy.organisation.get("region")
    if jurisdiction is not None and not re.match(r"^[A-Za-z][A-Za-z0-9_-]{0,9}$", jurisdiction):
        raise bad("A jurisdiction is a short region code", "jurisdiction", "use e.g. CN, EU, US-CA")
    return {
        "subject_id": subject_id,
        "visitor_id": visitor_id,
        "purpose": purpose,
        "categories": cats,
        "legal_basis": basis,
        "separate_kind": kind,
        "event": event,
        "at": at,
        "expires_at": expires_at,
        "language": language,
        "method": method,
        "jurisdiction": jurisdiction,
        "guardian_id": guardian_id,
    }
