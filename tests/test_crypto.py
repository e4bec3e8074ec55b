"""Encryption at rest and blind indexes."""

from __future__ import annotations

import pytest

from privet.kit.crypto import DecryptionFailed, Keyring


@pytest.fixture
def keyring() -> Keyring:
    return Keyring(b"k" * 32)


def test_round_trip_and_random_nonce(keyring: Keyring) -> None:
    a = keyring.encrypt("张三 zhang@example.com", context="identity:email")
    b = keyring.encrypt("张三 zhang@example.com", context="identity:email")
    assert a != b and b"zhang" not in a
    assert keyring.decrypt_text(a, context="identity:email") == "张三 zhang@example.com"


@pytest.mark.parametrize(
    "mutate",
    [
        lambda blob: blob[:-1] + bytes([blob[-1] ^ 1]),
        lambda blob: b"\x02" + blob[1:],
        lambda blob: b"",
    ],
)
def test_tampered_ciphertext_refused(keyring: Keyring, mutate) -> None:
    blob = keyring.encrypt("value", context="c")
    with pytest.raises(DecryptionFailed):
        keyring.decrypt(mutate(blob), context="c")


def test_context_and_key_are_bound(keyring: Keyring) -> None:
    blob = keyring.encrypt("value", context="identity:email")
    with pytest.raises(DecryptionFailed):
        keyring.decrypt(blob, context="identity:phone")
    with pytest.raises(DecryptionFailed):
        Keyring(b"x" * 32).decrypt(blob, context="identity:email")


def test_blind_index_is_deterministic_keyed_and_typed(keyring: Keyring) -> None:
    assert keyring.blind_index("email", "a@b.co") == keyring.blind_index("email", "a@b.co")
    assert keyring.blind_index("email", "a@b.co") != keyring.blind_index("user_id", "a@b.co")
    assert keyring.blind_index("email", "a@b.co") != Keyring(b"x" * 32).blind_index("email", "a@b.co")


def test_signing_key_is_stable_and_verifies(keyring: Keyring) -> None:
    signature = keyring.signing_key("receipts").sign(b"msg")
    keyring.verify_key("receipts").verify(signature, b"msg")  # raises if wrong
    assert keyring.derive("a") != keyring.derive("b")
