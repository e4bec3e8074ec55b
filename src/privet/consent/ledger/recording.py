"""Recording many consent events in one transaction, each checked on its own.

`record_many` is what `ledger.service.record` runs for one event and what the group-commit writer
(`ledger.group_commit`)
runs for the recordings that concurrent requests of a process hand it. Every check that can refuse an event
runs before anything is written, so a bad event fails alone and the others are written; then all the good ones
are written together with Core statements: one INSERT for the ledger rows, one upsert per holder and purpose
for the projection, one INSERT for webhook deliveries and one append of their audit events (one event per
record, in ledger order) to the hash chain. The statements per transaction do not grow with the events
(identities to resolve and guardians to check aside).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Select, bindparam, insert, select
from sqlalchemy.orm import Session, make_transient_to_detached

from privet.consent.ledger import projection, stamp
from privet.consent.ledger.checks import DEFAULT_NOTICE, bad, check_evidence, prepare
from privet.consent.ledger.rules import POSITIVE_EVENTS
from privet.consent.models import ConsentRecord
from privet.consent.webhooks import service as webhooks
from privet.kit.clock import utcnow
from privet.kit.crypto import Keyring
from privet.kit.errors import InvalidInput, NotFound, PrivetError
from privet.kit.ids import new_id

_LEDGER = ConsentRecord.__table__
_INSERT = insert(_LEDGER).returning(_LEDGER.c.id, _LEDGER.c.seq)
_SUBJECTS: list[Select[Any]] = []


def _subjects_sql() -> Select[Any]:  # built on first use: subjects' models import this package's neighbours
    if not _SUBJECTS:
        from privet.subjects.models import Subject

        s = Subject.__table__.c
        _SUBJECTS.append(
            select(s.id, s.status, s.child_until, s.minor_until).where(s.id.in_(bindparam("ids", expanding=True)))
        )
    return _SUBJECTS[0]


@dataclass
class Recording:
    """One consent event to record (the arguments of `ledger.service.record`); `identity` = (type, value) finds the
    subject, creating it when unknown, instead of `subject_id`."""

    purpose: str
    event: str
    method: str
    actor: str
    subject_id: str | None = None
    visitor_id: str | None = None
    identity: tuple[str, str] | None = None
    categories: list[str] | None = None
    legal_basis: str | None = None
    separate_kind: str | None = None
    notice_key: str | None = None
    notice_version: int | None = None
    language: str | None = None
    jurisdiction: str | None = None
    guardian_id: str | None = None
    expires_at: datetime | None = None
    at: datetime | None = None
    evidence: dict | None = None
    client_ip: str | None = None
    user_agent: str | None = None
    row: dict[str, Any] = field(default_factory=dict, repr=False)  # the checked ledger columns, filled here


Outcome = dict | PrivetError  # a written ledger row (column dict with its seq) or the error refusing the event


def record_many(session: Session, items: list[Recording], *, keyring: Keyring | None = None) -> list[Outcome]:
    """Check every event and write the good ones together: per event its written row or its error, in order."""
    checks, now = check_all(session, items, keyring=keyring)
    out: list[Outcome | None] = list(checks)
    good = [i for i, outcome in enumerate(out) if outcome is None]
    for i, row in zip(good, write_checked(session, [items[i] for i in good], now), strict=True):
        out[i] = row
    return cast("list[Outcome]", out)  # every None was replaced by its written row


def check_all(
    session: Session, items: list[Recording], *, keyring: Keyring | None = None
) -> tuple[list[PrivetError | None], stamp.Stamp]:
    """Run every check of every event (filling `item.row`); per event None or the error that refuses it, and
    the stamp the checks were made against (`write_checked` takes it).

    Writes nothing, except subjects created for events naming an unknown identity once all else holds.
    """
    now = stamp.read(session)
    out: list[PrivetError | None] = [None] * len(items)
    try:
        policy = stamp.policy(session, now)
    except PrivetError as exc:  # no data map applied: nothing can be recorded
        return [exc] * len(items), now
    for i, item in enumerate(items):
        try:
            if item.identity is not None and item.subject_id is not None:
                raise InvalidInput("Send subject_id or identity, not both", "one of them names the subject")
            holder = "?" if item.identity is not None else item.subject_id  # resolved below, once all else holds
            row = prepare(
                policy,
                subject_id=holder,
                visitor_id=item.visitor_id,
                purpose=item.purpose,
                event=item.event,
                method=item.method,
                categories=item.categories,
                legal_basis=item.legal_basis,
                separate_kind=item.separate_kind,
                language=item.language,
                jurisdiction=item.jurisdiction,
                guardian_id=item.guardian_id,
                expires_at=item.expires_at,
                at=item.at,
            )
            row["evidence"] = check_evidence(
                item.evidence, keyring=keyring, client_ip=item.client_ip, user_agent=item.user_agent
            )
            row["notice_key"] = item.notice_key or DEFAULT_NOTICE
            found = stamp.notice(session, now, row["notice_key"], item.notice_version)
            row["notice_version"] = found[0]
            if found[1] and "notice_id" not in row["evidence"]:
                row["evidence"]["notice_id"] = found[1]
            item.row = row
        except PrivetError as exc:
            out[i] = exc
    _resolve_identities(session, items, out, keyring)
    _subject_checks(session, items, out)
    return out, now


def _resolve_identities(session: Session, items: list[Recording], out: list, keyring: Keyring | None) -> None:
    """Subjects for events naming an identity; created only for events that passed every other check so far."""
    from privet.subjects.service import find_subject, get_or_create_subject

    for i, item in enumerate(items):
        if item.identity is None or out[i] is not None:
            continue
        if keyring is None:
            raise ValueError("finding a subject by identity needs the keyring")
        kind, value = item.identity
        try:
            if item.guardian_id is not None and find_subject(session, keyring, kind, value) is None:
                # a person Privet does not know yet has no verified guardian: refuse before creating them
                raise bad(
                    "This guardian is not a verified guardian of the subject at that time",
                    "guardian_id",
                    "link the guardian to the child and verify the guardian's identity first",
                )
            subject, _created = get_or_create_subject(session, keyring, kind, value, actor=item.actor)
            item.row["subject_id"] = subject.id
        except PrivetError as exc:
            out[i] = exc


def _subject_checks(session: Session, items: list[Recording], out: list) -> None:
    """Subjects exist and are active; a child's consent comes from a verified guardian (PIPL Art 31); adults-only
    organisations refuse minors. One query for all the batch's subjects."""
    from privet.subjects.ages import age_policy, is_child, is_minor
    from privet.subjects.guardians import is_guardian_of

    wanted = {item.row["subject_id"] for i, item in enumerate(items) if out[i] is None and item.row["subject_id"]}
    if not wanted:
        return
    session.flush()  # subjects created for identities above
    # rows with the columns is_child and is_minor read (they are typed for a Subject)
    found: dict[str, Any] = {r.id: r for r in session.connection().execute(_subjects_sql(), {"ids": list(wanted)})}
    ages = None
    for i, item in enumerate(items):
        row = item.row
        if out[i] is not None or row["subject_id"] is None:
            continue
        subject = found.get(row["subject_id"])
        try:
            if subject is None:
                raise NotFound("No subject has this id", "look the subject up by an identity first")
            if subject.status != "active":
                raise bad(
                    f"This subject is {subject.status}",
                    "subject_id",
                    "record against the surviving subject"
                    if subject.status == "merged"
                    else "a closed subject's consent cannot change",
                )
            guardian, at = row["guardian_id"], row["at"]
            if guardian is not None and not is_guardian_of(session, guardian, subject.id, at):
                raise bad(
                    "This guardian is not a verified guardian of the subject at that time",
                    "guardian_id",
                    "link the guardian to the child and verify the guardian's identity first",
                )
            if row["event"] not in POSITIVE_EVENTS or (subject.child_until is None and subject.minor_until is None):
                continue  # refusing or withdrawing never needs a guardian (it only narrows use); no age: an adult
            ages = ages or age_policy(session)
            if ages.adults_only and is_minor(subject, at):
                raise bad(
                    "This organisation serves adults only; a minor cannot consent",
                    "subject_id",
                    "the subject is flagged for deletion; correct the age if it is wrong",
                )
            if is_child(subject, at) and guardian is None:
                raise bad(
                    f"The subject is a child (under {ages.child_age}); consent must come from a verified guardian",
                    "guardian_id",
                    "have a verified guardian give it and send their subject id as guardian_id",
                )
        except PrivetError as exc:
            out[i] = exc


def write_checked(session: Session, items: list[Recording], now: stamp.Stamp) -> list[dict]:
    """Write events that passed `check_all` (`now`: its stamp): ledger rows, projection, webhook deliveries,
    audit events.

    Returns the written ledger rows (column dicts, seq included); `attach` turns them into ConsentRecords.
    """
    from privet.audit.service import append

    if not items:
        return []
    recorded_at = utcnow()
    rows = [{**item.row, "id": new_id(), "actor": item.actor[:120], "recorded_at": recorded_at} for item in items]
    # one multi-row INSERT; rows are matched to their seq by record id (asking the driver to keep parameter
    # order would make SQLAlchemy insert them one by one on SQLite)
    seqs: dict[str, int] = dict(session.connection().execute(_INSERT, rows).all())
    for row in rows:
        row["seq"] = seqs[row["id"]]
    projection.apply_rows(session, rows)
    webhooks.enqueue_rows(session, rows, stamp.endpoints(session, now))
    # the audit head row stays locked until commit, serialising writers: take it last to keep that window short
    # one event per record, in ledger (seq) order so the chain and the change feed tell the same story
    append(
        session,
        [
            (
                item.actor,
                "consent.recorded",
                "consent_record",
                row["id"],
                {
                    "purpose": row["purpose"],
                    "event": row["event"],
                    "seq": row["seq"],
                    "method": row["method"],
                    "holder": "visitor" if row["visitor_id"] else "subject",
                },
            )
            for item, row in sorted(zip(items, rows), key=lambda pair: pair[1]["seq"])
        ],
    )
    return rows


def attach(session: Session, rows: list[dict]) -> list[ConsentRecord]:
    """Written rows as ConsentRecords belonging to the session, as if loaded: later ORM queries of the session
    return these same objects."""
    entries = [ConsentRecord(**row) for row in rows]
    for entry in entries:
        make_transient_to_detached(entry)
        session.add(entry)
    return entries
