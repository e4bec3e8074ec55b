"""A store whose chain was written before chains were keyed: upgraded, sealed, and honest about what is proven."""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from privet.audit import chain, service
from privet.audit.models import AuditEvent
from privet.db import migrate
from privet.db.engine import make_engine, make_sessionmaker
from privet.kit.errors import Unavailable
from privet.settings import get_settings
from tests.conftest import PrivetCli
from tests.support.tamper import lift_guards

EVENTS = AuditEvent.__table__
T0 = datetime(2026, 11, 1, 8, 0, 0, 123456, tzinfo=UTC)


def _old_hash(
    prev_hash: str, seq: int, at: datetime, actor: str, action: str, object_type: str, object_id: str, details: dict
) -> str:
    """Privet's hash before migration 0008, copied as it was."""
    body = {
        "seq": seq,
        "at": at.isoformat(timespec="microseconds"),
        "actor": actor,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "details": details,
    }
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()
    return hashlib.sha256(prev_hash.encode() + text).hexdigest()


def _write_old_chain(engine: Engine, n: int) -> list[dict]:
    """Events as Privet 0007 wrote them (plain hashes, a head without keyed columns)."""
    prev, events = service.GENESIS, []
    for seq in range(1, n + 1):
        event = {
            "seq": seq,
            "at": T0 + timedelta(minutes=seq),
            "actor": "officer-1",
            "action": "subject.created",
            "object_type": "subject",
            "object_id": f"s{seq}",
            "details": {"n": seq, "名": "值"},
            "prev_hash": prev,
        }
        event["hash"] = prev = _old_hash(
            prev, *(event[k] for k in ("seq", "at", "actor", "action", "object_type", "object_id", "details"))
        )
        events.append(event)
    with engine.begin() as conn:
        conn.execute(EVENTS.insert(), events)
        conn.execute(
            sa.text("INSERT INTO audit_head (id, seq, hash) VALUES (1, :seq, :hash)"), {"seq": n, "hash": prev}
        )
    return events


@pytest.fixture
def old_store(cli_store: str) -> Iterator[Engine]:
    """A store at migration 0007 holding a chain of 5 events written with plain hashes."""
    engine = make_engine(cli_store)
    migrate.upgrade(engine, "0007")
    _write_old_chain(engine, 5)
    yield engine
    engine.dispose()


def _session(engine: Engine) -> Session:
    return make_sessionmaker(engine, get_settings())()


def test_the_plain_hash_of_old_events_is_the_one_privet_wrote() -> None:
    event = {
        "seq": 3,
        "at": T0,
        "actor": "a",
        "action": "b",
        "object_type": "c",
        "object_id": "d",
        "details": {"x": [1, "二"]},
        "prev_hash": "9" * 64,
    }
    assert chain.legacy_hash(event) == _old_hash("9" * 64, 3, T0, "a", "b", "c", "d", {"x": [1, "二"]})


def test_db_upgrade_seals_the_old_chain_and_verify_says_what_is_proven(old_store: Engine) -> None:
    run = PrivetCli()
    assert run("db", "upgrade").exit_code == 0
    with _session(old_store) as session:
        result = service.verify(session)
        seal = session.get(AuditEvent, 6)
    assert result.ok and result.checked == 6 and result.keyed_from == 6 and result.legacy == 5
    assert seal.action == "audit.chain_keyed" and seal.details["legacy_events"] == 5
    out = run("audit", "verify")
    assert out.exit_code == 0, out.output
    assert "events 1-5 were written before the chain was keyed" in out.output and "not before" in out.output
    assert "events 6-6 carry keyed hashes" in out.output
    assert run("users", "create", "officer9", "--role", "auditor").exit_code == 0  # appends keep the chain keyed
    assert "events 6-7 carry keyed hashes" in run("audit", "verify").output


def test_upgraded_without_the_key_the_chain_is_not_proven_and_not_appended_to_until_sealed(old_store: Engine) -> None:
    migrate.upgrade(old_store)  # from code, without settings: nothing can be keyed
    run = PrivetCli()
    out = run("audit", "verify")
    assert out.exit_code == 1 and "NOT PROVEN" in out.output and "privet audit seal" in out.output
    with _session(old_store) as session, pytest.raises(Unavailable, match="not sealed"):
        service.record(session, actor="system", action="test.event", object_type="thing", object_id="1")
    sealed = run("audit", "seal")
    assert sealed.exit_code == 0 and "events 1-5 are proven unchanged from now on by event 6" in sealed.output
    assert run("audit", "seal").output.startswith("the audit chain is keyed already")
    assert run("audit", "verify").exit_code == 0


def test_seal_refuses_a_broken_old_chain(old_store: Engine) -> None:
    migrate.upgrade(old_store)
    with old_store.begin() as conn:
        lift_guards(conn)
        conn.execute(sa.text("UPDATE audit_events SET actor = 'forged' WHERE seq = 2"))
    out = PrivetCli()("audit", "seal")
    assert out.exit_code == 1 and "broken at event 2" in out.output


def test_old_events_changed_after_the_seal_are_found(old_store: Engine) -> None:
    migrate.upgrade(old_store, settings=get_settings())
    with _session(old_store) as session:
        lift_guards(session)
        # changed without recomputing: the plain hash finds the event itself
        session.execute(sa.update(AuditEvent).where(AuditEvent.seq == 3).values(object_id="s-forged"))
        assert service.verify(session).first_bad_seq == 3
        # changed with every plain hash after it recomputed: only the seal can tell, not which event it was
        events = [
            dict(r)
            for r in session.execute(sa.select(EVENTS).where(EVENTS.c.seq <= 5).order_by(EVENTS.c.seq)).mappings()
        ]
        for before, event in itertools.pairwise(events):
            event["prev_hash"] = before["hash"]
            event["hash"] = chain.legacy_hash(event)
            session.execute(
                sa.update(AuditEvent)
                .where(AuditEvent.seq == event["seq"])
                .values(prev_hash=event["prev_hash"], hash=event["hash"])
            )
        result = service.verify(session)
        assert not result.ok and result.first_bad_seq == 6 and "before the chain was keyed" in result.reason
        session.rollback()
