"""Public identity verification: one-time codes and trusted tokens in exchange for a subject session.

Identities travel only in POST bodies. `/verify/start` answers the same way whether or not Privet already
knows the identity, so it cannot be used to find out who is a customer. The subject session comes back as
`subject_session`; send it as `Authorization: Subject <token>` to `/verify/me` and the privacy-centre routes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Depends, Request, status
from pydantic import BaseModel, Field

from privet.auth.deps import PUBLIC
from privet.http.ratelimit import rate_limited
from privet.http.routes import DB
from privet.subjects import sessions, tokens, verification
from privet.subjects.sessions import CurrentSubject

router = APIRouter(prefix="/verify", tags=["verification"])
Limited = [Depends(rate_limited("verify"))]


class StartIn(BaseModel):
    identity_type: str = Field(
        min_length=1, max_length=60, description="`email` or `phone` (other types: use a token)."
    )
    identity: str = Field(
        min_length=1, max_length=320, description="The e-mail address or phone number (E.164 or national)."
    )
    language: str = Field("en", max_length=10, description="Language of the message: en or zh_CN.")
    purpose: Literal["verify", "request", "guardian"] = Field("verify", description="Why the code is asked for.")


class StartOut(BaseModel):
    challenge_id: str
    channel: str = Field(description="Where the code went: email or sms.")
    expires_at: datetime


class CheckIn(BaseModel):
    challenge_id: str = Field(max_length=32)
    code: str = Field(max_length=20, description="The six-digit code from the message.")


class TokenIn(BaseModel):
    token: str = Field(max_length=tokens.MAX_TOKEN_BYTES, description="A JWT signed by the company's own login.")


class SessionOut(BaseModel):
    subject_session: str = Field(description="Send as `Authorization: Subject <subject_session>`.")
    expires_at: datetime


class MeOut(BaseModel):
    subject_id: str
    identity_type: str
    expires_at: datetime


def _session_for(request: Request, proven: verification.VerifiedIdentity) -> SessionOut:
    keyring = request.app.state.keyring
    assert proven.subject_id is not None  # both routes let verification create the subject (create_subject=True)
    token = sessions.issue(keyring, subject_id=proven.subject_id, identity_type=proven.identity_type)
    return SessionOut(subject_session=token, expires_at=sessions.read(keyring, token).expires_at)


@router.post(
    "/start",
    openapi_extra=PUBLIC,
    dependencies=Limited,
    status_code=status.HTTP_201_CREATED,
    summary="Send a six-digit code to an e-mail address or phone number.",
)
def start(body: StartIn, request: Request, db: DB) -> StartOut:
    result = verification.start(
        db,
        request.app.state.keyring,
        request.app.state.settings,
        identity_type=body.identity_type,
        value=body.identity,
        language=body.language,
        purpose=body.purpose,
        client_ip=request.client.host if request.client else None,
    )
    return StartOut(challenge_id=result.challenge_id, channel=result.channel, expires_at=result.expires_at)


@router.post(
    "/check",
    openapi_extra=PUBLIC,
    dependencies=Limited,
    summary="Check a code; a correct one returns a subject session.",
)
def check(body: CheckIn, request: Request, db: DB) -> SessionOut:
    try:
        proven = verification.check(
            db, request.app.state.keyring, request.app.state.settings, challenge_id=body.challenge_id, code=body.code
        )
    except verification.CodeRejected as exc:
        if exc.counted:  # a wrong attempt must count (and a lock must hold) although the answer is an error
            db.commit()
        raise
    return _session_for(request, proven)


@router.post(
    "/token",
    openapi_extra=PUBLIC,
    dependencies=Limited,
    summary="Exchange a trusted subject token (JWT from the company's login) for a subject session.",
)
def token(body: TokenIn, request: Request, db: DB) -> SessionOut:
    proven = tokens.verify_subject_token(db, request.app.state.settings, body.token, keyring=request.app.state.keyring)
    return _session_for(request, proven)


@router.get(
    "/me",
    openapi_extra=PUBLIC,
    dependencies=Limited,
    summary="The subject the `Authorization: Subject <token>` session speaks for.",
)
def me(subject: CurrentSubject) -> MeOut:
    return MeOut(subject_id=subject.subject_id, identity_type=subject.identity_type, expires_at=subject.expires_at)
