"""Subject sessions: issued, read back, refused when tampered with, signed by another key or expired."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest

from privet.kit.clock import frozen_at
from privet.kit.crypto import Keyring
from privet.kit.errors import Unauthorized
from privet.subjects.sessions import issue, read

T0 = datetime(2031, 1, 2, 3, 4, 5, tzinfo=UTC)
KEYRING = Keyring(b"k" * 32)


def test_round_trip_is_compact_and_url_safe() -> None:
    with frozen_at(T0):
        token = issue(KEYRING, subject_id="0190abcdef0123456789abcd", identity_type="email")
        session = read(KEYRING, token)
    assert session.subject_id == "0190abcdef0123456789abcd" and session.identity_type == "email"
    assert session.expires_at == T0 + timedelta(minutes=30)
    assert len(token) < 200 and all(c.isalnum() or c in "-_." for c in token)


def test_expiry() -> None:
    with frozen_at(T0):
        token = issue(KEYRING, subject_id="s1", identity_type="phone", ttl_minutes=5)
    with frozen_at(T0 + timedelta(minutes=4, seconds=59)):
        assert read(KEYRING, token).subject_id == "s1"
    with frozen_at(T0 + timedelta(minutes=5)), pytest.raises(Unauthorized, match="expired"):
        read(KEYRING, token)


def test_tampering_and_foreign_keys_are_refused() -> None:
    with frozen_at(T0):
        token = issue(KEYRING, subject_id="victim", identity_type="email")
        prefix, payload, mac = token.split(".")
        body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        body["s"] = "attacker"
        swapped = base64.urlsafe_b64encode(json.dumps(body).encode()).rstrip(b"=").decode()
        flipped_mac = mac[:-1] + ("0" if mac[-1] != "0" else "1")
        bad = [
            f"{prefix}.{swapped}.{mac}",
            f"{prefix}.{payload}.{flipped_mac}",
            f"ps2.{payload}.{mac}",
            f"{prefix}.{payload}",
            "",
            "garbage",
            f"{prefix}..{mac}",
        ]
        for candidate in bad:
            with pytest.raises(Unauthorized, match="not valid"):
                read(KEYRING, candidate)
        with pytest.raises(Unauthorized, match="not valid"):
            read(Keyring(b"o" * 32), token)
        assert read(KEYRING, token).subject_id == "victim"
