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
    """Chinese personal-looking data (mobile numbers, names)."""
    return Faker("zh_CN")


@pytest.fixture
def apply_policy(db: Session, tmp_path: Path) -> Callable[..., None]:
    """`apply_policy(adults_only=True)` applies a one-organisation data map with that age policy."""
    from privet.datamap.service import validate_and_apply

    def apply(*, profile: str = "pipl", child_age: int = 14, adults_only: bool = False) -> None:
        path = tmp_path / f"org-{profile}-{child_age}-{adults_only}.yaml"
        path.write_text(ORGANISATION.format(profile=profile, child_age=child_age,
                                            adults_only=str(adults_only).lower()), encoding="utf-8")
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
