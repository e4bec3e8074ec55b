"""How an audit event is hashed: one canonical encoding of every column, keyed with a key kept out of the store.

An event's `hash` is HMAC-SHA256, under a key derived from the installation's master secret (PRIVET_SECRET_KEY or
`<data_dir>/secret.key`, never the database), of the canonical JSON of every other column of the event, its
`prev_hash` included. Whoever can write to the database but lacks the key cannot recompute it, so a rewritten
event is found where the rewrite starts. Events written before the chain was keyed (Privet before migration 0008)
keep their plain SHA-256 (`legacy_hash`); the first keyed event seals them by keying their last hash.

`HASHED` is taken from the table itself: a column added to `audit_events` is hashed without anyone remembering
to, and tests/audit/test_columns.py changes each column in turn.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import lru_cache

from sqlalchemy.orm import Session

from privet.audit.models import AuditEvent
from privet.db.engine import SETTINGS_INFO
from privet.settings import Settings, get_settings

HASHED = tuple(column.name for column in AuditEvent.__table__.columns if column.name != "hash")
KEY_PURPOSE = "audit-chain:v1"
_EVENT, _HEAD = b"privet-audit-event:v2\x00", b"privet-audit-head:v2\x00"
_KEY_INFO = "privet.audit.key"  # session.info: the derived key, once per session
# Job sessions carry their installation's settings under jobs.dispatch.SETTINGS_KEY (a string here: jobs sit above
# audit). It names the same installation as SETTINGS_INFO; one key for both would let this line go.
_JOB_SETTINGS_INFO = "privet.jobs.settings"
_memo: tuple[Settings | None, bytes] = (None, b"")  # the last settings' key: one derivation per process


def _plain(value: object) -> object:
    if isinstance(value, datetime):  # the store keeps microseconds in UTC; the encoding says so explicitly
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    raise TypeError(f"an audit event holds a {type(value).__name__}, which has no canonical form")


def canonical(event: Mapping) -> bytes:
    """Every hashed column of `event` (a mapping by column name) as sorted, compact JSON."""
    body = {name: event[name] for name in HASHED}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_plain).encode()


@lru_cache(maxsize=8)
def _keyed(key: bytes) -> hmac.HMAC:
    """An HMAC already keyed and fed the event prefix: copying it skips the key set-up for every event."""
    return hmac.new(key, _EVENT, hashlib.sha256)


def keyed_hash(key: bytes, event: Mapping) -> str:
    """The event's hash in a keyed chain."""
    mac = _keyed(key).copy()
    mac.update(canonical(event))
    return mac.hexdigest()


def legacy_hash(event: Mapping) -> str:
    """The plain hash events carried before the chain was keyed: sha256(prev_hash + JSON of seq, at, actor,
    action, object type and id, details). Anyone can recompute it; it proves nothing against a rewrite."""
    body = {
        "seq": event["seq"],
        "at": event["at"].isoformat(timespec="microseconds"),
        "actor": event["actor"],
        "action": event["action"],
        "object_type": event["object_type"],
        "object_id": event["object_id"],
        "details": event["details"],
    }
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(event["prev_hash"].encode() + text.encode()).hexdigest()


def head_mac(key: bytes, seq: int, digest: str, keyed_from: int | None) -> str:
    """The keyed check of the head row: moving the head back over removed events, or moving where keying
    began, needs the key."""
    return hmac.new(key, _HEAD + json.dumps([seq, digest, keyed_from]).encode(), hashlib.sha256).hexdigest()


def same(a: str | None, b: str | None) -> bool:
    """Constant-time comparison of two hex digests (None matches nothing)."""
    return a is not None and b is not None and hmac.compare_digest(a, b)


def key_for(settings: Settings) -> bytes:
    """The chain key of an installation: derived from its master secret for this one purpose."""
    global _memo
    if _memo[0] is not settings:
        from privet.kit.crypto import Keyring

        _memo = (settings, Keyring.from_settings(settings).derive(KEY_PURPOSE))
    return _memo[1]


def chain_key(session: Session) -> bytes:
    """The key for `session`: from the settings its sessionmaker carries (`make_sessionmaker(engine, settings)`)
    or its job runs by, else from this process's settings. Fails clearly when no secret key is configured."""
    key = session.info.get(_KEY_INFO)
    if key is None:
        settings = session.info.get(SETTINGS_INFO) or session.info.get(_JOB_SETTINGS_INFO) or get_settings()
        key = session.info[_KEY_INFO] = key_for(settings)
    return key
