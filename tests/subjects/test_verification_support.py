"""Real local services for the verification tests: an SMTP server (aiosmtpd) and an SMS gateway (http.server).

Fixtures are named `verify_*` and imported by the test modules that use them; this module holds no tests.
"""

from __future__ import annotations

import email
import json
import re
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import phonenumbers
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from faker import Faker

CODE = re.compile(r"\b(\d{6})\b")
SMTP_USER, SMTP_PASSWORD = "privet", "mail-secret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Inbox:
    """Collects what the SMTP server receives."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd hook
        self.messages.append(
            (list(envelope.rcpt_tos), email.message_from_bytes(envelope.original_content, policy=default_policy))
        )
        return "250 Message accepted"

    def last_to(self, address: str) -> EmailMessage:
        found = [m for rcpts, m in self.messages if address in rcpts]
        assert found, "no e-mail reached that address"
        return found[-1]

    def code_for(self, address: str) -> str:
        match = CODE.search(self.last_to(address).get_content())
        assert match, "the e-mail carries no six-digit code"
        return match.group(1)


def _authenticate(server, session, envelope, mechanism, auth_data) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        SMTP_USER.encode(),
        SMTP_PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535 itself


@dataclass
class SmtpServer:
    port: int
    inbox: Inbox


@pytest.fixture(scope="module")
def verify_smtp() -> Iterator[SmtpServer]:
    """A real SMTP server on a free local port; its inbox is emptied before each test that asks for it."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, authenticator=_authenticate, auth_require_tls=False)
    controller.start()
    yield SmtpServer(port, inbox)
    controller.stop()


@dataclass
class Gateway:
    url: str
    requests: list[dict] = field(default_factory=list)
    status: int = 200

    def code_for(self, phone: str, key: str = "to", text: str = "text") -> str:
        bodies = [r["json"] for r in self.requests if r["json"].get(key) == phone]
        assert bodies, "no SMS reached that number"
        return CODE.search(bodies[-1][text]).group(1)


@pytest.fixture
def verify_gateway() -> Iterator[Gateway]:
    """A real HTTP SMS gateway: records each request's path, headers and JSON body; answers `status`."""
    gateway = Gateway(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            gateway.requests.append(
                {"path": self.path, "headers": dict(self.headers), "raw": raw, "json": json.loads(raw)}
            )
            self.send_response(gateway.status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"ok": true}')

        def log_message(self, *args: object) -> None:  # keep test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    gateway.url = f"http://127.0.0.1:{server.server_address[1]}/sms/send"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield gateway
    server.shutdown()
    server.server_close()


def cn_mobile(fake: Faker) -> str:
    """A valid mainland China mobile number from Faker, in E.164."""
    while True:
        number = phonenumbers.parse(fake.phone_number(), "CN")
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def console_code(text: str) -> str:
    """The code in the last line the console SMS sender printed."""
    lines = [line for line in text.splitlines() if line.startswith("[privet sms to ")]
    assert lines, "nothing was printed by the console SMS sender"
    return CODE.search(lines[-1]).group(1)
