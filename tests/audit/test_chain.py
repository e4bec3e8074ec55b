"""The keyed audit chain finds a changed, removed, inserted or reordered event, and a whole chain rewritten by
someone without the key, at the first event that differs."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from privet.audit import chain, service
from privet.audit.models import AuditEvent, AuditHead
from privet.kit.errors import Unavailable
from tests.support.tamper import lift_guards

EVENTS, HEAD = AuditEvent.__table__, AuditHead.__table__


def _write(db: Session, n: int) -> None:
    for i in range(n):
        service.record(
            db,
            actor="system",
            action="test.event",
            object_type="thing",
            object_id=f"t{i}",
            details={"index": i, "note": "ok"},
        )
    db.flush()


def _events(db: Session) -> list[dict]:
    return [dict(row) for row in db.execute(select(EVENTS).order_by(EVENTS.c.seq)).mappings()]


def _rewrite(db: Session, events: list[dict], rehash, start: int = 0) -> None:
    """Replace the chain with `events` (changed as the caller likes), relinked and rehashed by `rehash` from the
    `start`th on, and move the head to its new end: what someone with write access to the database can do."""
    lift_guards(db)
    db.execute(delete(AuditEvent))
    prev = events[start - 1]["hash"] if start else service.GENESIS
    for event in events[start:]:
        event["prev_hash"] = prev
        event["hash"] = prev = rehash(event)
    db.execute(insert(EVENTS), events)
    db.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=len(events), hash=prev))
    db.expire_all()


def test_intact_chain_verifies_and_is_keyed_from_its_first_event(db: Session) -> None:
    _write(db, 5)
    result = service.verify(db)
    assert result.ok and result.checked == 5 and result.first_bad_seq is None
    assert result.keyed_from == 1 and result.legacy == 0


@pytest.mark.promise("P24")
def test_changed_details_detected_at_that_event(db: Session) -> None:
    _write(db, 6)
    lift_guards(db)
    db.execute(update(AuditEvent).where(AuditEvent.seq == 4).values(details={"index": 99, "note": "ok"}))
    result = service.verify(db)
    assert not result.ok and result.first_bad_seq == 4 and "changed" in result.reason


def test_removed_event_detected(db: Session) -> None:
    _write(db, 6)
    lift_guards(db)
    db.execute(delete(AuditEvent).where(AuditEvent.seq == 3))
    result = service.verify(db)
    assert not result.ok and result.first_bad_seq == 3 and "missing" in result.reason


def test_removed_tail_detected_through_head(db: Session) -> None:
    _write(db, 5)
    lift_guards(db)
    db.execute(delete(AuditEvent).where(AuditEvent.seq >= 4))
    result = service.verify(db)
    assert not result.ok and result.first_bad_seq == 4 and result.checked == 3


def test_removed_tail_with_the_head_moved_back_without_the_key_is_detected(db: Session) -> None:
    _write(db, 5)
    lift_guards(db)
    third = db.get(AuditEvent, 3)
    db.execute(delete(AuditEvent).where(AuditEvent.seq >= 4))
    db.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=3, hash=third.hash))
    db.expire_all()
    result = service.verify(db)
    assert not result.ok and result.first_bad_seq == 4 and "head" in result.reason


def test_removed_tail_with_a_head_kept_from_earlier_needs_an_anchor(db: Session) -> None:
    """The one rewrite the key alone cannot catch: the head row saved when the chain ended at event 3, put back
    after events 4 and 5 were removed. A head published outside the database catches it."""
    _write(db, 3)
    saved = dict(db.execute(select(HEAD)).mappings().one())
    _write(db, 2)
    anchor = service.head(db)
    lift_guards(db)
    db.execute(delete(AuditEvent).where(AuditEvent.seq >= 4))
    db.execute(update(AuditHead).where(AuditHead.id == 1).values(**saved))
    db.expire_all()
    assert service.verify(db).ok
    result = service.verify(db, anchor=anchor)
    assert not result.ok and result.first_bad_seq == 4 and "gone" in result.reason


def test_inserted_events_are_detected(db: Session) -> None:
    _write(db, 4)
    events = _events(db)
    lift_guards(db)
    # one forged event at the end, the head left alone
    forged = {**events[-1], "seq": 5, "prev_hash": events[-1]["hash"], "hash": "f" * 64, "object_id": "t99"}
    db.execute(insert(EVENTS), [forged])
    result = service.verify(db)
    assert not result.ok and result.first_bad_seq == 5
    # one forged in the middle: later events moved up a place (seq), the forged one takes their old place
    db.execute(delete(AuditEvent).where(AuditEvent.seq >= 3))
    moved = [{**e, "seq": e["seq"] + 1} for e in events[2:]]
    db.execute(insert(EVENTS), [{**events[2], "object_id": "forged", "hash": "e" * 64}, *moved])
    db.expire_all()
    result = service.verify(db)
    assert not result.ok and result.first_bad_seq == 3


def test_reordered_events_detected(db: Session) -> None:
    _write(db, 5)
    lift_guards(db)
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


@pytest.mark.parametrize("how", ["plain sha-256", "another key"])
def test_whole_chain_rewritten_without_the_key_is_found_at_the_first_change(db: Session, how: str) -> None:
    _write(db, 6)
    events = _events(db)
    events[3]["details"] = {"index": 3, "note": "forged"}  # event 4 changed, every hash after it recomputed
    rehash = chain.legacy_hash if how == "plain sha-256" else (lambda e: chain.keyed_hash(b"guess" * 8, e))
    _rewrite(db, events, rehash, start=3)
    result = service.verify(db)
    assert not result.ok and result.first_bad_seq == 4 and "without the key" in result.reason
    _rewrite(db, events, rehash)  # every hash recomputed, the untouched events' too: found at the first
    assert service.verify(db).first_bad_seq == 1


def test_whole_chain_rewritten_and_reordered_is_found_at_the_first_change(db: Session) -> None:
    _write(db, 5)
    events = _events(db)
    events[1], events[2] = events[2], events[1]
    for seq, event in enumerate(events, start=1):
        event["seq"] = seq
    _rewrite(db, events, chain.legacy_hash, start=1)
    result = service.verify(db)
    assert not result.ok and result.first_bad_seq == 2


def test_a_chain_rewritten_without_the_key_and_made_to_look_unkeyed_is_not_proven(db: Session) -> None:
    _write(db, 4)
    events = _events(db)
    events[1]["actor"] = "someone-else"
    _rewrite(db, events, chain.legacy_hash)
    db.execute(update(AuditHead).where(AuditHead.id == 1).values(keyed_from=None, mac=None))
    db.expire_all()
    result = service.verify(db)
    assert not result.ok and result.first_bad_seq == 1 and "none of its 4 events is proven" in result.reason
    db.connection().info.pop(service._HEAD_KEY, None)  # the next transaction reads the head again
    with pytest.raises(Unavailable, match="not sealed"):  # nor does Privet seal it on its next write
        service.record(db, actor="system", action="test.after", object_type="thing", object_id="x")


def test_moving_where_keying_began_is_detected(db: Session) -> None:
    _write(db, 4)
    lift_guards(db)
    db.execute(update(AuditHead).where(AuditHead.id == 1).values(keyed_from=3))
    db.expire_all()
    result = service.verify(db)
    assert not result.ok and result.first_bad_seq == 1  # events 1-2 now claim plain hashes they do not carry
    db.execute(update(AuditHead).where(AuditHead.id == 1).values(keyed_from=9))
    db.expire_all()
    result = service.verify(db)
    assert not result.ok and result.first_bad_seq == 1


def test_expect_head_names_the_first_changed_event_not_the_anchor(db: Session) -> None:
    _write(db, 6)
    anchor = service.head(db)
    events = _events(db)
    events[2]["details"] = {"index": 2, "note": "forged"}
    _rewrite(db, events, chain.legacy_hash, start=2)
    result = service.verify(db, anchor=anchor)
    assert not result.ok and result.first_bad_seq == 3


def test_an_anchor_catches_a_rewrite_made_with_the_key(db: Session) -> None:
    _write(db, 4)
    anchor = service.head(db)
    events = _events(db)
    events[2]["details"] = {"index": 2, "note": "forged"}
    key = chain.chain_key(db)
    _rewrite(db, events, lambda e: chain.keyed_hash(key, e), start=2)
    db.execute(update(AuditHead).where(AuditHead.id == 1).values(mac=chain.head_mac(key, 4, events[-1]["hash"], 1)))
    db.expire_all()
    assert service.verify(db).ok  # whoever holds the key can rewrite: only what was kept outside tells
    result = service.verify(db, anchor=anchor)
    assert not result.ok and result.first_bad_seq == 4 and "anchored" in result.reason


def test_anchor_beyond_the_chain_means_removed_events(db: Session) -> None:
    _write(db, 3)
    assert not service.verify(db, anchor=(7, "a" * 64)).ok


def test_verifying_with_another_key_says_so(db: Session) -> None:
    _write(db, 3)
    result = service.verify(db, key=b"another-installation".ljust(32, b"-"))
    assert not result.ok and result.first_bad_seq == 1 and "PRIVET_SECRET_KEY" in result.reason


def test_appending_under_another_key_is_refused(db: Session) -> None:
    _write(db, 2)
    db.info[chain._KEY_INFO] = b"another-installation".ljust(32, b"-")
    db.connection().info.pop(service._HEAD_KEY, None)  # a new transaction would read the head again
    with pytest.raises(Unavailable, match="does not match this installation's key"):
        service.record(db, actor="system", action="test.after", object_type="thing", object_id="x")


def test_events_chain_on_previous_hash(db: Session) -> None:
    _write(db, 3)
    events = db.query(AuditEvent).order_by(AuditEvent.seq).all()
    assert events[0].prev_hash == service.GENESIS
    assert [e.prev_hash for e in events[1:]] == [e.hash for e in events[:-1]]
    assert db.get(AuditHead, 1).hash == events[-1].hash


@pytest.mark.parametrize(
    "bad", ["someone@example.com", "+86 138 0013 8000", "13800138000", "138-0013-8000", {"nested": ["a@b.co"]}]
)
def test_personal_data_refused_in_details(db: Session, bad: object) -> None:
    with pytest.raises(ValueError, match="personal data"):
        service.record(db, actor="system", action="x", object_type="y", object_id="1", details={"v": bad})


@pytest.mark.parametrize("fine", ["2026-12-03", "2026-12-03T08:00:00+00:00", "27 Oct 2025", "R-2026-000123", 12345678])
def test_dates_references_and_counts_are_not_taken_for_personal_data(db: Session, fine: object) -> None:
    event = service.record(db, actor="system", action="x", object_type="y", object_id="1", details={"v": fine})
    assert event.details == {"v": fine}


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


def test_appends_in_one_transaction_around_a_rolled_back_savepoint_keep_the_chain(db) -> None:
    from privet.audit.service import head, record, verify

    before = head(db)[0]
    record(db, actor="t", action="a.one", object_type="x", object_id="1")
    with pytest.raises(RuntimeError), db.begin_nested():
        record(db, actor="t", action="a.gone", object_type="x", object_id="2")
        raise RuntimeError("undo the savepoint")
    record(db, actor="t", action="a.two", object_type="x", object_id="3")
    with db.begin_nested():
        record(db, actor="t", action="a.three", object_type="x", object_id="4")
    record(db, actor="t", action="a.four", object_type="x", object_id="5")
    db.flush()
    assert head(db)[0] == before + 4
    assert verify(db).ok


def test_the_key_comes_from_the_sessions_settings_then_those_its_jobs_run_by(db: Session, settings) -> None:
    from privet.db.engine import SETTINGS_INFO
    from privet.jobs.dispatch import SETTINGS_KEY

    other = settings.model_copy(update={"secret_key": "another-installation-0123456789abcdef"})
    assert chain.chain_key(db) == chain.key_for(settings) != chain.key_for(other)
    assert chain.chain_key(Session(info={SETTINGS_KEY: other})) == chain.key_for(other)
    assert chain.chain_key(Session(info={SETTINGS_INFO: settings, SETTINGS_KEY: other})) == chain.key_for(settings)
