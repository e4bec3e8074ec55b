"""One-time codes: send a six-digit code to an e-mail address or phone number, then check it.

Codes are stored only as a keyed hash bound to their challenge; the identity value is kept encrypted on the
challenge until it is used, locked or expired, so a correct code can find or create the subject.
"""

from __future__ import annotations

import hmac
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.orm import Session

from privet.audit.service import record
from privet.db.limits import hold
from privet.kit.clock import utcnow
from privet.kit.crypto import Keyring
from privet.kit.errors import InvalidInput, NotFound, PrivetError, Problem
from privet.kit.ids import new_id
from privet.settings import Settings
from privet.subjects import service
from privet.subjects.models import VerificationChallenge
from privet.subjects.senders import language_of, sender_for

CHANNELS = {"email": "email", "phone": "sms"}
PURPOSES = ("verify", "request", "guardian")
ACTOR = "public:verify"
HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class StartResult:
    """A code was sent: the challenge to answer, the channel used and when the code expires."""

    challenge_id: str
    channel: str
    expires_at: datetime


@dataclass(frozen=True)
class VerifiedIdentity:
    """An identity proven by a code or a trusted token, and the subject it belongs to (if found or created)."""

    identity_type: str
    blind_index: str
    subject_id: str | None


class TooManyCodes(PrivetError):
    """A code throttle or cap was reached; `headers` carries Retry-After."""

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail, f"wait {retry_after} seconds, then ask for a new code", [], 429, "Too many requests")
        self.headers = {"Retry-After": str(retry_after)}


class CodeRejected(PrivetError):
    """A code was refused. When `counted`, the attempt changed the challenge and the caller should commit."""

    def __init__(self, detail: str, hint: str, *, counted: bool = False) -> None:
        super().__init__(detail, hint, [], 401, "Unauthorized")
        self.counted = counted


def _code_hash(keyring: Keyring, challenge_id: str, code: str) -> str:
    return keyring.mac("otp", f"{challenge_id}:{code}".encode())


def _context(identity_type: str) -> str:
    return f"verification:{identity_type}"


def _wait(oldest: datetime, window: timedelta, now: datetime) -> int:
    return max(1, math.ceil((oldest + window - now).total_seconds()))


def _throttle(session: Session, settings: Settings, blind_index: str, client_hash: str | None, now: datetime) -> None:
    """Refuse a new code inside the resend window, above the hourly cap per identity or per client address.

    The caps count challenge rows; the rows locked first (`privet.db.limits.hold`, identity then client, always in
    that order) make concurrent requests for one identity or client, in any process, count one after the other
    instead of all seeing room for one more.
    """
    hold(session, "otp-identity", blind_index, HOUR)
    if client_hash is not None:
        hold(session, "otp-client", client_hash, HOUR)
    target = VerificationChallenge.blind_index == blind_index
    created = VerificationChallenge.created_at
    window = select(func.count(), func.min(created), func.max(created))
    count, oldest, newest = session.execute(window.where(target, created > now - HOUR)).one()
    resend = timedelta(seconds=settings.otp_resend_seconds)
    if newest is not None and resend and newest > now - resend:
        raise TooManyCodes("A code was sent to this identity moments ago", _wait(newest, resend, now))
    if count >= settings.otp_per_identity_per_hour:
        raise TooManyCodes("Too many codes were sent to this identity in the last hour", _wait(oldest, HOUR, now))
    if client_hash is not None:
        cap = settings.otp_per_client_per_hour
        by_client = window.where(VerificationChallenge.client_hash == client_hash, created > now - HOUR)
        count, oldest, _ = session.execute(by_client).one()
        if count >= cap:
            raise TooManyCodes(
                "Too many codes were asked for from this address in the last hour", _wait(oldest, HOUR, now)
            )


def start(
    session: Session,
    keyring: Keyring,
    settings: Settings,
    *,
    identity_type: str,
    value: str,
    language: str = "en",
    purpose: str = "verify",
    client_ip: str | None = None,
) -> StartResult:
    """Create a challenge and send its code by e-mail or SMS; if sending fails nothing is kept."""
    channel = CHANNELS.get(identity_type)
    if channel is None:
        hint = "verify by e-mail or phone, or use a trusted token (POST /api/v1/verify/token)"
        raise InvalidInput(
            "Codes can only be sent to an e-mail address or a phone number",
            hint,
            [Problem("no code channel for this identity type", "identity_type", hint)],
        )
    if purpose not in PURPOSES:
        raise InvalidInput("Unknown verification purpose", f"use one of: {', '.join(PURPOSES)}")
    sender = sender_for(channel, settings)  # no sender configured: a 503 before anything is counted or kept
    language = language_of(language)
    normalised = service.normalise_for(session, identity_type, value, where="identity")
    blind_index = keyring.blind_index(identity_type, normalised)
    client_hash = keyring.fingerprint(client_ip) if client_ip else None
    now = utcnow()
    _throttle(session, settings, blind_index, client_hash, now)

    code = f"{secrets.randbelow(1_000_000):06d}"
    challenge_id = new_id()
    challenge = VerificationChallenge(
        id=challenge_id,
        blind_index=blind_index,
        identity_type=identity_type,
        channel=channel,
        purpose=purpose,
        code_hash=_code_hash(keyring, challenge_id, code),
        created_at=now,
        expires_at=now + timedelta(minutes=settings.otp_ttl_minutes),
        attempts=0,
        client_hash=client_hash,
        value_enc=keyring.encrypt(normalised, context=_context(identity_type)),
    )
    with session.begin_nested():  # a failed send rolls back to here, so the caller keeps nothing of it
        # Earlier open codes for this identity close: one live code at a time keeps guessing odds at 1 in 10^6.
        session.execute(
            update(VerificationChallenge)
            .where(
                VerificationChallenge.blind_index == blind_index,
                VerificationChallenge.consumed_at.is_(None),
                VerificationChallenge.locked_at.is_(None),
            )
            .values(locked_at=now, value_enc=None)
        )
        session.add(challenge)
        session.flush()
        sender.send_code(normalised, code, language=language, minutes=settings.otp_ttl_minutes)
        record(
            session,
            actor=ACTOR,
            action="verification.started",
            object_type="verification_challenge",
            object_id=challenge_id,
            details={"identity_type": identity_type, "channel": channel, "purpose": purpose, "language": language},
        )
    return StartResult(challenge_id, channel, challenge.expires_at)


def _refuse(session: Session, challenge: VerificationChallenge, detail: str, hint: str) -> CodeRejected:
    """Close a challenge that can no longer succeed (its value is no longer needed) and build the refusal."""
    if challenge.value_enc is not None:
        challenge.value_enc = None
        session.flush()
        return CodeRejected(detail, hint, counted=True)
    return CodeRejected(detail, hint)


def check(
    session: Session, keyring: Keyring, settings: Settings, *, challenge_id: str, code: str, create_subject: bool = True
) -> VerifiedIdentity:
    """Check a code. A wrong one counts an attempt (the caller commits even on `CodeRejected.counted`)."""
    stmt = (
        select(VerificationChallenge)
        .where(VerificationChallenge.id == challenge_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    challenge = session.execute(stmt).scalar_one_or_none()
    if challenge is None:
        raise NotFound("No such verification challenge", "start again: POST /api/v1/verify/start")
    now = utcnow()
    again = "ask for a new code: POST /api/v1/verify/start"
    if challenge.consumed_at is not None:
        raise CodeRejected("This code was already used", again)
    if challenge.locked_at is not None:
        raise _refuse(
            session,
            challenge,
            "This code can no longer be used (too many wrong codes, or a newer code was sent)",
            again,
        )
    if now >= challenge.expires_at:
        raise _refuse(session, challenge, "This code has expired", again)

    given = "".join((code or "").split())
    if not hmac.compare_digest(_code_hash(keyring, challenge.id, given), challenge.code_hash):
        challenge.attempts += 1
        left = settings.otp_max_attempts - challenge.attempts
        if left <= 0:
            challenge.locked_at, challenge.value_enc = now, None
        session.flush()
        record(
            session,
            actor=ACTOR,
            action="verification.failed",
            object_type="verification_challenge",
            object_id=challenge.id,
            details={"attempts": challenge.attempts, "locked": left <= 0},
        )
        if left <= 0:
            raise CodeRejected("The code is wrong, and this challenge is now locked", again, counted=True)
        raise CodeRejected(
            "The code is wrong", f"check the latest message and try again ({left} attempts left)", counted=True
        )

    assert challenge.value_enc is not None  # dropped only once the challenge is used, locked or expired (refused above)
    value = keyring.decrypt_text(challenge.value_enc, context=_context(challenge.identity_type))
    challenge.consumed_at, challenge.value_enc = now, None
    subject_id, created = resolve_subject(
        session, keyring, challenge.identity_type, value, create=create_subject, actor=ACTOR
    )
    record(
        session,
        actor=ACTOR,
        action="verification.succeeded",
        object_type="verification_challenge",
        object_id=challenge.id,
        details={
            "identity_type": challenge.identity_type,
            "subject_id": subject_id,
            "subject_created": created,
            "purpose": challenge.purpose,
        },
    )
    return VerifiedIdentity(challenge.identity_type, challenge.blind_index, subject_id)


def resolve_subject(
    session: Session, keyring: Keyring, identity_type: str, value: str, *, create: bool, actor: str
) -> tuple[str | None, bool]:
    """The id of the subject holding this proven identity, created (identity marked verified) if asked."""
    if not create:
        subject = service.find_subject(session, keyring, identity_type, value)
        return (subject.id if subject else None), False
    subject, created = service.get_or_create_subject(session, keyring, identity_type, value, actor=actor, verified=True)
    return subject.id, created


def forget_expired(session: Session, *, now: datetime | None = None) -> int:
    """Drop the encrypted values of expired challenges (the retention sweep calls this); returns how many."""
    stmt = (
        update(VerificationChallenge)
        .where(VerificationChallenge.expires_at <= (now or utcnow()), VerificationChallenge.value_enc.is_not(None))
        .values(value_enc=None)
        .execution_options(synchronize_session=False)
    )
    return cast(CursorResult[Any], session.execute(stmt)).rowcount or 0  # an UPDATE's result is a CursorResult
