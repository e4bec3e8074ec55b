"""Webhook signatures: `Privet-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`.

Receivers check a delivery with `verify_signature`; the HTTP connector signs its requests with `sign` too.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from privet.kit.clock import utcnow


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The `Privet-Signature` header value for `body` sent at `timestamp` (unix seconds)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify_signature(
    secret: str, header: str, body: bytes | str, *, tolerance: int = 300, now: datetime | None = None
) -> bool:
    """For receivers: True when `header` signs this exact raw `body` with `secret` within `tolerance` seconds."""
    body = body.encode() if isinstance(body, str) else body
    fields: dict[str, list[str]] = {}
    for part in (header or "").split(","):
        key, _, value = part.strip().partition("=")
        fields.setdefault(key, []).append(value)
    try:
        timestamp = int(fields["t"][0])
    except (KeyError, ValueError):
        return False
    if abs((now or utcnow()).timestamp() - timestamp) > tolerance:  # an old capture replayed later
        return False
    expected = sign(secret, body, timestamp).rpartition("v1=")[2]
    return any(hmac.compare_digest(expected, given) for given in fields.get("v1", []))
