"""Append to, seal, verify and export the audit chain (its hashing: privet.audit.chain)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, insert, inspect, select, update
from sqlalchemy.orm import Session

from privet.audit.chain import chain_key, head_mac, keyed_hash, legacy_hash, same
from privet.audit.models import AuditEvent, AuditHead
from privet.kit.clock import utcnow
from privet.kit.errors import Unavailable

GENESIS = "0" * 64
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[a-z]{2,}", re.I)
_PHONE = re.compile(r"^\+?\d[\d\s-]{7,}\d$")
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")  # 2026-12-03 has the shape of a phone number but is a date
_EVENTS, _HEAD = AuditEvent.__table__, AuditHead.__table__
# Core statements built once (building one costs about what running it does)
_READ_HEAD = select(_HEAD.c.seq, _HEAD.c.hash, _HEAD.c.keyed_from, _HEAD.c.mac).where(_HEAD.c.id == 1)
_LOCK = _READ_HEAD.with_for_update()
_INSERT = insert(_EVENTS)
_HEAD_KEY = "privet.audit.head"  # connection.info: ((transaction, savepoint), key, (seq, hash, keyed_from))
_MOVE = (
    update(_HEAD)
    .where(_HEAD.c.id == 1)
    .values(
        seq=bindparam("new_seq"),
        hash=bindparam("new_hash"),
        keyed_from=bindparam("new_keyed_from"),
        mac=bindparam("new_mac"),
    )
)


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


def record(
    session: Session, *, actor: str, action: str, object_type: str, object_id: str, details: dict | None = None
) -> AuditEvent:
    """Append one event to the chain inside the caller's transaction."""
    return AuditEvent(**append(session, [(actor, action, object_type, object_id, details)])[0])


def append(session: Session, entries: Sequence[tuple[str, str, str, str, dict | None]]) -> list[dict]:
    """Append (actor, action, object type, object id, details) events, in order, inside the caller's transaction.

    The head row is locked (PostgreSQL: FOR UPDATE; SQLite writers hold the database lock) and stays locked
    until commit, serialising writers: callers append last to keep that window short. Rows are written with Core
    statements (one executemany for the whole list), so a batch of events costs about what one used to. Each
    event is keyed in process (no extra statement): the key never reaches the database.
    """
    return _append(session, entries)


def _append(
    session: Session, entries: Sequence[tuple[str, str, str, str, dict | None]], *, sealing: bool = False
) -> list[dict]:
    entries = [
        (actor, action, object_type, str(object_id), dict(details or {}))
        for actor, action, object_type, object_id, details in entries
    ]
    for *_, details in entries:
        _check_no_personal_data(details)
    session.flush()  # ORM changes described by these events reach the store first, as before
    key = chain_key(session)
    connection = session.connection()
    where = (session.get_transaction(), session.get_nested_transaction())
    known = connection.info.get(_HEAD_KEY)  # the DB connection's: sessions sharing one (tests) see each other
    if known is not None and known[0] == where and known[1] == key:  # this transaction locked and wrote it last
        seq, prev, keyed_from = known[2]
    else:
        seq, prev, keyed_from = _lock_head(connection, key, sealing)
    rows = []
    for actor, action, object_type, object_id, details in entries:
        seq += 1
        row = {
            "seq": seq,
            "at": utcnow(),
            "actor": actor,
            "action": action,
            "object_type": object_type,
            "object_id": object_id,
            "details": details,
            "prev_hash": prev,
        }
        row["hash"] = prev = keyed_hash(key, row)
        rows.append(row)
    if rows:
        connection.execute(_INSERT, rows)
        connection.execute(
            _MOVE,
            {
                "new_seq": seq,
                "new_hash": prev,
                "new_keyed_from": keyed_from,
                "new_mac": head_mac(key, seq, prev, keyed_from),
            },
        )
        _forget_loaded_head(session)
        # The next append in the same (sub)transaction need not read the head again; any other transaction or
        # savepoint (which may roll these rows back) reads it afresh.
        connection.info[_HEAD_KEY] = (where, key, (seq, prev, keyed_from))
    return rows  # the events' columns (building ORM objects for a batch nobody reads would cost more than the rest)


def _lock_head(connection: Connection, key: bytes, sealing: bool) -> tuple[int, str, int]:
    """Lock the head and return (seq, hash, keyed_from) to append after, refusing a head this key did not write."""
    row = connection.execute(_LOCK).first()
    if row is None:
        connection.execute(insert(_HEAD).values(id=1, seq=0, hash=GENESIS))
        return 0, GENESIS, 1
    seq, digest, keyed_from, mac = row
    if keyed_from is None:
        if seq == 0:  # an empty chain is keyed from its first event
            return 0, digest, 1
        if not sealing:
            raise Unavailable(
                f"The audit chain is not sealed with this installation's key: its {seq} events carry plain hashes "
                "only (written before audit chains were keyed, or replaced by someone)",
                "if Privet was just upgraded, run `privet audit seal` once; otherwise run `privet audit verify` "
                "and compare with a head you kept",
            )
        return seq, digest, seq + 1
    if not same(mac, head_mac(key, seq, digest, keyed_from)):
        # Appending would re-key a head changed outside Privet (or extend a chain under the wrong key): refuse.
        raise Unavailable(
            "The audit chain's head does not match this installation's key",
            "check PRIVET_SECRET_KEY (or <data_dir>/secret.key) is the key the chain was written with; "
            "otherwise the head was changed outside Privet: run `privet audit verify`",
        )
    return seq, digest, keyed_from


def seal(session: Session, *, actor: str = "system") -> int | None:
    """Key a chain written before chains were keyed: one keyed event (`audit.chain_keyed`) links to the last plain
    one, so from now on none of the earlier events can change without the key. Returns that event's seq, or None
    when there was nothing to seal (an empty chain, or one keyed already)."""
    session.flush()
    row = session.execute(_READ_HEAD).first()
    if row is None or row.seq == 0 or row.keyed_from is not None:
        return None
    rows = _append(
        session,
        [(actor, "audit.chain_keyed", "audit_chain", "1", {"legacy_events": row.seq, "legacy_head": row.hash})],
        sealing=True,
    )
    return rows[0]["seq"]


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
    keyed_from: int | None = None  # the first event written with the key; the ones before carry plain hashes
    unsealed: bool = False  # every plain hash matches, but none is keyed: nothing is proven (`privet audit seal`)

    @property
    def legacy(self) -> int:
        """How many checked events were written before the chain was keyed (proven only since it was sealed)."""
        if self.keyed_from is None:
            return self.checked
        return min(self.checked, self.keyed_from - 1)


def head(session: Session) -> tuple[int, str]:
    """The chain's last (seq, hash): publish it outside the database to anchor later verifications."""
    session.flush()
    row = session.execute(_READ_HEAD).first()
    return (row[0], row[1]) if row else (0, GENESIS)


def verify(
    session: Session,
    *,
    anchor: tuple[int, str] | None = None,
    anchors: Sequence[tuple[int, str]] = (),
    key: bytes | None = None,
    since: tuple[int, str] | None = None,
) -> Verification:
    """Walk the chain in order; name the first changed, removed, inserted or reordered event.

    Keyed events are checked with the installation's key, so a chain rewritten by someone without it fails at the
    first rewritten event. Events written before the chain was keyed are checked by their plain hashes, and the
    first keyed event, which keys the last plain hash, tells whether any of them changed since. Removing the newest
    events and moving the head back needs the key too, unless the head's earlier value was kept; an `anchor` (a
    (seq, hash) published earlier, e.g. from `privet audit head`) catches that and a rewrite by a key holder, and so
    do `anchors` (several, e.g. from the anchor file).

    `since` ((seq, hash) of an event a whole walk found good earlier) walks only the events after it, linked to
    that hash: the events up to it are taken as that walk found them (`checked` still counts them).
    """
    pinned = dict(anchors)
    if anchor:
        pinned[anchor[0]] = anchor[1]
    key = chain_key(session) if key is None else key
    session.flush()
    last = session.execute(_READ_HEAD).first()
    keyed_from = last.keyed_from if last else None

    def broken(seq: int, reason: str) -> Verification:
        return Verification(False, checked, seq, reason, keyed_from)

    prev_hash, checked = (since[1], since[0]) if since else (GENESIS, 0)
    stream = session.execute(
        select(_EVENTS).where(_EVENTS.c.seq > checked).order_by(_EVENTS.c.seq).execution_options(yield_per=2000)
    )
    for event in stream.mappings():
        seq, keyed = event["seq"], keyed_from is not None and event["seq"] >= keyed_from
        if seq != checked + 1:
            return broken(checked + 1, f"event {checked + 1} is missing (next present is {seq})")
        if event["prev_hash"] != prev_hash:
            if seq == keyed_from and seq > 1 and same(event["hash"], keyed_hash(key, event)):
                return broken(
                    seq,
                    "the events before it, written before the chain was keyed, were changed after "
                    "this event sealed them (their plain hashes were recomputed, so which one "
                    "cannot be told)",
                )
            return broken(seq, "its link to the previous event is broken (an event was removed, inserted or reordered)")
        if not same(event["hash"], keyed_hash(key, event) if keyed else legacy_hash(event)):
            if not keyed and same(event["hash"], keyed_hash(key, event)):
                return broken(
                    seq,
                    f"it carries a keyed hash although the head says keying began at event "
                    f"{keyed_from}: the head was changed outside Privet",
                )
            if not keyed:
                return broken(seq, "its content was changed after it was written")
            return broken(
                seq,
                "its content was changed after it was written, by someone without the key (its "
                "keyed hash does not match)"
                + (" — or PRIVET_SECRET_KEY is not the key the chain was written with" if seq == keyed_from else ""),
            )
        if seq in pinned and event["hash"] != pinned[seq]:
            if keyed:
                return broken(
                    seq,
                    "it differs from the head anchored earlier outside the database although every "
                    "keyed hash up to it matches: the chain was rewritten with the key, or the "
                    "anchor belongs to another chain",
                )
            return broken(
                seq,
                "it differs from the head anchored earlier outside the database: an event up to it was "
                "changed and the plain hashes recomputed (written before the chain was keyed, which "
                "one cannot be told)",
            )
        prev_hash, checked = event["hash"], checked + 1
    if pinned and max(pinned) > checked:
        return broken(checked + 1, f"the anchored event {max(pinned)} is gone (events were removed)")
    if checked == 0 and (last is None or last.seq == 0):
        return Verification(True, 0, keyed_from=keyed_from)
    if last is None:
        return broken(checked + 1, "the chain's head record is missing (removed outside Privet)")
    if last.seq > checked:
        return broken(
            checked + 1,
            f"the chain ends at event {checked} but the head records event {last.seq} (events at the end were removed)",
        )
    if last.seq < checked:
        return broken(last.seq + 1, f"events after {last.seq}, the head's last event, were added outside Privet")
    if last.hash != prev_hash:
        return broken(checked, "it is not the last event the head records (it was replaced)")
    if keyed_from is None:
        return Verification(
            False,
            checked,
            1,
            f"none of its {checked} events is proven: they carry plain hashes "
            "only, which anyone who can write to the database can recompute (the chain was written "
            "before chains were keyed and never sealed, or it was replaced with an unkeyed one)",
            unsealed=True,
        )
    if keyed_from > checked:
        return broken(
            checked + 1,
            f"keying began at event {keyed_from} but the chain ends at event {checked} (keyed events were removed)",
        )
    if not same(last.mac, head_mac(key, last.seq, last.hash, keyed_from)):
        return broken(
            checked + 1,
            "the head record was changed outside Privet (its keyed check does not match): "
            f"events after {checked} may have been removed",
        )
    return Verification(True, checked, keyed_from=keyed_from)


def iter_events(session: Session, *, since_seq: int = 0) -> Iterator[AuditEvent]:
    """Events in chain order, streamed."""
    stmt = select(AuditEvent).where(AuditEvent.seq > since_seq).order_by(AuditEvent.seq)
    yield from session.execute(stmt.execution_options(yield_per=2000)).scalars()


def as_json(event: AuditEvent) -> dict:
    """The JSON-lines form of an event."""
    return {
        "seq": event.seq,
        "at": event.at.isoformat(timespec="microseconds"),
        "actor": event.actor,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "details": event.details,
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }
