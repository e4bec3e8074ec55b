"""The HTTP connector against a real local receiver: signed calls, 200/202/500, timeouts, and signed callbacks."""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from faker import Faker
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from privet.audit.models import AuditEvent
from privet.connectors.base import REGISTRY, ConnectorError, DatastorePlan
from privet.connectors.http import HttpConnector, callback_url, new_callback_token, parse_answer
from privet.consent.webhooks.signing import sign, verify_signature
from privet.datamap.models import DatamapDatastore
from privet.kit.clock import utcnow
from privet.kit.crypto import Keyring
from privet.requests.crypto import step_rows
from privet.requests.models import RequestStep
from privet.settings import Settings
from tests.requests.test_package import make_request

fake = Faker(["en_US", "zh_CN"])
KEY = "sk_" + secrets.token_urlsafe(24)
PLAN = DatastorePlan(datastore="crm_api", kind="http", region="CN", tables={}, edges=(), entries=())


@dataclass
class Receiver:
    """The company's endpoint: a real HTTP server on a loopback port that checks Privet's signature and answers
    from a script of (status, JSON body, delay)."""

    script: list[tuple[int, object, float]] = field(default_factory=list)
    calls: list[tuple[dict, bytes, bool]] = field(default_factory=list)  # (headers, body, signature valid)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/privet"

    def secret(self, **extra: object) -> str:
        return json.dumps({"url": self.url, "signing_key": KEY, **extra})

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                headers = {k.lower(): v for k, v in self.headers.items()}
                valid = verify_signature(KEY, headers.get("x-privet-signature", ""), body)
                receiver.calls.append((headers, body, valid))
                status, answer, delay = receiver.script.pop(0) if receiver.script else (200, {"rows": {}}, 0.0)
                time.sleep(delay)
                raw = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
                self.send_response(status if valid else 401)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *_args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.block_on_close = False
        self.server.handle_error = lambda *_a: None  # a client that timed out closed the socket: expected
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        return self


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver().start()
    yield running
    running.server.shutdown()
    running.server.server_close()


def identities() -> dict[str, list[str]]:
    return {"email": [fake.unique.email(domain="example.com")], "phone": ["+86" + fake["zh_CN"].phone_number()]}


def connector(receiver: Receiver, **extra: object) -> HttpConnector:
    made = HttpConnector(PLAN, receiver.secret(**extra))
    made.request_reference = "R-TEST0001"
    return made


def test_registered_as_http() -> None:
    from privet.connectors.registry import connector_class

    assert REGISTRY["http"] is HttpConnector and connector_class("http") is HttpConnector


def test_fetch_posts_signed_identities_and_reads_rows(receiver: Receiver) -> None:
    who = identities()
    name = fake["zh_CN"].name()
    receiver.script = [(200, {"rows": {"contacts": [{"id": 1, "name": name}], "notes": []}}, 0.0)]
    with connector(receiver) as http:
        result = http.fetch(who)
    [(headers, body, valid)] = receiver.calls
    assert valid and headers["content-type"] == "application/json"
    assert headers["x-privet-signature"].startswith("t=")
    sent = json.loads(body)
    assert sent == {"action": "fetch", "datastore": "crm_api", "request_reference": "R-TEST0001", "identities": who}
    assert result.rows == {"contacts": [{"id": 1, "name": name}], "notes": []} and not result.pending
    assert result.counts == {"contacts": {"found": 1}, "notes": {"found": 0}}


def test_erase_and_rectify_report_counts_and_retained(receiver: Receiver) -> None:
    retained = [{"table": "invoices", "field": "buyer_name", "reason": "accounting records", "until": "2036-01-01"}]
    receiver.script = [
        (200, {"counts": {"contacts": {"deleted": 2}}, "retained": retained}, 0.0),
        (200, {"counts": {"contacts": {"updated": 1}}}, 0.0),
    ]
    who = identities()
    with connector(receiver) as http:
        erased = http.erase(who, retain_from=date(2031, 1, 31))
        fixed = http.rectify(who, {"user.contact.email": "new@example.com"})
    assert erased.counts == {"contacts": {"deleted": 2}} and erased.retained == retained
    assert fixed.counts == {"contacts": {"updated": 1}} and fixed.retained == []
    first, second = (json.loads(body) for _, body, _ in receiver.calls)
    assert first["action"] == "erase" and first["retain_from"] == "2031-01-31"
    assert second["action"] == "rectify" and second["changes"] == {"user.contact.email": "new@example.com"}


def test_202_means_the_answer_comes_by_callback(receiver: Receiver) -> None:
    receiver.script = [(202, {"accepted": True}, 0.0), (202, {}, 0.0)]
    http = connector(receiver)
    http.callback_url, http.callback_token = "https://privet.example.com/api/v1/requests/callbacks/s1", "pcb_x"
    assert http.fetch(identities()).pending
    sent = json.loads(receiver.calls[0][1])
    assert (sent["callback_url"], sent["callback_token"]) == (http.callback_url, "pcb_x")
    http.callback_url = None
    with pytest.raises(ConnectorError, match="no callback URL"):
        http.fetch(identities())
    http.close()


def test_errors_name_the_datastore_never_values(receiver: Receiver) -> None:
    who = identities()
    receiver.script = [
        (500, {"error": "stack trace with " + who["email"][0]}, 0.0),
        (200, b"not json", 0.0),
        (200, {"rows": {"contacts": "nope"}}, 0.0),
        (200, {"something": 1}, 0.0),
    ]
    http = connector(receiver)
    messages = []
    for expected in ("answered HTTP 500", "not JSON", "`rows` must map", "with `rows` or `counts`"):
        with pytest.raises(ConnectorError, match=expected) as failure:
            http.fetch(who)
        messages.append(str(failure.value))
    assert all(m.startswith("datastore crm_api:") for m in messages)
    assert not any(who["email"][0] in m or who["phone"][0] in m or "stack trace" in m for m in messages)
    http.close()


def test_timeout_and_unreachable(receiver: Receiver) -> None:
    receiver.script = [(200, {"rows": {}}, 1.0)]
    with connector(receiver, timeout=0.2) as http, pytest.raises(ConnectorError, match=r"timed out after 0\.2 s"):
        http.fetch(identities())
    closed = HttpConnector(PLAN, json.dumps({"url": "http://127.0.0.1:9/privet", "signing_key": KEY}))
    with closed, pytest.raises(ConnectorError, match="could not be reached"):
        closed.test_connection()


def test_ping(receiver: Receiver) -> None:
    with connector(receiver) as http:
        http.test_connection()
    assert json.loads(receiver.calls[0][1])["action"] == "ping" and receiver.calls[0][2]


@pytest.mark.parametrize(
    ("secret", "expected"),
    [
        (None, "not usable"),
        ("https://crm.example.com/privet", "not usable"),
        (json.dumps({"url": "https://crm.example.com/privet"}), "not usable"),
        (json.dumps({"url": "ftp://crm.example.com/x", "signing_key": KEY}), "not a plain http"),
        (json.dumps({"url": "https://user:pw@crm.example.com/x", "signing_key": KEY}), "not a plain http"),
        (json.dumps({"url": "http://crm.example.com/privet", "signing_key": KEY}), "must use https"),
        (json.dumps({"url": "https://crm.example.com/privet", "signing_key": "short"}), "16\\+ characters"),
    ],
    ids=["none", "bare-url", "no-key", "ftp", "credentials-in-url", "plain-http", "short-key"],
)
def test_unusable_secrets_are_refused_without_quoting_them(secret: str | None, expected: str) -> None:
    with pytest.raises(ConnectorError, match=expected) as failure:
        HttpConnector(PLAN, secret)
    assert KEY not in str(failure.value) and "crm.example.com" not in str(failure.value)


def test_parse_answer_merges_rows_into_counts() -> None:
    result = parse_answer("x", {"rows": {"a": [{"id": 1}, {"id": 2}]}, "counts": {"b": {"deleted": 1}}})
    assert result.counts == {"a": {"found": 2}, "b": {"deleted": 1}}
    for bad in ({"counts": {"b": {"deleted": -1}}}, {"counts": {"b": {"deleted": True}}}, {"retained": "x"}, []):
        with pytest.raises(ConnectorError):
            parse_answer("x", bad)


# --- the asynchronous answer: POST /api/v1/requests/callbacks/{step_id} ------------------------------------------
@pytest.fixture
def settings(settings: Settings, receiver: Receiver) -> Settings:
    """The app's settings with the endpoint's secret (the app fixture picks this up)."""
    return settings.model_copy(update={"secrets": {"crm_api_secret": receiver.secret()}})


def waiting_step(db: Session, keyring: Keyring) -> RequestStep:
    db.add(DatamapDatastore(key="crm_api", system_key="crm", kind="http", region="CN", secret="crm_api_secret"))
    request = make_request(db, keyring, status="waiting")
    step = RequestStep(
        request_id=request.id,
        position=0,
        datastore_key="crm_api",
        connector="http",
        action="fetch",
        status="waiting",
        counts={},
        retained=[],
    )
    db.add(step)
    db.flush()
    return step


def company_answers(client: TestClient, url: str, token: str, answer: dict, *, key: str = KEY):
    body = json.dumps(answer).encode()
    return client.post(
        url,
        content=body,
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "X-Privet-Signature": sign(key, body, int(utcnow().timestamp())),
        },
    )


def test_callback_round_trip(client: TestClient, db: Session, settings: Settings, receiver: Receiver) -> None:
    keyring = Keyring.from_settings(settings)
    step = waiting_step(db, keyring)
    http = HttpConnector(PLAN, receiver.secret())
    http.callback_url = callback_url(settings.public_url, step.id)
    http.callback_token = new_callback_token(step)
    db.commit()  # the executor commits the token's hash before calling out
    receiver.script = [(202, {}, 0.0)]
    assert http.fetch(identities()).pending
    sent = json.loads(receiver.calls[0][1])
    path = sent["callback_url"].removeprefix(settings.public_url)
    assert path == f"/api/v1/requests/callbacks/{step.id}"
    name = fake["zh_CN"].name()

    assert company_answers(client, path, "pcb_wrong", {"rows": {}}).status_code == 401
    assert company_answers(client, path, sent["callback_token"], {"rows": {}}, key=KEY + "x").status_code == 401
    assert (
        company_answers(client, "/api/v1/requests/callbacks/nostep", sent["callback_token"], {"rows": {}}).status_code
        == 401
    )
    bad = company_answers(client, path, sent["callback_token"], {"rows": {"contacts": 3}})
    assert bad.status_code == 422 and "rows" in bad.json()["detail"]

    done = company_answers(client, path, sent["callback_token"], {"rows": {"contacts": [{"id": 9, "name": name}]}})
    assert done.status_code == 200 and done.json() == {"step_id": step.id, "status": "done"}
    db.expire_all()
    step = db.get(RequestStep, step.id)
    assert step.status == "done" and step.counts == {"contacts": {"found": 1}} and step.callback_token_hash is None
    assert step_rows(keyring, step) == {"contacts": [{"id": 9, "name": name}]}
    replay = company_answers(client, path, sent["callback_token"], {"rows": {}})
    assert replay.status_code == 401  # the token worked once
    [event] = db.scalars(select(AuditEvent).where(AuditEvent.action == "request.step_callback")).all()
    assert event.actor == "connector:crm_api" and name not in json.dumps(event.details, ensure_ascii=False)


def test_callback_may_overtake_the_call_but_not_a_finished_step(
    client: TestClient, db: Session, settings: Settings
) -> None:
    keyring = Keyring.from_settings(settings)
    step = waiting_step(db, keyring)
    token = new_callback_token(step)
    step.status = "running"  # the company answered before Privet recorded its own call as waiting
    db.commit()
    answer = company_answers(client, f"/api/v1/requests/callbacks/{step.id}", token, {"counts": {}})
    assert answer.status_code == 200 and answer.json()["status"] == "done"

    failed = RequestStep(
        request_id=step.request_id,
        position=1,
        datastore_key="crm_api",
        connector="http",
        action="erase",
        status="failed",
        counts={},
        retained=[],
    )
    db.add(failed)
    token = new_callback_token(failed)
    db.commit()
    late = company_answers(client, f"/api/v1/requests/callbacks/{failed.id}", token, {"counts": {}})
    assert late.status_code == 409 and "already failed" in late.json()["detail"]
