"""Subject sessions: a short-lived signed token issued after a correct code or a trusted token.

Privacy-centre and consent routes take it as `Authorization: Subject <token>` through the `current_subject`
dependency (`CurrentSubject` in a route's parameters). The token is `ps1.<payload>.<mac>`: the payload is
URL-safe base64 JSON (subject id, identity type, expiry; no identity value), the mac an HMAC-SHA256 under the
keyring's `subject-session` key, and carries when it was issued: an erasure or account closure ends every session
issued before it (`end_all`; `current_subject` and the centre's pages check `still_valid` against the store).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

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
    issued_at: datetime | None = None  # None: a token from before issue times were recorded


def _mac(keyring: Keyring, payload: str) -> str:
    return keyring.mac("subject-session", f"{PREFIX}.{payload}".encode())


def issue(keyring: Keyring, *, subject_id: str, identity_type: str, ttl_minutes: int = DEFAULT_TTL_MINUTES) -> str:
    """A signed, URL-safe subject session token that expires after `ttl_minutes`."""
    now = utcnow()
    expires = int((now + timedelta(minutes=ttl_minutes)).timestamp())
    body = json.dumps(
        {"s": subject_id, "t": identity_type, "e": expires, "i": now.timestamp()}, separators=(",", ":")
    ).encode()
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
        issued = datetime.fromtimestamp(float(data["i"]), UTC) if "i" in data else None
        session = SubjectSession(str(data["s"]), str(data["t"]), datetime.fromtimestamp(int(data["e"]), UTC), issued)
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise Unauthorized("The subject session is not valid", _HINT) from None
    if utcnow() >= session.expires_at:
        raise Unauthorized("The subject session has expired", _HINT)
    return session


def still_valid(db: Session, session: SubjectSession) -> bool:
    """Whether the session was not ended since it was issued (by an erasure or account closure)."""
    from privet.subjects.models import Subject

    valid_from = db.execute(
        select(Subject.sessions_valid_from).where(Subject.id == session.subject_id)
    ).scalar_one_or_none()
    return valid_from is None or (session.issued_at is not None and session.issued_at >= valid_from)


def end_all(db: Session, subject_id: str) -> None:
    """End every session of the subject issued until now (the caller audits why)."""
    from privet.subjects.models import Subject

    subject = db.get(Subject, subject_id)
    if subject is not None:
        subject.sessions_valid_from = utcnow()


def checked(request: Request, token: str) -> SubjectSession:
    """The session a token carries, refused when malformed, expired or ended since it was issued."""
    session = read(request.app.state.keyring, token)
    with request.app.state.sessionmaker() as db:
        if not still_valid(db, session):
            raise Unauthorized("The subject session has ended", _HINT)
    return session


def current_subject(request: Request) -> SubjectSession:
    """FastAPI dependency: the subject session from `Authorization: Subject <token>`."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != SCHEME.lower() or not token.strip():
        raise Unauthorized(
            "This needs a subject session",
            f"send `Authorization: {SCHEME} <token>` from /verify/check or /verify/token",
        )
    return checked(request, token)


CurrentSubject = Annotated[SubjectSession, Depends(current_subject)]
# openapi_extra of a public route that also takes a subject session when one is sent (privet.web.openapi names
# the scheme `subjectSession`; a route depending on `current_subject` is described as requiring it).
OPTIONAL_SESSION: dict[str, Any] = {"security": [{}, {"subjectSession": []}]}
