"""Subject sessions: a short-lived signed token issued after a correct code or a trusted token.

Privacy-centre and consent routes take it as `Authorization: Subject <token>` through the `current_subject`
dependency (`CurrentSubject` in a route's parameters). The token is `ps1.<payload>.<mac>`: the payload is
URL-safe base64 JSON (subject id, identity type, expiry; no identity value), the mac an HMAC-SHA256 under the
keyring's `subject-session` key. Stateless, so it cannot be revoked early: keep the lifetime short.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Annotated

from fastapi import Depends, Request

from privet.kit.clock import utcnow
from privet.kit.crypto import Keyring
from privet.kit.errors import Unauthorized

PREFIX = "ps1"
SCHEME = "Subject"
DEFAULT_TTL_MINUTES = 30
_HINT = "verify again: POST /api/v1/verify/start then /verify/check, or POST /api/v1/verify/token"


@dataclass(frozen=True)
class SubjectSession:
    """Who the subject session speaks for, and until when."""

    subject_id: str
    identity_type: str
    expires_at: datetime


def _mac(keyring: Keyring, payload: str) -> str:
    return keyring.mac("subject-session", f"{PREFIX}.{payload}".encode())


def issue(keyring: Keyring, *, subject_id: str, identity_type: str, ttl_minutes: int = DEFAULT_TTL_MINUTES) -> str:
    """A signed, URL-safe subject session token that expires after `ttl_minutes`."""
    expires = int((utcnow() + timedelta(minutes=ttl_minutes)).timestamp())
    body = json.dumps({"s": subject_id, "t": identity_type, "e": expires}, separators=(",", ":")).encode()
    payload = base64.urlsafe_b64encode(body).rstrip(b"=").decode()
    return f"{PREFIX}.{payload}.{_mac(keyring, payload)}"


def read(keyring: Keyring, token: str) -> SubjectSession:
    """The session a token carries; Unauthorized when it is malformed, tampered with or expired."""
    prefix, _, rest = (token or "").strip().partition(".")
    payload, _, mac = rest.partition(".")
    if prefix != PREFIX or not payload or not hmac.compare_digest(mac.encode(), _mac(keyring, payload).encode()):
        raise Unauthorized("The subject session is not valid", _HINT)
    try:
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        session = SubjectSession(str(data["s"]), str(data["t"]), datetime.fromtimestamp(int(data["e"]),
                                                                                        timezone.utc))
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise Unauthorized("The subject session is not valid", _HINT) from None
    if utcnow() >= session.expires_at:
        raise Unauthorized("The subject session has expired", _HINT)
    return session


def current_subject(request: Request) -> SubjectSession:
    """FastAPI dependency: the subject session from `Authorization: Subject <token>`."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != SCHEME.lower() or not token.strip():
        raise Unauthorized("This needs a subject session",
                           f"send `Authorization: {SCHEME} <token>` from /verify/check or /verify/token")
    return read(request.app.state.keyring, token)


CurrentSubject = Annotated[SubjectSession, Depends(current_subject)]
