"""Every column of an audit event is hashed: changing any one of them is found at that event.

The columns are read from the table, so a column added to `audit_events` gets its own case here: it fails until
the chain hashes it (it does, through `chain.HASHED`) and this test knows how to change a value of its type.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from privet.audit import chain, service
from privet.audit.models import AuditEvent
from tests.support.tamper import lift_guards

COLUMNS = [column.name for column in AuditEvent.__table__.columns]


def _changed(name: str, value: object) -> object:
    """A different value of the same kind (the smallest change that still means something else)."""
    if name == "seq":
        return value + 1000
    if isinstance(value, datetime):
        return value + timedelta(microseconds=1)
    if isinstance(value, dict):
        return {**value, "note": "forged"}
    if isinstance(value, str) and len(value) == 64:  # a hash: one hex digit flipped
        return ("1" if value[0] == "0" else "0") + value[1:]
    if isinstance(value, str):
        return value + "x"
    pytest.fail(f"teach _changed how to change the new column {name!r} ({type(value).__name__})")


def _write(db: Session, n: int) -> None:
    for i in range(n):
        service.record(
            db, actor="officer-1", action="test.event", object_type="thing", object_id=f"t{i}", details={"index": i}
        )
    db.flush()


def test_every_column_but_the_hash_itself_is_hashed() -> None:
    assert set(chain.HASHED) == set(COLUMNS) - {"hash"}
    assert "prev_hash" in chain.HASHED and "at" in chain.HASHED and "object_type" in chain.HASHED


@pytest.mark.parametrize("name", [c for c in COLUMNS if c != "hash"])
def test_the_keyed_hash_changes_with_each_hashed_column(name: str) -> None:
    event = {
        "seq": 7,
        "at": datetime.fromisoformat("2026-12-08T09:00:00.000001+00:00"),
        "actor": "a",
        "action": "x.y",
        "object_type": "thing",
        "object_id": "1",
        "details": {"k": 1},
        "prev_hash": "0" * 64,
    }
    key = b"k" * 32
    assert chain.keyed_hash(key, {**event, name: _changed(name, event[name])}) != chain.keyed_hash(key, event)


@pytest.mark.parametrize("name", COLUMNS)
def test_changing_any_column_is_found_at_that_event(db: Session, name: str) -> None:
    _write(db, 5)
    lift_guards(db)
    event = db.get(AuditEvent, 3)
    db.execute(update(AuditEvent).where(AuditEvent.seq == 3).values({name: _changed(name, getattr(event, name))}))
    db.expire_all()
    result = service.verify(db)
    assert not result.ok and result.first_bad_seq == 3, (name, result)
