"""Anchors: the chain's head, signed (Ed25519) and appended to a file outside the store.

The keyed chain stops whoever can write to the database without the key. Two rewrites need a copy kept elsewhere:
the newest events removed and a head row saved earlier put back, and a rewrite by someone who holds the key.
`privet audit anchor`, run periodically, appends the head to PRIVET_AUDIT_ANCHOR_FILE as one signed JSON line;
`privet audit verify` checks every line's signature and that the chain still holds each anchored event. The file is
only as good as where it is kept: somewhere the database's administrators cannot rewrite (another machine, an
append-only or write-once volume). Its public key (`privet audit anchor --public-key`) lets others check it.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization

from privet.kit.crypto import Keyring

PURPOSE = "audit-anchor"


def _message(seq: int, digest: str, at: str) -> bytes:
    return json.dumps(["privet-audit-anchor:v1", seq, digest, at]).encode()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def signed(keyring: Keyring, seq: int, digest: str, at: datetime) -> dict:
    """One anchor line: the head (seq, hash), when it was taken, and its signature."""
    stamp = at.isoformat(timespec="seconds")
    return {
        "seq": seq,
        "hash": digest,
        "at": stamp,
        "sig": _b64(keyring.signing_key(PURPOSE).sign(_message(seq, digest, stamp))),
    }


def append(path: Path, keyring: Keyring, seq: int, digest: str, at: datetime) -> dict:
    """Append a signed anchor to `path` (created if missing) and make it durable before returning it."""
    line = signed(keyring, seq, digest, at)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(line) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    return line


@dataclass
class Anchors:
    """What an anchor file holds: the anchored (seq, hash) pairs, and the lines that cannot be trusted."""

    pinned: dict[int, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    last: dict | None = None


def read(path: Path, keyring: Keyring) -> Anchors:
    """Every anchor in `path` with its signature checked; a line not signed by this installation, or two anchors
    of one event that disagree, is a problem (the file or the chain was rewritten)."""
    public, found = keyring.verify_key(PURPOSE), Anchors()
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not text.strip():
            continue
        try:
            line = json.loads(text)
            seq, digest, stamp = int(line["seq"]), str(line["hash"]), str(line["at"])
            signature = base64.urlsafe_b64decode(line["sig"] + "=" * (-len(line["sig"]) % 4))
            public.verify(signature, _message(seq, digest, stamp))
        except (ValueError, KeyError, TypeError, InvalidSignature):
            found.problems.append(f"line {number} is not an anchor signed with this installation's key")
            continue
        if found.pinned.setdefault(seq, digest) != digest:
            found.problems.append(
                f"line {number} anchors event {seq} with another hash than an earlier line: the "
                "chain was rewritten by someone holding the key"
            )
        found.last = line
    return found


def public_key_pem(keyring: Keyring) -> str:
    """The anchors' public key (PEM), for whoever checks the file without the installation's secret."""
    return (
        keyring.verify_key(PURPOSE)
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
