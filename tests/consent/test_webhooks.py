"""Webhooks: signatures, endpoints, the queue; the real local HTTP receiver the delivery tests share."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from faker import Faker
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from privet.audit.models import AuditEvent
from privet.consent.models import ConsentRecord, WebhookDelivery, WebhookEndpoint
from privet.consent.webhooks import service as webhooks
from privet.consent.webhooks import signing
from privet.consent.webhooks.delivery import deliver_due
from privet.kit.clock import utcnow
from privet.kit.crypto import Keyring
from privet.kit.errors import InvalidInput, NotFound
from privet.kit.ids import new_id
from privet.settings import Settings
from privet.subjects.models import Identity, Subject

ACTOR = "test:webhooks"
T0 = datetime(2031, 3, 4, 5, 6, 7, tzinfo=UTC)


@dataclass
class Receiver:
    """A real HTTP server on a free loopback port: records every POST, answers with scripted (status, delay)."""

    script: list[tuple[int, float]] = field(default_factory=list)
    requests: list[tuple[dict, bytes]] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/privet"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                headers = {k.lower(): v for k, v in self.headers.items()}
                receiver.requests.append(({**headers, ":path": self.path}, body))
                status, delay = receiver.script.pop(0) if receiver.script else (200, 0.0)
                time.sleep(delay)  # longer than the client's timeout: Privet gives up on this attempt
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"receiver internals: stack trace here")  # must never reach last_error

            def log_message(self, *_args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.block_on_close = False
        self.server.handle_error = lambda *_a: None  # a client that timed out closed the socket: expected
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        return self


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A running receiver, stopped after the test."""
    running = Receiver().start()
    yield running
    running.server.shutdown()
    running.server.server_close()


@pytest.fixture
def keyring() -> Keyring:
    return Keyring(b"k" * 32)


@pytest.fixture
def wh_settings(settings: Settings) -> Settings:
    """Small timeout and few attempts keep the retry tests fast."""
    return settings.model_copy(update={"webhook_timeout_seconds": 0.3, "webhook_max_attempts": 3})


@pytest.fixture(scope="module")
def fake() -> Faker:
    return Faker(["en_US", "zh_CN"])


def make_record(
    db: Session, keyring: Keyring, fake: Faker, *, purpose: str = "marketing", event_name: str = "given"
) -> tuple[ConsentRecord, str]:
    """A subject with an e-mail identity and one ledger record; returns (record, the e-mail)."""
    email = fake["zh_CN" if fake.pybool() else "en_US"].email()
    subject = Subject(subject_type="customer")
    subject.identities.append(
        Identity(
            type="email",
            blind_index=keyring.blind_index("email", email),
            value_enc=keyring.encrypt(email, context="identity:email"),
            created_at=utcnow(),
        )
    )
    db.add(subject)
    db.flush()
    now = utcnow()
    record = ConsentRecord(
        id=new_id(),
        subject_id=subject.id,
        purpose=purpose,
        categories=["contact"],
        legal_basis="consent",
        event=event_name,
        at=now,
        recorded_at=now,
        method="form",
        actor=ACTOR,
        evidence={},
    )
    db.add(record)
    db.flush()
    return record, email


def deliveries(db: Session) -> list[WebhookDelivery]:
    db.expire_all()  # deliver_due changed rows through its own sessions
    return list(db.scalars(select(WebhookDelivery).order_by(WebhookDelivery.created_at, WebhookDelivery.id)))


# --- signatures ---------------------------------------------------------------------------------------------
def test_signature_verifies_and_rejects_tampering() -> None:
    secret, body = "whsec_" + "a" * 43, b'{"id":"d1","data":{"purpose":"marketing"}}'
    t = int(T0.timestamp())
    header = signing.sign(secret, body, t)
    assert signing.verify_signature(secret, header, body, now=T0)
    assert signing.verify_signature(secret, header, body.decode(), now=T0 + timedelta(seconds=299))
    assert not signing.verify_signature(secret, header, body.replace(b"marketing", b"analytics"), now=T0)
    assert not signing.verify_signature(secret, header.replace(f"t={t}", f"t={t + 1}"), body, now=T0)
    assert not signing.verify_signature(secret, header, body, now=T0 + timedelta(seconds=301))  # too old
    assert not signing.verify_signature(secret, header, body, now=T0 + timedelta(seconds=30), tolerance=10)
    assert not signing.verify_signature("whsec_other", header, body, now=T0)
    for garbage in ("", "v1=abc", "t=notanumber,v1=00", f"t={t}"):
        assert not signing.verify_signature(secret, garbage, body, now=T0)
    rotated = f"t={t},v1={'0' * 64},{header.split(',')[1]}"  # several v1 values: any one may match
    assert signing.verify_signature(secret, rotated, body, now=T0)


# --- endpoints ----------------------------------------------------------------------------------------------
def test_add_endpoint_https_rule_and_secret_at_rest(db: Session, keyring: Keyring) -> None:
    before = db.scalar(select(func.count()).select_from(WebhookEndpoint))
    for url in (
        "http://hooks.example.com/x",
        "ftp://hooks.example.com/x",
        "hooks.example.com",
        "https://user:pw@hooks.example.com/x",
        "https://" + "a" * 500 + ".com",
    ):
        with pytest.raises(InvalidInput) as err:
            webhooks.add_endpoint(db, keyring, url=url, actor=ACTOR)
        assert "user:pw" not in str(err.value)
    with pytest.raises(InvalidInput) as err:
        webhooks.add_endpoint(db, keyring, url="http://hooks.example.com/x", actor=ACTOR)
    assert "https" in err.value.detail and "loopback" in err.value.hint
    with pytest.raises(InvalidInput, match="Unknown webhook event"):
        webhooks.add_endpoint(db, keyring, url="https://hooks.example.com/x", events=["consent.deleted"], actor=ACTOR)
    assert db.scalar(select(func.count()).select_from(WebhookEndpoint)) == before  # nothing written

    for url in ("https://hooks.example.com/x", "http://127.0.0.1:9/x", "http://localhost/x", "http://[::1]:80/"):
        endpoint, secret = webhooks.add_endpoint(db, keyring, url=url, actor=ACTOR)
        assert endpoint.active and endpoint.events == ["consent.changed"] and secret.startswith("whsec_")
        assert secret.encode() not in endpoint.secret_enc
        assert keyring.decrypt_text(endpoint.secret_enc, context="webhook") == secret
    added = db.scalars(select(AuditEvent).where(AuditEvent.action == "webhook.endpoint_added")).all()
    assert len(added) == 4 and all(secret not in json.dumps(e.details) for e in added)
    assert {e.details["host"] for e in added} == {"hooks.example.com", "127.0.0.1", "localhost", "::1"}


def test_enqueue_without_endpoints_writes_nothing_and_caches(db: Session, keyring: Keyring, fake: Faker) -> None:
    record, _ = make_record(db, keyring, fake)
    webhooks.enqueue(db, record)
    statements: list[str] = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731 - (conn, cursor, statement, ...)
    event.listen(db.connection(), "before_cursor_execute", listener)
    try:
        webhooks.enqueue(db, record)  # same transaction: the endpoint list is cached, no query at all
    finally:
        event.remove(db.connection(), "before_cursor_execute", listener)
    assert statements == []
    db.flush()
    assert deliveries(db) == []


def test_inactive_endpoints_get_nothing(
    db: Session, session_factory, keyring: Keyring, wh_settings: Settings, receiver: Receiver, fake: Faker
) -> None:
    live, _ = webhooks.add_endpoint(db, keyring, url=receiver.url, actor=ACTOR)
    gone, _ = webhooks.add_endpoint(db, keyring, url=receiver.url + "/old", actor=ACTOR)
    record, _ = make_record(db, keyring, fake)
    webhooks.enqueue(db, record)  # one for each active endpoint, cancelled below for the deactivated one
    webhooks.deactivate_endpoint(db, gone.id, actor=ACTOR)
    assert webhooks.deactivate_endpoint(db, gone.id, actor=ACTOR).active is False  # idempotent
    webhooks.enqueue(db, make_record(db, keyring, fake)[0])  # the cache was dropped: only `live` now
    db.commit()
    report = deliver_due(session_factory, keyring, wh_settings)
    assert (report.attempted, report.delivered) == (2, 2)
    assert {r[0]["privet-delivery"] for r in receiver.requests} == {
        d.id for d in deliveries(db) if d.endpoint_id == live.id
    }
    assert {r[0][":path"] for r in receiver.requests} == {"/hooks/privet"}
    assert [d.status for d in deliveries(db) if d.endpoint_id == gone.id] == ["cancelled"]
    deactivated = db.scalars(select(AuditEvent).where(AuditEvent.action == "webhook.endpoint_deactivated")).all()
    assert len(deactivated) == 1 and deactivated[0].details == {"cancelled_deliveries": 1}
    with pytest.raises(NotFound):
        webhooks.deactivate_endpoint(db, "nope", actor=ACTOR)
