"""Fixtures for request tests: a real shop database with its data map applied, a real SMTP server, settings that
run jobs in the test's thread, and helpers to file, verify and drain the job queue."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from faker import Faker
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from privet.kit.crypto import Keyring
from privet.settings import Settings
from tests.requests.shop import Shop, build_shop, write_datamap
from tests.subjects.test_verification_support import verify_smtp  # noqa: F401 - fixture


@pytest.fixture
def keyring(settings: Settings) -> Keyring:
    """The keyring the app builds from these settings."""
    return Keyring.from_settings(settings)


@pytest.fixture
def shop_db(tmp_path: Path) -> Shop:
    """The shop's customer database in a SQLite file."""
    return build_shop(f"sqlite:///{tmp_path / 'shop.sqlite'}")


@pytest.fixture
def conf(settings: Settings, verify_smtp, shop_db: Shop) -> Settings:
    """Settings: mail to the local SMTP server, the shop's secret, quick retries, no background job threads."""
    return settings.model_copy(
        update={
            "smtp_port": verify_smtp.port,
            "secrets": {"shop_db": shop_db.url},
            "jobs_threads": 0,
            "jobs_max_attempts": 3,
            "jobs_retry_seconds": 0.01,
            "public_url": "https://privacy.shop.example",
        }
    )


@pytest.fixture
def store(db: Session, conf: Settings, shop_db: Shop, tmp_path: Path) -> Session:
    """The test's session with the shop's data map applied and jobs going by `conf`."""
    from privet.datamap.service import validate_and_apply
    from privet.jobs import dispatch

    db.info[dispatch.SETTINGS_KEY] = conf
    validate_and_apply(db, write_datamap(tmp_path / "datamap", shop_db.kind), actor="test")
    db.flush()
    return db


@pytest.fixture
def drain(db: Session, session_factory: sessionmaker[Session], conf: Settings, keyring: Keyring) -> Callable[..., int]:
    """Commit the test session, run every job (waiting out short retry back-offs), then refresh the session."""
    from privet.jobs.models import Job
    from privet.jobs.service import run_until_idle

    def run(settings: Settings | None = None, *, max_rounds: int = 300) -> int:
        db.commit()
        ran = 0
        for _ in range(max_rounds):
            done = run_until_idle(session_factory, settings or conf, keyring)
            ran += done
            if done:
                continue
            with session_factory() as check:
                waiting = check.execute(select(Job.id).where(Job.status.in_(("queued", "running")))).first()
            if waiting is None:
                break
            time.sleep(0.02)
        db.expire_all()
        return ran

    return run


@pytest.fixture
def fake() -> Faker:
    return Faker("en_US")


@pytest.fixture
def file(store: Session, keyring: Keyring, conf: Settings) -> Callable[..., object]:
    """`file("access", customer)` files a request for a shop customer's e-mail (or `identity_type`, `identity`)."""
    from privet.requests.intake.service import file_request

    def make(
        request_type: str, customer=None, *, identity_type: str = "email", identity: str | None = None, **kwargs: object
    ):
        value = identity if identity is not None else getattr(customer, identity_type)
        return file_request(
            store,
            keyring,
            conf,
            request_type=request_type,
            identity_type=identity_type,
            identity=str(value),
            filed_by=kwargs.pop("filed_by", "public:api"),
            **kwargs,
        )

    return make


@pytest.fixture
def verified(store: Session, keyring: Keyring, conf: Settings) -> Callable[..., object]:
    """`verified(request, inbox)`: prove the identity with the code the SMTP server received;
    `verified(request)`: a staff member's recorded identity check (no mail needed)."""
    from privet.requests.intake.verify import record_identity_check, send_code, verify_with_code
    from privet.requests.service import identity_value

    def prove(request, inbox=None):
        if inbox is None:
            return record_identity_check(
                store, keyring, conf, request, method="id_document", note="checked at the counter", actor="user:officer"
            )
        start = send_code(store, keyring, conf, request)
        code = inbox.code_for(identity_value(keyring, request))
        return verify_with_code(store, keyring, conf, request, challenge_id=start.challenge_id, code=code)

    return prove


@pytest.fixture
def smtp(verify_smtp) -> Iterator:
    """The SMTP server's inbox, emptied for this test."""
    verify_smtp.inbox.messages.clear()
    yield verify_smtp.inbox
