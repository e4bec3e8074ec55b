"""Auth fixtures: cheap argon2id parameters, users and API keys made through the real service."""

from __future__ import annotations

import secrets
from collections.abc import Callable

import pytest
from argon2 import PasswordHasher, Type
from faker import Faker
from sqlalchemy.orm import Session

from privet.auth import passwords, service
from privet.auth.models import User

ACTOR = "test:auth"


@pytest.fixture(autouse=True)
def cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Still argon2id, with tiny cost parameters so tests stay fast (production uses RFC 9106 low-memory)."""
    hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1, type=Type.ID)
    monkeypatch.setattr(passwords, "_hasher", lambda: hasher)


@pytest.fixture(scope="session")
def fake() -> Faker:
    """Faker in English and Chinese; the seed keeps failures reproducible."""
    faker = Faker(["en_US", "zh_CN"])
    faker.seed_instance(20240602)
    return faker


@pytest.fixture
def new_username(fake: Faker) -> Callable[[], str]:
    """Unique, valid usernames in the style of either locale."""

    def make() -> str:
        locale = secrets.choice(["en_US", "zh_CN"])
        return f"{fake[locale].user_name().lower()}.{secrets.token_hex(2)}"

    return make


@pytest.fixture
def new_password(fake: Faker) -> Callable[[], str]:
    """Strong random passwords."""
    return lambda: fake.password(length=16)


@pytest.fixture
def make_user(db: Session, new_username, new_password) -> Callable[..., tuple[User, str]]:
    """Create (and commit to the test transaction) a user with a known password; returns (user, password)."""

    def make(role: str = "admin", *, must_change: bool = False) -> tuple[User, str]:
        password = new_password()
        user, _ = service.create_user(db, new_username(), role, password=password, actor=ACTOR)
        user.must_change_password = must_change
        db.commit()
        return user, password

    return make


@pytest.fixture
def make_key(db: Session) -> Callable[..., str]:
    """Create (and commit) an API key with these scopes; returns the bearer token."""

    def make(*scopes: str, **kwargs) -> str:
        _key, token = service.create_api_key(db, "test-key", list(scopes), actor=ACTOR, **kwargs)
        db.commit()
        return token

    return make
