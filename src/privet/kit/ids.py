"""Identifiers: time-ordered, URL-safe, no personal data."""

from __future__ import annotations

import secrets
import time


def new_id() -> str:
    """A 26-character time-ordered id (48-bit milliseconds + 80 random bits, lowercase hex)."""
    return f"{int(time.time() * 1000):012x}{secrets.token_hex(7)}"
