"""Pages in a real browser: a served Privet (SQLite store with the Keptek demo), a real SMTP inbox, Chromium.

`site` is one served Privet for the whole web test session (loading the demo takes a few seconds): tests that
change state use fresh generated people, so they do not see each other. `page` is a new browser context per
test (its own cookies). Chromium is Debian's (`/usr/bin/chromium`); without it the browser tests skip with the
reason, and fail under CI=true (`.ci/run` installs it).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.subjects.test_verification_support import Inbox as SmtpInbox
from tests.subjects.test_verification_support import free_port as _free_port
from tests.support.services import unavailable

CHROMIUM = "/usr/bin/chromium"
CODE = re.compile(r"\b(\d{6})\b")


class Inbox(SmtpInbox):
    """What the local SMTP server received; pages send mail from other threads, so reading waits a little."""

    def last_to(self, address: str, timeout: float = 10.0) -> EmailMessage:
        """The newest e-mail to `address`, waiting up to `timeout` seconds for it."""
        deadline = time.monotonic() + timeout
        while True:
            found = [m for rcpts, m in self.messages if address.lower() in [r.lower() for r in rcpts]]
            if found:
                return found[-1]
            if time.monotonic() > deadline:
                raise AssertionError("no e-mail reached that address")
            time.sleep(0.05)

    def code_for(self, address: str, timeout: float = 10.0) -> str:
        """The six-digit code in the newest e-mail to `address` that carries one (a request's "received"
        e-mail may arrive after its code)."""
        deadline = time.monotonic() + timeout
        while True:
            for rcpts, message in reversed(self.messages):
                if address.lower() in [r.lower() for r in rcpts]:
                    part = message.get_body(("plain", "html"))
                    match = CODE.search(part.get_content() if part is not None else message.get_content())
                    if match:
                        return match.group(1)
            if time.monotonic() > deadline:
                raise AssertionError("no e-mail with a six-digit code reached that address")
            time.sleep(0.05)


@dataclass
class Site:
    """A served Privet for browser tests."""

    url: str
    settings: object
    inbox: Inbox
    app: object
    officers: dict[str, tuple[str, str]] = field(default_factory=dict)

    def session(self):
        return self.app.state.sessionmaker()

    def officer(self, role: str) -> tuple[str, str]:
        """(username, password) of a user with `role` whose password is their own (not one-time)."""
        if role not in self.officers:
            from privet.auth import service as auth

            username, password = f"{role.replace('_', '-')}-{len(self.officers)}", f"Pw-{os.urandom(9).hex()}"
            from privet.db.engine import begin_write

            with self.session() as session:
                begin_write(session)  # SQLite: queue for the write lock like the served app does
                auth.create_user(session, username, role, password=password, actor="test")
                session.commit()
            self.officers[role] = (username, password)
        return self.officers[role]


@pytest.fixture(scope="session")
def site() -> Iterator[Site]:
    """Privet served by uvicorn in a thread: SQLite store under a temp folder, Keptek demo, SMTP to a real inbox."""
    import uvicorn
    from aiosmtpd.controller import Controller

    from privet.app import create_app
    from privet.auth.service import ensure_first_admin
    from privet.db import migrate
    from privet.db.store import open_engine, store_session
    from privet.demo.service import load_demo
    from privet.kit.keys import master_secret
    from privet.settings import Settings

    folder = Path(tempfile.mkdtemp(prefix="privet-web-"))
    inbox = Inbox()
    smtp_port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    port = _free_port()
    settings = Settings(
        data_dir=folder / "var",
        secret_key="web-test-secret-0123456789abcdef",
        mail_sender="smtp",
        smtp_host="127.0.0.1",
        smtp_port=smtp_port,
        public_rate_limit_per_minute=10_000,
        otp_per_client_per_hour=10_000,  # every test signs in from 127.0.0.1
        public_url=f"http://127.0.0.1:{port}",
        jobs_threads=1,
        cookie_secure=False,
    )
    master_secret(settings, create=True)
    engine = open_engine(settings)
    migrate.upgrade(engine)
    with store_session(settings, engine=engine) as session:
        ensure_first_admin(session)
    load_demo(settings, engine, "keptek")
    engine.dispose()
    app = create_app(settings)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the test server did not start"
    from privet.db.engine import SETTINGS_INFO

    # The app's sessions take their keys (the audit chain's) from the process's settings; this site's are its own.
    app.state.sessionmaker.configure(info={SETTINGS_INFO: settings})
    yield Site(url=f"http://127.0.0.1:{port}", settings=settings, inbox=inbox, app=app)
    server.should_exit = True
    thread.join(timeout=15)
    controller.stop()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def browser() -> Iterator:
    """Headless Debian Chromium driven by Playwright."""
    if not Path(CHROMIUM).exists():
        unavailable("Chromium (/usr/bin/chromium; apt-get install chromium)", FileNotFoundError(CHROMIUM))
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, site: Site) -> Iterator:
    """A fresh browser context (no cookies) and page; English unless the test sets a locale itself."""
    context = browser.new_context(base_url=site.url, locale="en-US")
    context.set_default_timeout(15_000)
    tab = context.new_page()
    yield tab
    context.close()
