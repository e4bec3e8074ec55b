"""The audit chain detects a changed, removed or reordered event at the right place."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from privet.audit import service
from privet.audit.models import AuditEvent, AuditHead


def _write(db: Session, n: int) -> None:
    for i in range(n):
        service.record(db, actor="system", action="test.event", object_type="thing", object_id=f"t{i}",
                       details={"index": i, "note": "ok"})
    db.flush()


def test_intact_chain_verifies(db: Session) -> None:
    _write(db, 5)
    result = service.verify(db)
    assert result.ok and result.checked == 5 and result.first_bad_seq is None


def test_changed_details_detected_at_that_event(db: Session) -> None:
    _write(db, 6)
    db.execute(update(AuditEvent).where(AuditEvent.seq == 4).values(details={"index": 99, "note": "ok"}))
    result = service.verify(db)
    assert not result.ok and result.first_bad_seq == 4 and "changed" in result.reason


def test_changed_actor_detected(db: Session) -> None:
    _write(db, 3)
    db.execute(update(AuditEvent).where(AuditEvent.seq == 2).values(actor="someone-else"))
    assert service.verify(db).first_bad_seq == 2


def test_removed_event_detected(db: Session) -> None:
    _write(db, 6)
    db.execute(delete(AuditEvent).where(AuditEvent.seq == 3))
    result = service.verify(db)
    assert not result.ok and result.first_bad_seq == 3 and "missing" in result.reason


def test_removed_tail_detected_through_head(db: Session) -> None:
    _write(db, 5)
    db.execute(delete(AuditEvent).where(AuditEvent.seq >= 4))
    result = service.verify(db)
    assert not result.ok and result.first_bad_seq == 4 and result.checked == 3


def test_reordered_events_detected(db: Session) -> None:
    _write(db, 5)
    # swap the contents of events 2 and 3, keeping their seq numbers in place
    e2, e3 = db.get(AuditEvent, 2), db.get(AuditEvent, 3)
    fields = ("at", "actor", "action", "object_type", "object_id", "details", "prev_hash", "hash")
    a, b = ({f: getattr(e, f) for f in fields} for e in (e2, e3))
    db.execute(update(AuditEvent).where(AuditEvent.seq == 2).values(hash="x" * 64))
    db.execute(update(AuditEvent).where(AuditEvent.seq == 3).values(**a))
    db.execute(update(AuditEvent).where(AuditEvent.seq == 2).values(**b))
    db.expire_all()
    result = service.verify(db)
    assert not result.ok and result.first_bad_seq == 2


def test_events_chain_on_previous_hash(db: Session) -> None:
    _write(db, 3)
    events = db.query(AuditEvent).order_by(AuditEvent.seq).all()
    assert events[0].prev_hash == service.GENESIS
    assert [e.prev_hash for e in events[1:]] == [e.hash for e in events[:-1]]
    assert db.get(AuditHead, 1).hash == events[-1].hash


@pytest.mark.parametrize("bad", ["someone@example.com", "+86 138 0013 8000", "13800138000", "138-0013-8000",
                                 {"nested": ["a@b.co"]}])
def test_personal_data_refused_in_details(db: Session, bad: object) -> None:
    with pytest.raises(ValueError, match="personal data"):
        service.record(db, actor="system", action="x", object_type="y", object_id="1", details={"v": bad})


@pytest.mark.parametrize("fine", ["2026-12-03", "2026-12-03T08:00:00+00:00", "27 Oct 2025", "R-2026-000123", 12345678])
def test_dates_references_and_counts_are_not_taken_for_personal_data(db: Session, fine: object) -> None:
    event = service.record(db, actor="system", action="x", object_type="y", object_id="1", details={"v": fine})
    assert event.details == {"v": fine}


def test_anchor_catches_a_fully_rewritten_chain(db: Session) -> None:
    _write(db, 4)
    anchor = service.head(db)
    # an insider rewrites event 3 and recomputes every later hash and the head: the plain chain verifies again
    prev = db.get(AuditEvent, 2).hash
    for seq in (3, 4):
        event = db.get(AuditEvent, seq)
        details = {"index": 100 + seq, "note": "ok"} if seq == 3 else event.details
        digest = service.compute_hash(prev, seq, event.at, event.actor, event.action, event.object_type,
                                      event.object_id, details)
        db.execute(update(AuditEvent).where(AuditEvent.seq == seq).values(details=details, prev_hash=prev,
                                                                          hash=digest))
        prev = digest
    db.execute(update(AuditHead).where(AuditHead.id == 1).values(hash=prev))
    db.expire_all()
    assert service.verify(db).ok
    result = service.verify(db, anchor=anchor)
    assert not result.ok and result.first_bad_seq == 4 and "anchored" in result.reason


def test_anchor_beyond_the_chain_means_removed_events(db: Session) -> None:
    _write(db, 3)
    assert not service.verify(db, anchor=(7, "a" * 64)).ok


def test_append_chains_a_batch_in_order_and_keeps_a_loaded_head_current(db: Session) -> None:
    _write(db, 2)
    loaded = db.get(AuditHead, 1)  # an ORM copy of the head, loaded before the Core writes below
    assert loaded.seq == 2
    rows = service.append(db, [("system", "test.batch", "thing", f"b{i}", {"index": i}) for i in range(5)])
    assert [r["seq"] for r in rows] == [3, 4, 5, 6, 7]
    assert db.get(AuditHead, 1).seq == 7 and db.get(AuditHead, 1).hash == rows[-1]["hash"]
    assert service.head(db) == (7, rows[-1]["hash"])
    assert service.record(db, actor="system", action="test.after", object_type="thing", object_id="z").seq == 8
    assert service.verify(db).ok and service.verify(db).checked == 8
    with pytest.raises(ValueError, match="personal data"):  # one bad event refuses the whole batch
        service.append(db, [("system", "x", "y", "1", {}), ("system", "x", "y", "2", {"v": "a@b.co"})])
    assert service.head(db)[0] == 8


def test_appends_in_one_transaction_around_a_rolled_back_savepoint_keep_the_chain(db) -> None:  # noqa: ANN001
    from privet.audit.service import head, record, verify

    before = head(db)[0]
    record(db, actor="t", action="a.one", object_type="x", object_id="1")
    with pytest.raises(RuntimeError):
        with db.begin_nested():
            record(db, actor="t", action="a.gone", object_type="x", object_id="2")
            raise RuntimeError("undo the savepoint")
    record(db, actor="t", action="a.two", object_type="x", object_id="3")
    with db.begin_nested():
        record(db, actor="t", action="a.three", object_type="x", object_id="4")
    record(db, actor="t", action="a.four", object_type="x", object_id="5")
    db.flush()
    assert head(db)[0] == before + 4
    assert verify(db).ok
