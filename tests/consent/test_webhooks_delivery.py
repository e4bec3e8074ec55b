"""Delivery: signed POSTs, ids-only payloads, back-off, giving up visibly, crash safety, several workers."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from types import SimpleNamespace

import pytest
from faker import Faker
from sqlalchemy import select
from sqlalchemy.orm import Session

from privet.audit.models import AuditEvent
from privet.consent.models import WebhookDelivery, WebhookEndpoint
from privet.consent.webhooks import service as webhooks
from privet.consent.webhooks import signing
from privet.consent.webhooks.delivery import _claim, backoff, deliver_due, delivery_loop
from privet.kit.clock import frozen_at
from privet.kit.crypto import Keyring
from privet.kit.errors import Conflict, InvalidInput, NotFound
from privet.settings import Settings
from tests.consent.test_webhooks import (  # noqa: F401 - fixtures shared with the endpoint tests
    ACTOR,
    T0,
    Receiver,
    deliveries,
    fake,
    keyring,
    make_record,
    receiver,
    wh_settings,
)


def test_delivery_is_signed_and_carries_ids_only(
    db: Session, session_factory, keyring: Keyring, wh_settings: Settings, receiver: Receiver, fake: Faker
) -> None:
    endpoint, secret = webhooks.add_endpoint(db, keyring, url=receiver.url, actor=ACTOR)
    record, email = make_record(db, keyring, fake, purpose="marketing", event_name="withdrawn")
    webhooks.enqueue(db, record)
    db.commit()
    report = deliver_due(session_factory, keyring, wh_settings)
    assert (report.attempted, report.delivered, report.retried, report.failed) == (1, 1, 0, 0)
    [(headers, body)] = receiver.requests
    [delivery] = deliveries(db)
    assert headers["privet-event"] == "consent.changed" and headers["privet-delivery"] == delivery.id
    assert headers["content-type"] == "application/json"
    assert signing.verify_signature(secret, headers["privet-signature"], body)
    assert not signing.verify_signature(secret, headers["privet-signature"], body + b" ")
    sent = json.loads(body)
    assert sent["id"] == delivery.id and sent["type"] == "consent.changed"
    assert sent["data"] == {
        "record_id": record.id,
        "seq": record.seq,
        "subject_id": record.subject_id,
        "purpose": "marketing",
        "event": "withdrawn",
        "at": record.at.isoformat(),
    }
    assert email.encode() not in body and email.split("@")[0].encode() not in body
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 1, 200)
    assert delivery.delivered_at is not None and delivery.last_error is None
    assert deliver_due(session_factory, keyring, wh_settings).attempted == 0  # delivered once only
    assert endpoint.id == delivery.endpoint_id


def test_retries_with_growing_backoff_then_delivered(
    db: Session, session_factory, keyring: Keyring, wh_settings: Settings, receiver: Receiver, fake: Faker
) -> None:
    settings = wh_settings.model_copy(update={"webhook_max_attempts": 5})
    _, secret = webhooks.add_endpoint(db, keyring, url=receiver.url, actor=ACTOR)
    with frozen_at(T0):
        webhooks.enqueue(db, make_record(db, keyring, fake)[0])
    db.commit()
    receiver.script = [(500, 0.0), (200, 1.0)]  # an error, then an answer slower than the 0.3 s timeout

    with frozen_at(T0):
        report = deliver_due(session_factory, keyring, settings)
        assert (report.attempted, report.retried) == (1, 1)
        [first] = deliveries(db)
        assert (first.status, first.attempts, first.last_status_code) == ("pending", 1, 500)
        assert first.last_error == "answered HTTP 500" and "internals" not in first.last_error
        wait1 = first.next_attempt_at - T0
        assert timedelta(seconds=8) <= wait1 <= timedelta(seconds=10)
        assert deliver_due(session_factory, keyring, settings).attempted == 0  # not due yet

    t1 = first.next_attempt_at
    with frozen_at(t1):
        assert deliver_due(session_factory, keyring, settings).retried == 1
    [second] = deliveries(db)
    assert second.attempts == 2 and second.last_status_code is None and "timed out" in second.last_error
    wait2 = second.next_attempt_at - t1
    assert wait2 > wait1 and timedelta(seconds=16) <= wait2 <= timedelta(seconds=20)

    with frozen_at(second.next_attempt_at):
        assert deliver_due(session_factory, keyring, settings).delivered == 1
    [done] = deliveries(db)
    assert (done.status, done.attempts, done.last_status_code, done.last_error) == ("delivered", 3, 200, None)
    ids = {h["privet-delivery"] for h, _ in receiver.requests}
    assert len(receiver.requests) == 3 and ids == {done.id}  # receivers dedupe retries by this id
    h, body = receiver.requests[-1]
    with frozen_at(second.next_attempt_at):
        assert signing.verify_signature(secret, h["privet-signature"], body)
    assert not db.scalars(select(AuditEvent).where(AuditEvent.action == "webhook.failed")).all()


def test_backoff_is_capped() -> None:
    assert backoff(1) <= timedelta(seconds=10)
    assert timedelta(minutes=48) <= backoff(30) <= timedelta(hours=1)


def test_gives_up_after_max_attempts_then_redeliver(
    db: Session, session_factory, keyring: Keyring, wh_settings: Settings, receiver: Receiver, fake: Faker
) -> None:
    webhooks.add_endpoint(db, keyring, url=receiver.url, actor=ACTOR)
    webhooks.enqueue(db, make_record(db, keyring, fake)[0])
    db.commit()
    receiver.script = [(503, 0.0)] * 3
    moment = T0
    for _ in range(3):
        with frozen_at(moment):
            report = deliver_due(session_factory, keyring, wh_settings)
        [delivery] = deliveries(db)
        moment = delivery.next_attempt_at
    assert report.failed == 1 and delivery.status == "failed" and delivery.attempts == 3
    assert delivery.last_status_code == 503
    with frozen_at(moment + timedelta(hours=2)):
        assert deliver_due(session_factory, keyring, wh_settings).attempted == 0  # failed stays failed
    failed = db.scalars(select(AuditEvent).where(AuditEvent.action == "webhook.failed")).all()
    assert len(failed) == 1 and failed[0].object_id == delivery.id and failed[0].details["attempts"] == 3
    assert webhooks.list_deliveries(db, status="failed") == [delivery]

    again = webhooks.redeliver(db, delivery.id, actor=ACTOR)
    assert (again.status, again.attempts) == ("pending", 0)
    with pytest.raises(Conflict):
        webhooks.redeliver(db, delivery.id, actor=ACTOR)
    with pytest.raises(NotFound):
        webhooks.redeliver(db, "missing", actor=ACTOR)
    with pytest.raises(InvalidInput):
        webhooks.list_deliveries(db, status="lost")
    db.commit()
    assert deliver_due(session_factory, keyring, wh_settings).delivered == 1
    assert deliveries(db)[0].status == "delivered"


def test_a_worker_dying_mid_delivery_loses_nothing(
    db: Session, session_factory, keyring: Keyring, wh_settings: Settings, receiver: Receiver, fake: Faker
) -> None:
    webhooks.add_endpoint(db, keyring, url=receiver.url, actor=ACTOR)
    webhooks.enqueue(db, make_record(db, keyring, fake)[0])
    db.commit()
    with frozen_at(T0):
        claim = _claim(session_factory, keyring, wh_settings, T0)  # claimed, then the process died before POST
    assert claim.attempts == 1
    [leased] = deliveries(db)
    assert leased.status == "pending" and leased.next_attempt_at > T0
    with frozen_at(T0 + timedelta(seconds=5)):
        assert deliver_due(session_factory, keyring, wh_settings).attempted == 0  # the lease still holds
    with frozen_at(leased.next_attempt_at):
        assert deliver_due(session_factory, keyring, wh_settings).delivered == 1
    assert deliveries(db)[0].attempts == 2 and len(receiver.requests) == 1


def test_delivery_loop_delivers_until_cancelled(
    db: Session, session_factory, keyring: Keyring, wh_settings: Settings, receiver: Receiver, fake: Faker
) -> None:
    webhooks.add_endpoint(db, keyring, url=receiver.url, actor=ACTOR)
    webhooks.enqueue(db, make_record(db, keyring, fake)[0])
    db.commit()
    app = SimpleNamespace(state=SimpleNamespace(sessionmaker=session_factory, keyring=keyring, settings=wh_settings))

    async def run() -> None:
        task = asyncio.create_task(delivery_loop(app, interval=0.05))
        for _ in range(200):
            if receiver.requests:
                break
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(run())
    assert len(receiver.requests) == 1 and deliveries(db)[0].status == "delivered"


def test_workers_skip_rows_another_worker_holds(engine, keyring: Keyring, wh_settings: Settings) -> None:
    """PostgreSQL: a second worker takes the next delivery instead of waiting for the one being claimed."""
    if engine.dialect.name != "postgresql":
        pytest.skip("row locks with SKIP LOCKED are PostgreSQL's; SQLite has one writer at a time")
    from sqlalchemy import delete
    from sqlalchemy.orm import sessionmaker

    factory = sessionmaker(bind=engine, expire_on_commit=False)
    with factory() as setup:  # committed for real: two connections must see it
        endpoint = WebhookEndpoint(
            url="http://127.0.0.1:9/x",
            secret_enc=keyring.encrypt("s", context="webhook"),
            events=["consent.changed"],
            active=True,
            created_at=T0,
        )
        setup.add(endpoint)
        setup.flush()
        rows = [
            WebhookDelivery(
                endpoint_id=endpoint.id,
                event="consent.changed",
                payload={"n": n},
                next_attempt_at=T0 - timedelta(seconds=10 - n),
                created_at=T0,
            )
            for n in range(2)
        ]
        setup.add_all(rows)
        setup.commit()
    try:
        with factory() as worker_a:
            held = worker_a.execute(
                select(WebhookDelivery).where(WebhookDelivery.id == rows[0].id).with_for_update()
            ).scalar_one()
            claim = _claim(factory, keyring, wh_settings, T0)  # would block here without SKIP LOCKED
            assert claim.id == rows[1].id and held.id == rows[0].id
            worker_a.rollback()
        assert _claim(factory, keyring, wh_settings, T0).id == rows[0].id
        assert _claim(factory, keyring, wh_settings, T0) is None  # both leased now
    finally:
        with factory() as cleanup:
            cleanup.execute(delete(WebhookEndpoint).where(WebhookEndpoint.id == endpoint.id))
            cleanup.commit()


def test_unreachable_receiver_and_round_limit(
    db: Session, session_factory, keyring: Keyring, wh_settings: Settings, fake: Faker
) -> None:
    import socket

    with socket.socket() as probe:  # a loopback port nobody listens on any more
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    webhooks.add_endpoint(db, keyring, url=f"http://127.0.0.1:{port}/gone", actor=ACTOR)
    for _ in range(3):
        webhooks.enqueue(db, make_record(db, keyring, fake)[0])
    db.commit()
    with frozen_at(T0):
        report = deliver_due(session_factory, keyring, wh_settings, limit=2)
    assert (report.attempted, report.retried) == (2, 2)
    tried = [d for d in deliveries(db) if d.attempts]
    assert len(tried) == 2 and all(d.last_error == "request failed (ConnectError)" for d in tried)
    assert all(d.last_status_code is None and d.status == "pending" for d in tried)
