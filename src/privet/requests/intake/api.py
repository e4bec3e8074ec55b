"""Data-subject requests filed by the subject: file, verify, follow the status. Public and rate-limited.

Filing returns a reference and sends a one-time code to the identity (e-mail or SMS); nothing runs until the code
comes back to `POST /{reference}/verify`. A caller who already holds a subject session for that identity
(`Authorization: Subject ...`), or sends a trusted token from the company's login, is verified at once. The
status routes need the subject session of the request's own subject: a reference alone shows nothing, and
someone else's reference answers exactly like one that does not exist.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, status

from privet.auth.deps import PUBLIC
from privet.http.ratelimit import rate_limited
from privet.http.routes import DB
from privet.kit.errors import InvalidInput, Problem
from privet.requests import queries, service
from privet.requests.intake import service as intake
from privet.requests.intake import verify
from privet.requests.models import DsrRequest
from privet.requests.schemas import (
    CodeIn,
    FiledOut,
    PublicRequestIn,
    PublicStatusOut,
    VerifiedOut,
    filed_out,
    public_status,
)
from privet.subjects import sessions
from privet.subjects.sessions import CurrentSubject, SubjectSession

router = APIRouter(prefix="/public/requests", tags=["public requests"])
Limited = [Depends(rate_limited("requests"))]
CODE_TYPES = ("email", "phone")


def _optional_session(request: Request) -> SubjectSession | None:
    """The subject session when one is sent (an invalid one is a 401, never ignored)."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != sessions.SCHEME.lower():
        return None
    return sessions.read(request.app.state.keyring, token)


def _client(request: Request) -> str | None:
    return request.client.host if request.client else None


def _session_out(request: Request, found: DsrRequest) -> VerifiedOut:
    keyring = request.app.state.keyring
    assert found.subject_id is not None  # verified just now
    token = sessions.issue(keyring, subject_id=found.subject_id, identity_type=found.identity_type)
    return VerifiedOut(
        reference=found.reference,
        status=found.status,
        subject_session=token,
        expires_at=sessions.read(keyring, token).expires_at,
    )


@router.post(
    "",
    openapi_extra={**PUBLIC, **sessions.OPTIONAL_SESSION},
    dependencies=Limited,
    response_model=FiledOut,
    status_code=status.HTTP_201_CREATED,
    summary="File a request; a code is sent to prove the identity.",
)
def file(body: PublicRequestIn, request: Request, db: DB) -> FiledOut:
    keyring, settings = request.app.state.keyring, request.app.state.settings
    session = _optional_session(request)
    if session is None and body.token is None and body.identity_type not in CODE_TYPES:
        hint = "file with an e-mail address or phone number, or send a subject session or trusted token"
        raise InvalidInput(
            "Codes can only be sent to an e-mail address or a phone number",
            hint,
            [Problem("no way to verify this identity", "identity_type", hint)],
        )
    filed_by = f"subject:{session.subject_id}" if session else f"public:{body.channel}"
    filed = intake.file_request(
        db,
        keyring,
        settings,
        request_type=body.type,
        identity_type=body.identity_type,
        identity=body.identity,
        filed_by=filed_by,
        channel=body.channel,
        language=body.language,
        details=body.details,
        region=body.region,
        organisation=body.organisation,
    )
    if session is not None or body.token is not None:
        if session is not None:
            subject_id, method = session.subject_id, "session"
        else:
            from privet.subjects.tokens import verify_subject_token

            assert body.token is not None  # no session: the token (the condition above)
            proven = verify_subject_token(db, settings, body.token, keyring=keyring)
            assert proven.subject_id is not None  # the token's subject is found or created (create_subject)
            subject_id, method = proven.subject_id, "token"
        verify.verify_with_subject(db, keyring, settings, filed, subject_id=subject_id, method=method)
        return filed_out(filed, verified=True)
    return filed_out(filed, verify.offer_code(db, keyring, settings, filed, client_ip=_client(request)))


@router.post(
    "/{reference}/code",
    openapi_extra=PUBLIC,
    dependencies=Limited,
    response_model=FiledOut,
    summary="Send a new code for an unverified request (to the identity it names, never elsewhere).",
)
def send_code(reference: str, request: Request, db: DB) -> FiledOut:
    found = service.by_reference(db, reference)
    return filed_out(
        found,
        verify.send_code(db, request.app.state.keyring, request.app.state.settings, found, client_ip=_client(request)),
    )


@router.post(
    "/{reference}/verify",
    openapi_extra={**PUBLIC, **sessions.OPTIONAL_SESSION},
    dependencies=Limited,
    response_model=VerifiedOut,
    summary="Prove the identity with the code (or a subject session); the request then runs.",
)
def verify_request(reference: str, request: Request, db: DB, body: CodeIn | None = None) -> VerifiedOut:
    from privet.subjects.verification import CodeRejected

    keyring, settings = request.app.state.keyring, request.app.state.settings
    found = service.by_reference(db, reference, lock=True)
    session = _optional_session(request)
    if body is None:
        if session is None:
            raise InvalidInput("Send the code", "POST {challenge_id, code}, or a subject session for this identity")
        verify.verify_with_subject(db, keyring, settings, found, subject_id=session.subject_id, method="session")
        return VerifiedOut(reference=found.reference, status=found.status)
    try:
        verify.verify_with_code(db, keyring, settings, found, challenge_id=body.challenge_id, code=body.code)
    except CodeRejected as exc:
        if exc.counted:  # a wrong attempt must count (and a lock must hold) although the answer is an error
            db.commit()
        raise
    return _session_out(request, found)


@router.get(
    "/mine",
    openapi_extra=PUBLIC,
    dependencies=Limited,
    response_model=list[PublicStatusOut],
    summary="The requests of the subject session's subject, newest first.",
)
def mine(subject: CurrentSubject, db: DB) -> list[PublicStatusOut]:
    return [public_status(r, queries.package_of(db, r)) for r in queries.of_subject(db, subject.subject_id)]


@router.get(
    "/{reference}",
    openapi_extra=PUBLIC,
    dependencies=Limited,
    response_model=PublicStatusOut,
    summary="The status of one of your own requests (needs your subject session).",
)
def show(reference: str, subject: CurrentSubject, db: DB) -> PublicStatusOut:
    found = queries.owned_by(db, reference, subject.subject_id)
    return public_status(found, queries.package_of(db, found))
