"""Append to, verify and export the audit chain."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, bindparam, insert, inspect, select, update
from sqlalchemy.orm import Session

from privet.audit.models import AuditEvent, AuditHead
from privet.kit.clock import utcnow

GENESIS = "0" * 64
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[a-z]{2,}", re.I)
_PHONE = re.compile(r"^\+?\d[\d\s-]{7,}\d$")
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")  # 2026-12-03 has the shape of a phone number but is a date
_EVENTS, _HEAD = AuditEvent.__table__, AuditHead.__table__
# Core statements built once (building one costs about what running it does)
_LOCK = select(_HEAD.c.seq, _HEAD.c.hash).where(_HEAD.c.id == 1).with_for_update()
_INSERT = insert(_EVENTS)
_HEAD_KEY = "privet.audit.head"  # connection.info: ((transaction, savepoint), (seq, hash)) after an append
_MOVE = update(_HEAD).where(_HEAD.c.id == 1).values(seq=bindparam("new_seq"), hash=bindparam("new_hash"))


def _canonical(seq: int, at: datetime, actor: str, action: str, object_type: str, object_id: str,
               details: dict) -> bytes:
    body = {"seq": seq, "at": at.isoformat(timespec="microseconds"), "actor": actor, "action": action,
            "object_type": object_type, "object_id": object_id, "details": details}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def compute_hash(prev_hash: str, seq: int, at: datetime, actor: str, action: str, object_type: str,
                 object_id: str, details: dict) -> str:
    """The event's hash, chained on the previous one."""
    return hashlib.sha256(prev_hash.encode() + _canonical(seq, at, actor, action, object_type, object_id,
                                                           details)).hexdigest()


def _check_no_personal_data(value: object, path: str = "details") -> None:
    """Programming guard: audit details carry ids and counts, never e-mail addresses or phone numbers."""
    if isinstance(value, dict):
        for key, item in value.items():
            _check_no_personal_data(item, f"{path}.{key}")
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _check_no_personal_data(item, f"{path}[{i}]")
    elif isinstance(value, str) and (_EMAIL.search(value) or (_PHONE.match(value) and not _ISO_DAY.match(value))):
        raise ValueError(f"audit {path} looks like personal data; record an id or a count instead")


def record(session: Session, *, actor: str, action: str, object_type: str, object_id: str,
           details: dict | None = None) -> AuditEvent:
    """Append one event to the chain inside the caller's transaction."""
    return AuditEvent(**append(session, [(actor, action, object_type, object_id, details)])[0])


def append(session: Session, entries: Sequence[tuple[str, str, str, str, dict | None]]) -> list[dict]:
    """Append (actor, action, object type, object id, details) events, in order, inside the caller's transaction.

    The head row is locked (PostgreSQL: FOR UPDATE; SQLite writers hold the database lock) and stays locked
    until commit, serialising writers: callers append last to keep that window short. Rows are written with Core
    statements (one executemany for the whole list), so a batch of events costs about what one used to.
    """
    entries = [(actor, action, object_type, str(object_id), dict(details or {}))
               for actor, action, object_type, object_id, details in entries]
    for *_, details in entries:
        _check_no_personal_data(details)
    session.flush()  # ORM changes described by these events reach the store first, as before
    connection = session.connection()
    where = (session.get_transaction(), session.get_nested_transaction())
    known = connection.info.get(_HEAD_KEY)  # the DB connection's: sessions sharing one (tests) see each other
    if known is not None and known[0] == where:  # this transaction holds the head's lock and wrote it last
        seq, prev = known[1]
    else:
        seq, prev = _lock_head(connection)
    rows = []
    for actor, action, object_type, object_id, details in entries:
        seq, at = seq + 1, utcnow()
        digest = compute_hash(prev, seq, at, actor, action, object_type, object_id, details)
        rows.append({"seq": seq, "at": at, "actor": actor, "action": action, "object_type": object_type,
                     "object_id": object_id, "details": details, "prev_hash": prev, "hash": digest})
        prev = digest
    if rows:
        connection.execute(_INSERT, rows)
        connection.execute(_MOVE, {"new_seq": seq, "new_hash": prev})
        _forget_loaded_head(session)
        # The next append in the same (sub)transaction need not read the head again; any other transaction or
        # savepoint (which may roll these rows back) reads it afresh.
        connection.info[_HEAD_KEY] = (where, (seq, prev))
    return rows  # the events' columns (building ORM objects for a batch nobody reads would cost more than the rest)


def _lock_head(connection: Connection) -> tuple[int, str]:
    row = connection.execute(_LOCK).first()
    if row is None:
        connection.execute(insert(_HEAD).values(id=1, seq=0, hash=GENESIS))
        return 0, GENESIS
    return row[0], row[1]


def _forget_loaded_head(session: Session) -> None:
    """The head is written with Core: an ORM copy loaded earlier in this session would now be stale."""
    loaded = session.identity_map.get(inspect(AuditHead).identity_key_from_primary_key((1,)))
    if loaded is not None:
        session.expire(loaded)


@dataclass
class Verification:
    """The outcome of `verify`: how many events were checked and the first one that is wrong."""

    ok: bool
    checked: int
    first_bad_seq: int | None = None
    reason: str | None = None


def head(session: Session) -> tuple[int, str]:
    """The chain's last (seq, hash): publish it outside the database to anchor later verifications."""
    session.flush()
    row = session.execute(select(_HEAD.c.seq, _HEAD.c.hash).where(_HEAD.c.id == 1)).first()
    return (row[0], row[1]) if row else (0, GENESIS)


def verify(session: Session, *, anchor: tuple[int, str] | None = None) -> Verification:
    """Walk the chain in order; name the first changed, removed or reordered event.

    The hashes alone cannot stop someone with write access to the database from rewriting the whole chain;
    an `anchor` (a (seq, hash) published earlier, e.g. from `privet audit head`) catches that too.
    """
    prev_hash, expected_seq, checked = GENESIS, 1, 0
    rows = session.execute(select(AuditEvent).order_by(AuditEvent.seq).execution_options(yield_per=2000))
    for event in rows.scalars():
        if event.seq != expected_seq:
            return Verification(False, checked, expected_seq,
                                f"event {expected_seq} is missing (next present is {event.seq})")
        if event.prev_hash != prev_hash:
            return Verification(False, checked, event.seq, "its link to the previous event is broken "
                                                           "(an event was removed or reordered)")
        digest = compute_hash(prev_hash, event.seq, event.at, event.actor, event.action, event.object_type,
                              event.object_id, event.details)
        if digest != event.hash:
            return Verification(False, checked, event.seq, "its content was changed after it was written")
        if anchor and event.seq == anchor[0] and event.hash != anchor[1]:
            return Verification(False, checked, event.seq, "it differs from the anchored head published "
                                                           "earlier (the chain was rewritten)")
        prev_hash, expected_seq, checked = event.hash, expected_seq + 1, checked + 1
    if anchor and anchor[0] > checked:
        return Verification(False, checked, checked + 1, f"the anchored event {anchor[0]} is gone "
                                                         "(events were removed)")
    last = session.execute(select(_HEAD.c.seq, _HEAD.c.hash).where(_HEAD.c.id == 1)).first()
    if last is not None and (last[0] != checked or last[1] != prev_hash):
        return Verification(False, checked, checked + 1 if last[0] > checked else last[0],
                            f"the chain ends at event {checked} but the head records event {last[0]} "
                            "(events at the end were removed)")
    return Verification(True, checked)


def iter_events(session: Session, *, since_seq: int = 0) -> Iterator[AuditEvent]:
    """Events in chain order, streamed."""
    stmt = select(AuditEvent).where(AuditEvent.seq > since_seq).order_by(AuditEvent.seq)
    yield from session.execute(stmt.execution_options(yield_per=2000)).scalars()


def as_json(event: AuditEvent) -> dict:
    """The JSON-lines form of an event."""
    return {"seq": event.seq, "at": event.at.isoformat(timespec="microseconds"), "actor": event.actor,
            "action": event.action, "object_type": event.object_type, "object_id": event.object_id,
            "details": event.details, "prev_hash": event.prev_hash, "hash": event.hash}
