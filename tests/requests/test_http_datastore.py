"""A datastore behind the company's own HTTP endpoint (a real local server): fetched at once, erased later through
a signed callback to Privet's API."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from privet.consent.webhooks.signing import sign, verify_signature
from privet.settings import Settings
from tests.requests.shop import write_datamap

SIGNING_KEY = "company-endpoint-signing-key-0123"
HTTP_STORE = """
  - key: support_api
    system: shop
    kind: http
    region: CN
    secret: support_api
"""
HTTP_DATASET = """\
  - key: support
    datastore: support_api
    tables:
      - name: tickets
        primary_key: [id]
        erasure: {action: delete_row}
        fields:
          - {name: id}
          - {name: email, category: user.contact.email, identity: email}
          - {name: text, category: user.name}
"""


class Endpoint:
    """The company's endpoint: remembers each call; answers fetch with rows, erase with 202 (later)."""

    def __init__(self) -> None:
        self.calls: list[dict] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_port}/privet"

    def _handler(self):
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                assert verify_signature(SIGNING_KEY, self.headers["X-Privet-Signature"], raw)
                body = json.loads(raw)
                endpoint.calls.append(body)
                if body["action"] == "fetch":
                    answer = {
                        "rows": {
                            "tickets": [{"id": 7, "email": body["identities"]["email"][0], "text": "printer on fire"}]
                        }
                    }
                    self._send(200, answer)
                else:
                    self._send(202, {"accepted": True})

            def _send(self, status: int, answer: dict) -> None:
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        return Handler


@pytest.fixture
def endpoint() -> Iterator[Endpoint]:
    found = Endpoint()
    thread = threading.Thread(target=found.server.serve_forever, daemon=True)
    thread.start()
    yield found
    found.server.shutdown()


@pytest.fixture
def app(conf: Settings, engine, session_factory, db: Session, endpoint: Endpoint, shop_db, tmp_path: Path):
    """The app, with the shop's data map plus a datastore behind the company's HTTP endpoint."""
    from privet.app import create_app
    from privet.datamap.service import validate_and_apply
    from privet.jobs import dispatch

    secret = json.dumps({"url": endpoint.url, "signing_key": SIGNING_KEY, "timeout": 5})
    settings = conf.model_copy(update={"secrets": {**conf.secrets, "support_api": secret}})
    text = write_datamap(tmp_path / "datamap", shop_db.kind).read_text()
    text = text.replace("datasets:\n", "datasets:\n" + HTTP_DATASET, 1)
    text = text.replace("    secret: shop_db\n", "    secret: shop_db\n" + HTTP_STORE.lstrip("\n"), 1)
    path = tmp_path / "datamap" / "shop.yaml"
    path.write_text(text, encoding="utf-8")
    db.info[dispatch.SETTINGS_KEY] = settings
    validate_and_apply(db, path, actor="test")
    db.commit()
    application = create_app(settings, engine=engine, check_migrations=False)
    application.state.test_sessionmaker = session_factory
    return application


def test_fetch_at_once_and_erase_by_callback(
    client: TestClient, app, db: Session, keyring, drain, endpoint: Endpoint, shop_db
) -> None:
    from privet.requests.intake.service import file_request
    from privet.requests.intake.verify import record_identity_check

    settings = app.state.settings
    customer = shop_db.customers[0]
    access = file_request(
        db, keyring, settings, request_type="access", identity_type="email", identity=customer.email, filed_by="test"
    )
    record_identity_check(db, keyring, settings, access, method="id_document", note=None, actor="user:o")
    drain(settings)
    assert access.status == "completed", access.result
    assert access.result["tables"]["support_api"] == {"tickets": 1}
    [fetch] = [c for c in endpoint.calls if c["action"] == "fetch"]
    assert fetch["request_reference"] == access.reference and fetch["identities"]["email"] == [customer.email]

    erasure = file_request(
        db, keyring, settings, request_type="erasure", identity_type="email", identity=customer.email, filed_by="test"
    )
    record_identity_check(db, keyring, settings, erasure, method="id_document", note=None, actor="user:o")
    drain(settings)
    steps = {s.datastore_key: s for s in erasure.steps}
    assert steps["shop_db"].status == "done" and steps["support_api"].status == "waiting"
    assert erasure.status == "waiting"
    [call] = [c for c in endpoint.calls if c["action"] == "erase"]
    assert call["callback_url"].endswith(f"/api/v1/requests/callbacks/{steps['support_api'].id}")
    body = json.dumps({"counts": {"tickets": {"deleted": 1}}, "retained": []}).encode()
    path = call["callback_url"].split("privacy.shop.example", 1)[1]
    answer = client.post(
        path,
        content=body,
        headers={
            "Authorization": f"Bearer {call['callback_token']}",
            "X-Privet-Signature": sign(SIGNING_KEY, body, int(time.time())),
            "Content-Type": "application/json",
        },
    )
    assert answer.status_code == 200, answer.text
    db.expire_all()
    assert erasure.status == "completed"
    assert erasure.result["tables"]["support_api"] == {"tickets": {"deleted": 1}}
