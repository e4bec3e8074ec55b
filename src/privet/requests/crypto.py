"""Encryption contexts of request data, and JSON in and out of ciphertext.

Each ciphertext is bound (AES-GCM associated data) to the row it belongs to, so a blob copied to another request
or step does not decrypt. Fetched rows may hold dates, decimals and bytes; they are written as JSON text
(ISO dates, decimal strings, base64 for bytes).
"""

from __future__ import annotations

import base64
import decimal
import uuid
from typing import Any

import orjson

from privet.kit.crypto import Keyring


def identity_context(request_id: str, identity_type: str) -> str:
    """Context of a request's `identity_enc` (the value the requester gave, normalised)."""
    return f"dsr:identity:{request_id}:{identity_type}"


def details_context(request_id: str) -> str:
    """Context of a request's `details_enc` (rectification values, complaint text)."""
    return f"dsr:details:{request_id}"


def output_context(step_id: str) -> str:
    """Context of a step's `output_enc` (the rows fetched from its datastore)."""
    return f"dsr:output:{step_id}"


def intent_context(step_id: str) -> str:
    """Context of a step's `intent_enc` (what its erasure or rectification is about to commit)."""
    return f"dsr:intent:{step_id}"


def _default(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, uuid.UUID):
        return str(value)
    return str(value)


def dumps(value: Any) -> bytes:
    """JSON bytes for rows and details (dates as ISO 8601, decimals as strings, bytes as base64)."""
    return orjson.dumps(value, default=_default, option=orjson.OPT_NON_STR_KEYS)


def encrypt_json(keyring: Keyring, value: Any, *, context: str) -> bytes:
    """JSON-encode then encrypt under `context`."""
    return keyring.encrypt(dumps(value), context=context)


def decrypt_json(keyring: Keyring, blob: bytes | None, *, context: str) -> Any:
    """Decrypt then JSON-decode (None for no blob)."""
    if blob is None:
        return None
    return orjson.loads(keyring.decrypt(blob, context=context))


def step_output(keyring: Keyring, step: Any) -> dict:
    """What a fetch step stored: {"rows": {table: [row, ...]}, "reference": {...}, "links": [...],
    "withheld": [...]} (empty parts when it stored none; an older step's bare {table: rows} is its rows)."""
    stored = decrypt_json(keyring, step.output_enc, context=output_context(step.id)) or {}
    if stored and "rows" not in stored:
        stored = {"rows": stored}
    return {
        "rows": stored.get("rows") or {},
        "reference": stored.get("reference") or {},
        "links": stored.get("links") or [],
        "withheld": stored.get("withheld") or [],
    }


def step_rows(keyring: Keyring, step: Any) -> dict[str, list[dict]]:
    """The rows a fetch step stored, {table: [row, ...]} ({} when it stored none)."""
    return step_output(keyring, step)["rows"]
