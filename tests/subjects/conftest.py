"""Fixtures for subject tests: a keyring, personal-looking data from Faker, policies applied from a data map."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from faker import Faker
from sqlalchemy.orm import Session

from privet.auth.keys import create_api_key
from privet.kit.crypto import Keyring
from privet.settings import Settings

ORGANISATION = """\
organisation:
  key: acme
  name: Acme Devices
  profile: {profile}
  region: CN
  child_age: {child_age}
  adults_only: {adults_only}
  responsible:
    name: Data Protection Office
"""


@pytest.fixture
def keyring(settings: Settings) -> Keyring:
    """The same keyring the app builds from these settings."""
    return Keyring.from_settings(settings)


@pytest.fixture
def fake() -> Faker:
    """English personal-looking data."""
    return Faker("en_US")


@pytest.fixture
def fake_cn() -> Faker:
    """Chinese personal-looking data (mobile numbers, names); mobile numbers always valid ones."""
    import phonenumbers
    from faker.providers import BaseProvider

    fake = Faker("zh_CN")
    made = fake.phone_number  # Faker's own, which now and then uses a prefix no operator has

    class ValidMobiles(BaseProvider):
        def phone_number(self) -> str:
            while not phonenumbers.is_valid_number(phonenumbers.parse(number := made(), "CN")):
                pass
            return number

    fake.add_provider(ValidMobiles)
    return fake


@pytest.fixture
def apply_policy(db: Session, tmp_path: Path) -> Callable[..., None]:
    """`apply_policy(adults_only=True)` applies a one-organisation data map with that age policy."""
    from privet.datamap.service import validate_and_apply

    def apply(*, profile: str = "pipl", child_age: int = 14, adults_only: bool = False) -> None:
        path = tmp_path / f"org-{profile}-{child_age}-{adults_only}.yaml"
        path.write_text(
            ORGANISATION.format(profile=profile, child_age=child_age, adults_only=str(adults_only).lower()),
            encoding="utf-8",
        )
        validate_and_apply(db, path, actor="test")

    return apply


@pytest.fixture
def auth(db: Session) -> Callable[..., dict[str, str]]:
    """`auth("subjects:read", ...)` → Authorization headers of a real API key holding those scopes."""

    def make(*scopes: str) -> dict[str, str]:
        _key, token = create_api_key(db, "subjects-tests", list(scopes), actor="test")
        db.flush()
        return {"Authorization": f"Bearer {token}"}

    return make
