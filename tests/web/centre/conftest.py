"""Privacy-centre fixtures: generated people, signing in through the real code e-mail, a guardian with a child."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import pytest
from faker import Faker

from tests.web.conftest import CODE

_faker = Faker()


@pytest.fixture
def person() -> Callable[[], str]:
    """`person()` → a new e-mail address nobody used yet (example.com)."""
    return lambda: _faker.unique.email(domain="example.com")


def code_for(site, address: str, timeout: float = 15.0) -> str:
    """The code in the newest e-mail to `address` that carries one (a request's "received" message, sent by a
    job, may arrive after the code)."""
    deadline = time.monotonic() + timeout
    while True:
        for rcpts, message in reversed(list(site.inbox.messages)):
            if address.lower() in [r.lower() for r in rcpts]:
                part = message.get_body(("plain", "html"))
                found = CODE.search(part.get_content() if part is not None else message.get_content())
                if found:
                    return found.group(1)
        assert time.monotonic() < deadline, "no e-mail with a code reached that address"
        time.sleep(0.05)


def sign_in(page, site, address: str) -> None:
    """Sign in at /signin with a code read from the test inbox; ends on the consents page."""
    page.goto("/signin")
    page.locator("#identity").fill(address)
    page.locator("form[action='/signin'] button[type=submit]").click()
    page.locator("#code").fill(code_for(site, address))
    page.locator("form[action='/signin/code'] button[type=submit]").click()
    page.wait_for_url("**/consents**")


@dataclass
class Family:
    guardian_id: str
    guardian_email: str
    child_id: str
    child_email: str


@pytest.fixture
def family(site, person) -> Family:
    """A verified adult guardian linked (as parent) to a ten-year-old child, both created by the services."""
    from privet.subjects.ages import age_policy, set_birth_date
    from privet.subjects.guardians import link_guardian
    from privet.subjects.service import create_subject

    keyring = site.app.state.keyring
    guardian_email, child_email = person(), person()
    from privet.db.engine import begin_write

    with site.session() as session:
        begin_write(session)  # SQLite: take the write lock first, as the served app does (no upgrade from a read)
        guardian = create_subject(session, keyring, [("email", guardian_email, True)], actor="test")
        child = create_subject(session, keyring, [("email", child_email, False)], actor="test")
        policy = age_policy(session)
        today = date.today()
        set_birth_date(session, keyring, guardian, date(today.year - 40, 1, 15), policy=policy, actor="test")
        set_birth_date(session, keyring, child, date(today.year - 10, 1, 15), policy=policy, actor="test")
        link_guardian(session, guardian, child, "parent", verified_method="email_code", evidence={}, actor="test")
        session.commit()
        return Family(guardian.id, guardian_email, child.id, child_email)
