"""Consent routes: staff and services record and read consent; subjects manage their own; the cookie banner.

`wellknown_router` serves /.well-known/gpc.json at the site root (outside /api/v1): include it without a prefix.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, Request, Response, status

from privet.auth.deps import PUBLIC, Caller, current_principal, require
from privet.auth.lean_route import LeanRoute
from privet.consent import channels, visitors
from privet.consent.ledger import projection, receipts
from privet.consent.ledger import service as ledger
from privet.consent.ledger.group_commit import writer_for
from privet.consent.ledger.recording import Recording
from privet.consent.ledger.rules import current_policy
from privet.consent.overview import overview
from privet.consent.schemas import (
    ChannelSetIn,
    ChannelsOut,
    CookieIn,
    CookieOut,
    LookupIn,
    MeIn,
    MeOut,
    PublicKeyOut,
    PurposeChoice,
    RebuildOut,
    RecordIn,
    RecordOut,
    SubjectConsentOut,
    VerifyIn,
    VerifyOut,
)
from privet.http.ratelimit import rate_limited
from privet.http.routes import DB
from privet.kit.errors import InvalidInput, NotFound
from privet.subjects.sessions import CurrentSubject

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from privet.consent.schemas import IdentityIn
    from privet.kit.crypto import Keyring

router = APIRouter(prefix="/consent", tags=["consent"])
wellknown_router = APIRouter(tags=["consent"])
Reader = [Depends(require("consent:read"))]
Writer = [Depends(require("consent:write"))]


def _client(request: Request) -> tuple[str | None, str | None]:
    return (request.client.host if request.client else None), request.headers.get("user-agent")


def _subject_of(session: Session, keyring: Keyring, identity: IdentityIn) -> str:
    from privet.subjects.service import find_subject

    subject = find_subject(session, keyring, identity.type, identity.value)
    if subject is None:
        raise NotFound("No subject holds this identity", "record a consent with it first, or check the type")
    return subject.id


async def create_record(body: RecordIn, request: Request) -> Response:
    # No request session: the app's writer records this with the other requests waiting and answers after the
    # commit that includes it (group commit, see ledger.group_commit); the route stays on the event loop meanwhile
    # (a LeanRoute: authenticated and validated there, without FastAPI's dependency machinery; no docstring, which
    # would become the operation's description in /openapi.json).
    ip, agent = _client(request)
    identity = (body.identity.type, body.identity.value) if body.identity is not None else None
    item = Recording(
        actor=current_principal(request).actor,
        identity=identity,
        client_ip=ip,
        user_agent=agent,
        **body.model_dump(exclude={"identity"}),
    )
    entry = await writer_for(request.app).record(item)
    # serialised here rather than by FastAPI: the same JSON, without re-validating the model from a dict
    return Response(
        RecordOut.model_validate(entry).model_dump_json(),
        status_code=status.HTTP_201_CREATED,
        media_type="application/json",
    )


router.add_api_route(
    "/records",
    create_record,
    methods=["POST"],
    route_class_override=LeanRoute,
    dependencies=Writer,
    status_code=status.HTTP_201_CREATED,
    response_model=RecordOut,
    summary="Record a consent event (or an objection) for a subject or a visitor.",
)


@router.get(
    "/subjects/{subject_id}",
    dependencies=Reader,
    response_model=SubjectConsentOut,
    summary="A subject's current consent state and full history.",
)
def subject_consent(subject_id: str, session: DB) -> Any:
    return overview(session, subject_id)


@router.post(
    "/lookup",
    dependencies=Reader,
    response_model=SubjectConsentOut,
    summary="Consent state and history of the subject holding an identity (given in the body).",
)
def lookup(body: LookupIn, request: Request, session: DB) -> Any:
    return overview(session, _subject_of(session, request.app.state.keyring, body.identity))


@router.get(
    "/records/{record_id}/receipt", dependencies=Reader, summary="The signed consent receipt of a ledger record."
)
def record_receipt(record_id: str, request: Request, session: DB) -> dict:
    entry = ledger.get_record(session, record_id)
    controller = receipts.controller_from(current_policy(session).organisation)
    return receipts.receipt(request.app.state.keyring, entry, controller=controller)


@router.post(
    "/receipts/verify",
    dependencies=Reader,
    response_model=VerifyOut,
    summary="Check a receipt: signature valid and the ledger still holds the same record.",
)
def verify(body: VerifyIn, request: Request, session: DB) -> Any:
    return receipts.verify_receipt(session, request.app.state.keyring, body.receipt)


@router.get(
    "/receipts/public-key",
    openapi_extra=PUBLIC,
    dependencies=[Depends(rate_limited("consent-public"))],
    response_model=PublicKeyOut,
    summary="The Ed25519 public key that signs consent receipts.",
)
def receipt_public_key(request: Request) -> Any:
    return receipts.public_key(request.app.state.keyring)


@router.post(
    "/channels",
    dependencies=Writer,
    response_model=ChannelsOut,
    summary="Switch a person's marketing messages on or off on one channel (e-mail, SMS, push).",
)
def set_channel(body: ChannelSetIn, request: Request, session: DB, caller: Caller) -> Any:
    if (body.subject_id is None) == (body.identity is None):
        raise InvalidInput("Name the subject by subject_id or identity, not both or neither", "send one of them")
    subject_id = body.subject_id
    if subject_id is None:
        assert body.identity is not None  # the check above: no subject_id, so an identity
        subject_id = _subject_of(session, request.app.state.keyring, body.identity)
    channels.set_preference(session, subject_id, body.purpose, body.channel, body.opted_in, actor=caller.actor)
    return {"subject_id": subject_id, "channels": channels.preferences(session, subject_id)}


@router.post(
    "/rebuild",
    dependencies=Writer,
    response_model=RebuildOut,
    summary="Rebuild the current-state projection from the ledger.",
)
def rebuild(session: DB, caller: Caller) -> Any:
    return {"rows": projection.rebuild(session, actor=caller.actor)}


# --- the subject's own consent (privacy centre), authenticated by a subject session --------------------------
def _me(session: Session, subject_id: str) -> dict:
    view = overview(session, subject_id)
    by_purpose = {s.purpose: s.event for s in view["states"] if s.holder == f"s:{view['subject_id']}"}
    policy = current_policy(session)
    choices = [
        PurposeChoice(
            purpose=k,
            type=r.type,
            state=by_purpose.get(k),
            legal_basis="separate_consent" if "separate_consent" in r.consent_bases else "consent",
        )
        for k, r in sorted(policy.purposes.items())
        if r.consent_bases
    ]
    return {
        "subject_id": view["subject_id"],
        "purposes": choices,
        "history": view["history"],
        "channels": view["channels"],
    }


SubjectLimited = [Depends(rate_limited("consent-me"))]


@router.get(
    "/me",
    openapi_extra=PUBLIC,
    dependencies=SubjectLimited,
    response_model=MeOut,
    summary="Your consents, their history and your channel preferences (subject session).",
)
def my_consent(subject: CurrentSubject, session: DB) -> Any:
    return _me(session, subject.subject_id)


@router.post(
    "/me",
    openapi_extra=PUBLIC,
    dependencies=SubjectLimited,
    response_model=MeOut,
    summary="Give, refuse or withdraw your consents, set channel preferences, link your banner visitor id.",
)
def change_my_consent(body: MeIn, request: Request, subject: CurrentSubject, session: DB) -> Any:
    ip, agent = _client(request)
    actor = f"subject:{subject.subject_id}"
    if body.visitor_id is not None:
        visitors.link_visitor(session, body.visitor_id, subject.subject_id, actor=actor)
    for change in body.consents:
        ledger.record(
            session,
            subject_id=subject.subject_id,
            purpose=change.purpose,
            event=change.event,
            method="form",
            actor=actor,
            categories=change.categories,
            language=body.language,
            client_ip=ip,
            user_agent=agent,
            keyring=request.app.state.keyring,
        )
    for choice in body.channels:
        channels.set_preference(
            session, subject.subject_id, choice.purpose, choice.channel, choice.opted_in, actor=actor
        )
    return _me(session, subject.subject_id)


# --- the cookie banner (anonymous visitors) ------------------------------------------------------------------
@router.post(
    "/cookies",
    openapi_extra=PUBLIC,
    dependencies=[Depends(rate_limited("consent-cookies"))],
    response_model=CookieOut,
    summary="Record a cookie banner choice; `Sec-GPC: 1` is honoured.",
)
def cookie_choice(body: CookieIn, request: Request, session: DB) -> Any:
    ip, agent = _client(request)
    gpc = request.headers.get("sec-gpc", "").strip() == "1"
    return visitors.record_cookie_choice(
        session,
        visitor_id=body.visitor_id,
        categories=body.categories,
        gpc=gpc,
        notice_version=body.notice_version,
        client_ip=ip,
        user_agent=agent,
        actor="banner",
        keyring=request.app.state.keyring,
        language=body.language,
    )


@wellknown_router.get(
    "/.well-known/gpc.json",
    openapi_extra=PUBLIC,
    dependencies=[Depends(rate_limited("consent-public"))],
    summary="Global Privacy Control support resource: this site honours GPC.",
)
def gpc_json(session: DB) -> dict:
    return visitors.gpc_document(session)
