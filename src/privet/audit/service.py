"""Append to, verify and export the audit chain."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from privet.audit.models import AuditEvent, AuditHead
from privet.kit.clock import utcnow

GENESIS = "0" * 64
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[a-z]{2,}", re.I)
_PHONE = re.compile(r"^\+?\d[\d\s-]{7,}\d$")


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
    elif isinstance(value, str) and (_EMAIL.search(value) or _PHONE.match(value)):
        raise ValueError(f"audit {path} looks like personal data; record an id or a count instead")


def record(session: Session, *, actor: str, action: str, object_type: str, object_id: str,
           details: dict | None = None) -> AuditEvent:
    """Append one event to the chain inside the caller's transaction."""
    details = dict(details or {})
    _check_no_personal_data(details)
    head = session.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update()).scalar_one_or_none()
    if head is None:
        head = AuditHead(id=1, seq=0, hash=GENESIS)
        session.add(head)
    at = utcnow()
    seq = head.seq + 1
    digest = compute_hash(head.hash, seq, at, actor, action, object_type, str(object_id), details)
    event = AuditEvent(seq=seq, at=at, actor=actor, action=action, object_type=object_type,
                       object_id=str(object_id), details=details, prev_hash=head.hash, hash=digest)
    session.add(event)
    head.seq, head.hash = seq, digest
    session.flush()
    return event


@dataclass
class Verification:
    """The outcome of `verify`: how many events were checked and the first one that is wrong."""

    ok: bool
    checked: int
    first_bad_seq: int | None = None
    reason: str | None = None


def head(session: Session) -> tuple[int, str]:
    """The chain's last (seq, hash): publish it outside the database to anchor later verifications."""
    row = session.get(AuditHead, 1)
    return (row.seq, row.hash) if row else (0, GENESIS)


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
    head = session.get(AuditHead, 1)
    if head is not None and (head.seq != checked or head.hash != prev_hash):
        return Verification(False, checked, checked + 1 if head.seq > checked else head.seq,
                            f"the chain ends at event {checked} but the head records event {head.seq} "
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
