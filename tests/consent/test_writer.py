"""Group commit: concurrent recordings written together, each with its own record, audit event and error."""

from __future__ import annotations

import threading
from pathlib import Path
from types import SimpleNamespace

import pytest
from faker import Faker
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from privet.audit import service as audit
from privet.audit.models import AuditEvent
from privet.auth import service as auth
from privet.consent.ledger import group_commit as writer
from privet.consent.ledger import projection
from privet.consent.ledger import recording as batch
from privet.consent.ledger.recording import Recording
from privet.consent.models import ConsentRecord, ConsentState
from privet.kit.crypto import Keyring
from privet.kit.errors import InvalidInput, NotFound

pytestmark = pytest.mark.usefixtures("keptek")
PURPOSES = ["marketing.communications", "analytics.usage", "marketing.events"]


class GatedWriter(writer.RecordWriter):
    """Holds its first transaction until released, so everything submitted meanwhile forms the next batch."""

    def __init__(self, state: SimpleNamespace) -> None:
        super().__init__(state, idle_seconds=0.2)
        self.entered, self.release, self.sizes = threading.Event(), threading.Event(), []

    def _transaction(self, items: list[Recording]) -> list:
        self.sizes.append(len(items))
        if len(self.sizes) == 1:
            self.entered.set()
            assert self.release.wait(10)
        return super()._transaction(items)


def _submit(w: writer.RecordWriter, items: list[Recording]) -> list:
    """Submit every item and wait for all outcomes (in submission order)."""
    outcomes: list = [None] * len(items)
    done = [threading.Event() for _ in items]

    def settle(i: int):
        def finish(outcome: object) -> None:
            outcomes[i] = outcome
            done[i].set()

        return finish

    for i, item in enumerate(items):
        w.submit(item, settle(i))
    assert all(event.wait(30) for event in done)
    return outcomes


def _count(db: Session, model) -> int:
    return db.execute(select(func.count()).select_from(model)).scalar()


def _item(subject_id: str, purpose: str, event: str = "given", **kw) -> Recording:
    return Recording(subject_id=subject_id, purpose=purpose, event=event, method="api", actor="apikey:test", **kw)


def test_concurrent_recordings_share_a_transaction_and_a_bad_one_fails_alone(
    db: Session, session_factory: sessionmaker, make_subject, ring: Keyring
) -> None:
    people = [make_subject().id for _ in range(4)]
    db.commit()
    gated = GatedWriter(SimpleNamespace(sessionmaker=session_factory, keyring=ring))
    first = _item(people[0], PURPOSES[0])
    held: list = []
    gated.submit(first, held.append)
    assert gated.entered.wait(10)
    items = [
        _item(people[i % 4], PURPOSES[i % 3], "withdrawn" if i % 2 else "given", client_ip="10.0.0.1")
        for i in range(12)
    ]
    items[3] = _item(people[1], "marketing.advertising")  # undeclared purpose
    items[7] = _item("0" * 26, PURPOSES[0])  # no such subject
    audit_before, records_before = _count(db, AuditEvent), _count(db, ConsentRecord)
    waiter = threading.Thread(target=lambda: held.extend(_submit(gated, items)))
    waiter.start()
    while len(gated._pending) < len(items):  # every item is queued behind the held transaction
        threading.Event().wait(0.01)
    gated.release.set()
    waiter.join(30)
    outcomes = held[1:]
    assert gated.sizes == [1, 12]  # the twelve went in one transaction
    assert isinstance(outcomes[3], InvalidInput) and "undeclared purpose" in outcomes[3].render()
    assert isinstance(outcomes[7], NotFound)
    written = [o for o in outcomes if isinstance(o, dict)]
    assert len(written) == 10 and isinstance(held[0], dict)
    assert len({o["id"] for o in written}) == 10 and all("client" in o["evidence"] for o in written)
    assert _count(db, ConsentRecord) == records_before + 11  # with the first, held one
    events = (
        db.execute(select(AuditEvent).where(AuditEvent.action == "consent.recorded").order_by(AuditEvent.seq))
        .scalars()
        .all()
    )
    assert _count(db, AuditEvent) == audit_before + 11
    assert [e.object_id for e in events[-10:]] == [o["id"] for o in written]  # one event each, in ledger order
    assert [e.details["seq"] for e in events[-10:]] == sorted(o["seq"] for o in written)
    assert audit.verify(db).ok
    maintained = {(s.holder, s.purpose, s.record_seq) for s in db.execute(select(ConsentState)).scalars()}
    projection.rebuild(db)
    assert {(s.holder, s.purpose, s.record_seq) for s in db.execute(select(ConsentState)).scalars()} == maintained


def test_a_batch_that_fails_as_a_whole_is_retried_one_by_one(
    db: Session, session_factory: sessionmaker, make_subject, ring: Keyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    person = make_subject().id
    db.commit()
    real = batch.write_checked

    def fragile(session: Session, items: list[Recording], now) -> list[dict]:
        if any(item.actor == "apikey:boom" for item in items):
            raise IntegrityError("INSERT", {}, Exception("a constraint failed"))
        return real(session, items, now)

    monkeypatch.setattr(batch, "write_checked", fragile)
    gated = GatedWriter(SimpleNamespace(sessionmaker=session_factory, keyring=ring))
    held: list = []
    gated.submit(_item(person, PURPOSES[0]), held.append)
    assert gated.entered.wait(10)
    items = [_item(person, p) for p in PURPOSES]
    items[1].actor = "apikey:boom"
    waiter = threading.Thread(target=lambda: held.extend(_submit(gated, items)))
    waiter.start()
    while len(gated._pending) < len(items):
        threading.Event().wait(0.01)
    gated.release.set()
    waiter.join(30)
    assert isinstance(held[2], IntegrityError)
    assert isinstance(held[1], dict) and isinstance(held[3], dict)
    assert gated.sizes == [1, 3, 1, 1, 1]  # the failed batch, then each of its recordings alone
    assert _count(db, ConsentRecord) == 3 and audit.verify(db).ok


def test_the_writer_thread_ends_when_idle_and_starts_again(
    session_factory: sessionmaker, db: Session, make_subject, ring: Keyring
) -> None:
    person = make_subject().id
    db.commit()
    w = writer.RecordWriter(SimpleNamespace(sessionmaker=session_factory, keyring=ring), idle_seconds=0.05)
    assert isinstance(_submit(w, [_item(person, PURPOSES[0])])[0], dict)
    for _ in range(200):
        if not w._running:
            break
        threading.Event().wait(0.01)
    assert not w._running  # its thread returned: idle apps (one per test, here) keep no threads
    assert isinstance(_submit(w, [_item(person, PURPOSES[1])])[0], dict)
    assert w.batches == 2


def test_concurrent_http_recordings_all_land_with_their_own_answers(
    client: TestClient, db: Session, faker_multi: Faker, monkeypatch: pytest.MonkeyPatch
) -> None:
    from privet.auth import keys

    monkeypatch.setattr(keys, "RECENT_SECONDS", 600.0)  # the key is checked once; the test's one connection
    key = auth.create_api_key(db, "writer-test", ["consent:read", "consent:write"], actor="test")[1]
    db.commit()
    headers = {"Authorization": f"Bearer {key}"}
    assert client.get(f"/api/v1/consent/subjects/{'0' * 26}", headers=headers).status_code == 404  # key checked
    emails = [faker_multi.unique.email() for _ in range(6)]
    bodies = [{"identity": {"type": "email", "value": emails[i % 6]}, "purpose": PURPOSES[i % 3]} for i in range(18)]
    bodies[5] = {"identity": {"type": "email", "value": emails[0]}, "purpose": "service.order"}  # not consent-based
    answers: list = [None] * len(bodies)

    def post(i: int) -> None:
        answers[i] = client.post("/api/v1/consent/records", headers=headers, json=bodies[i])

    threads = [threading.Thread(target=post, args=(i,)) for i in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert answers[5].status_code == 422 and "does not rely on consent" in answers[5].text
    made = [a.json() for i, a in enumerate(answers) if i != 5]
    assert all(a.status_code == 201 for i, a in enumerate(answers) if i != 5)
    assert len({m["id"] for m in made}) == 17
    subjects = {m["subject_id"] for m in made}
    assert len(subjects) == 6  # one subject per identity, even when created by concurrent requests
    recorded = db.execute(select(AuditEvent.object_id).where(AuditEvent.action == "consent.recorded")).scalars()
    assert {m["id"] for m in made} <= set(recorded)
    assert audit.verify(db).ok


def test_file_store_writers_take_turns(tmp_path: Path, ring: Keyring, settings) -> None:
    """Two writers on one SQLite file (as two worker processes would be) interleave without errors."""
    from privet.datamap.service import validate_and_apply
    from privet.db.engine import make_engine, make_sessionmaker, session_scope
    from privet.subjects.service import create_subject
    from privet.tables import metadata
    from tests.consent.conftest import KEPTEK

    engine = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
    metadata.create_all(engine)
    factory = make_sessionmaker(engine, settings)
    with session_scope(factory) as session:
        validate_and_apply(session, KEPTEK, actor="test")
        people = [
            create_subject(session, ring, [("email", f"p{i}@example.com", True)], actor="test").id for i in range(3)
        ]
    writers = [writer.RecordWriter(SimpleNamespace(sessionmaker=factory, keyring=ring)) for _ in range(2)]
    outcomes: list = []
    threads = [
        threading.Thread(
            target=lambda w=w: outcomes.extend(_submit(w, [_item(people[i % 3], PURPOSES[i % 3]) for i in range(10)]))
        )
        for w in writers
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(outcomes) == 20 and all(isinstance(o, dict) for o in outcomes)
    assert (tmp_path / "store.db-writer.lock").exists()
    with factory() as session:
        assert audit.verify(session).ok and _count(session, ConsentRecord) == 20
    engine.dispose()
