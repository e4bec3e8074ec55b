"""Fixtures for the consent ledger tests: the Keptek data map applied, a keyring, subjects made from Faker data."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from faker import Faker
from sqlalchemy.orm import Session

from privet.kit.crypto import Keyring
from privet.subjects.models import Subject

ROOT = Path(__file__).resolve().parents[2]
KEPTEK = ROOT / "examples" / "keptek" / "datamap"
ZKTECO = ROOT / "examples" / "zkteco" / "datamap"


@pytest.fixture(scope="session")
def faker_multi() -> Faker:
    """English and Chinese personal-looking data (never seeded: tests must not depend on particular values)."""
    return Faker(["en_US", "zh_CN"])


@pytest.fixture
def ring() -> Keyring:
    """A keyring for service tests."""
    return Keyring(b"k" * 32)


@pytest.fixture
def keptek(db: Session) -> Session:
    """The Keptek data map (PIPL, child age 14) applied in the test's transaction."""
    from privet.datamap.service import validate_and_apply

    validate_and_apply(db, KEPTEK, actor="test")
    db.flush()
    return db


@pytest.fixture
def make_subject(db: Session, ring: Keyring, faker_multi: Faker) -> Callable[..., Subject]:
    """Create a subject with a fresh e-mail identity, optionally with a birth date."""
    from privet.subjects import ages, service

    def make(birth: date | None = None) -> Subject:
        subject = service.create_subject(db, ring, [("email", faker_multi.unique.email(), True)], actor="test")
        if birth is not None:
            ages.set_birth_date(db, ring, subject, birth, policy=ages.age_policy(db), actor="test")
        return subject

    return make
