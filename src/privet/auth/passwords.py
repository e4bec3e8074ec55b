"""Password hashing (argon2id, RFC 9106 low-memory profile) and generation."""

from __future__ import annotations

import secrets
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from argon2.profiles import RFC_9106_LOW_MEMORY

from privet.kit.errors import InvalidInput

MIN_LENGTH = 12


@lru_cache
def _hasher() -> PasswordHasher:
    # built on first use, not at import; pinning the profile keeps argon2id whatever the library default becomes
    return PasswordHasher.from_parameters(RFC_9106_LOW_MEMORY)


@lru_cache
def _dummy_hash() -> str:
    return _hasher().hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    """An argon2id PHC string (`$argon2id$v=19$m=...`) with a fresh salt."""
    return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when `password` matches; with no hash, burns the same time against a dummy and says False."""
    try:
        return _hasher().verify(password_hash or _dummy_hash(), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the stored hash uses weaker parameters than today's profile."""
    return _hasher().check_needs_rehash(password_hash)


def check_strength(password: str) -> None:
    """Refuse passwords too short to resist guessing (length beats composition rules, NIST SP 800-63B)."""
    if len(password) < MIN_LENGTH:
        raise InvalidInput(
            f"The password is shorter than {MIN_LENGTH} characters",
            "choose a longer passphrase, or leave it out to have one generated",
        )
    if len(password) > 1024:
        raise InvalidInput("The password is longer than 1024 characters", "choose a shorter passphrase")


def generate_password() -> str:
    """A random 24-character password (144 bits), URL-safe so it can be typed and pasted."""
    return secrets.token_urlsafe(18)
