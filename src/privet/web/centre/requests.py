"""Requests: file any type (signed in, anonymous with a code first, or as a guardian for a child), follow the
status and the legal deadline, download the access package. Same services as `requests/public_api.py`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter
from fastapi import Path as PathParam
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from privet.auth.deps import PUBLIC
from privet.http.routes import DB
from privet.kit.errors import InvalidInput, NotFound, PrivetError
from privet.requests import queries, service
from privet.requests.intake import service as intake
from privet.requests.intake import verify
from privet.requests.models import TYPES
from privet.requests.schemas import public_status
from privet.subjects.verification import CodeRejected
from privet.web.centre import request_forms as forms
from privet.web.centre import request_view as shown
from privet.web.centre.common import N_, Forms, Public, acting_for, go, page, page_language, sign_in_first, signed_in
from privet.web.centre.package import open_for_subject
from privet.web.centre.signin import code_page, identity_type_of, problem_text, start_session, wrong_code_text
from privet.web.csrf import CheckedForm
from privet.web.render import translate

if TYPE_CHECKING:
    from starlette.datastructures import FormData

    from privet.requests.models import DsrRequest
    from privet.requests.schemas import PublicStatusOut
    from privet.subjects.verification import StartResult
    from privet.web.centre.common import Child

router = APIRouter(include_in_schema=False)
Reference = Annotated[str, PathParam(max_length=20, pattern=r"^[A-Za-z0-9-]{1,20}$")]
TYPE_NAMES = {
    "access": (N_("See my data (access)"), N_("Get a copy of the personal information the company holds about you.")),
    "portability": (N_("Take my data elsewhere (portability)"), N_("Get your data in a machine-readable file.")),
    "rectification": (N_("Correct my data"), N_("Have wrong or incomplete information corrected.")),
    "erasure": (N_("Delete my data"), N_("Have your personal information deleted where the law allows.")),
    "closure": (N_("Close my account"), N_("Close your account and delete what is no longer needed.")),
    "withdrawal": (N_("Withdraw consent"), N_("Stop uses you consented to.")),
    "restriction": (N_("Object to or restrict a use"), N_("Stop or limit a use that does not rest on consent.")),
    "explanation": (N_("Explain how my data is used"), N_("Get a plain explanation of how and why your data is used.")),
    "complaint": (N_("Make a complaint"), N_("Tell the privacy office what went wrong.")),
}
STATUS_NAMES = {
    "unverified": N_("Waiting for your code"),
    "pending_approval": N_("Being checked by the privacy office"),
    "running": N_("In progress"),
    "waiting": N_("In progress"),
    "completed": N_("Completed"),
    "completed_with_exceptions": N_("Completed, except some information we could not erase"),
    "refused": N_("Refused"),
    "failed": N_("Delayed: the privacy office is looking into it"),
    "expired": N_("Expired (never confirmed)"),
}


def _types(request: Request) -> list[dict]:
    return [
        {"key": t, "name": translate(request, TYPE_NAMES[t][0]), "hint": translate(request, TYPE_NAMES[t][1])}
        for t in TYPES
    ]


def _chosen(value: str | None) -> str | None:
    return value if value in TYPE_NAMES else None


def _status_view(request: Request, found: PublicStatusOut) -> dict:
    return {
        "reference": found.reference,
        "type": translate(request, TYPE_NAMES[found.type][0]),
        "status": found.status,
        "status_name": translate(request, STATUS_NAMES.get(found.status, found.status)),
        "received_at": found.received_at,
        "verified_at": found.verified_at,
        "due_on": found.due_on,
        "completed_at": found.completed_at,
        "refusal_reason": found.refusal_reason,
        "package_expires_at": found.package_expires_at,
    }


def _list_page(
    request: Request,
    session: Session,
    *,
    error: str | None = None,
    values: dict | None = None,
    status_code: int = 200,
    child_id: str | None = None,
    chosen: str | None = None,
) -> Response:
    """The person's requests, then the form: the type first, then only what that type asks (`?type=`)."""
    subject = signed_in(request)
    child, mine, acting_id = None, [], None
    if subject is not None:
        acting_id, child = acting_for(session, request, subject, child_id)
        mine = [
            _status_view(request, public_status(r, queries.package_of(session, r)))
            for r in queries.of_subject(session, acting_id)
        ]
    offered = forms.offer(session, chosen, acting_id, page_language(request)) if chosen else None
    return page(
        request,
        "centre/requests.html",
        {
            "types": _types(request),
            "mine": mine,
            "child": child,
            "values": values or {},
            "error": error,
            "chosen": chosen,
            "chosen_name": translate(request, TYPE_NAMES[chosen][0]) if chosen else None,
            "chosen_hint": translate(request, TYPE_NAMES[chosen][1]) if chosen else None,
            "offer": offered,
            "modes": [{"key": k, "name": translate(request, v)} for k, v in forms.MODES.items()],
            "regions": [(k, translate(request, v)) for k, v in forms.REGIONS],
        },
        nav="requests",
        status_code=status_code,
    )


@router.get("/requests", dependencies=Public, openapi_extra=PUBLIC, response_class=HTMLResponse)
def requests_page(request: Request, session: DB) -> Response:
    return _list_page(
        request, session, child_id=request.query_params.get("child"), chosen=_chosen(request.query_params.get("type"))
    )


def _identity_of(session: Session, request: Request, subject_id: str, preferred: str | None) -> tuple[str, str]:
    """(type, value) of an identity the subject holds, the session's kind first, verified ones before others."""
    from privet.subjects.service import get_subject, identities_of

    found = identities_of(session, request.app.state.keyring, get_subject(session, subject_id))
    found.sort(key=lambda i: (i.type != preferred, i.verified_at is None, i.type not in ("email", "phone")))
    if not found:
        raise InvalidInput(N_("No contact details are known for this person"), None)
    return found[0].type, found[0].value


def _typed(form: FormData, request_type: str) -> dict:
    """What the person typed and chose, kept in the form when it comes back with an error."""
    return {
        "type": request_type,
        "identity": str(form.get("identity") or "")[:320],
        "region": str(form.get("region") or "")[:10],
        "mode": str(form.get("mode") or "")[:20],
        "purposes": [str(p)[:160] for p in form.getlist("purposes")][:50],
        "changes": {k[len(forms.CHANGE) :]: str(form.get(k) or "")[:500] for k in form if k.startswith(forms.CHANGE)},
        "text": str(form.get("text") or "")[:5000],
    }


@router.post("/requests", dependencies=Forms, openapi_extra=PUBLIC, response_class=HTMLResponse)
def file_request(request: Request, form: CheckedForm, session: DB) -> Response:
    keyring, settings = request.app.state.keyring, request.app.state.settings
    subject = signed_in(request)
    request_type = str(form.get("type") or "")[:20]
    child_id = str(form.get("child") or "") or None
    values = _typed(form, request_type)
    lang = page_language(request)
    region = values["region"] or None
    try:
        acting_id, child = acting_for(session, request, subject, child_id) if subject else (None, None)
        details = forms.read_details(form, forms.offer(session, request_type, acting_id, lang))
        if subject is not None:
            assert acting_id is not None  # acting_for names someone whenever a person is signed in
            kind, value = _identity_of(session, request, acting_id, None if child else subject.identity_type)
            filed = intake.file_request(
                session,
                keyring,
                settings,
                request_type=request_type,
                identity_type=kind,
                identity=value,
                filed_by=f"subject:{subject.subject_id}",
                channel="privacy_centre",
                language=lang,
                details=details,
                region=region,
            )
            if child is None:
                verify.verify_with_subject(session, keyring, settings, filed, subject_id=acting_id, method="session")
            else:  # the verified guardian acts for the child (links checked by acting_for)
                verify.verified(
                    session,
                    keyring,
                    settings,
                    filed,
                    subject_id=child.id,
                    method="guardian",
                    actor=f"subject:{subject.subject_id}",
                )
            return go(f"/requests/{filed.reference}", "request_filed", child=child.id if child else None)
        identity = values["identity"].strip()
        if not identity:
            raise InvalidInput(N_("Enter your e-mail address or mobile number"), None)
        filed = intake.file_request(
            session,
            keyring,
            settings,
            request_type=request_type,
            identity_type=identity_type_of(identity),
            identity=identity,
            filed_by="public:privacy_centre",
            channel="privacy_centre",
            language=lang,
            details=details,
            region=region,
        )
    except PrivetError as exc:
        if exc.status >= 500:
            raise
        session.rollback()
        return _list_page(
            request,
            session,
            error=problem_text(request, exc),
            values=values,
            status_code=exc.status,
            child_id=child_id,
            chosen=_chosen(request_type),
        )
    sent = verify.offer_code(
        session, keyring, settings, filed, client_ip=request.client.host if request.client else None
    )
    return _code_or_wait(request, filed.reference, sent)


def _code_or_wait(request: Request, reference: str, sent: StartResult | None) -> HTMLResponse:
    if sent is None:
        error = translate(
            request, N_("We could not send a code just now. Your request is kept: ask for a new code in a minute.")
        )
        return code_page(
            request,
            action=f"/requests/{reference}/verify",
            challenge_id="",
            channel="email",
            reference=reference,
            error=error,
            status_code=202,
        )
    return code_page(
        request,
        action=f"/requests/{reference}/verify",
        challenge_id=sent.challenge_id,
        channel=sent.channel,
        reference=reference,
    )


@router.post("/requests/{reference}/code", dependencies=Forms, openapi_extra=PUBLIC, response_class=HTMLResponse)
def send_code(reference: Reference, request: Request, _form: CheckedForm, session: DB) -> Response:
    found = service.by_reference(session, reference)
    if found.status != "unverified":
        return go(f"/requests/{found.reference}")
    sent = verify.offer_code(
        session,
        request.app.state.keyring,
        request.app.state.settings,
        found,
        client_ip=request.client.host if request.client else None,
    )
    return _code_or_wait(request, found.reference, sent)


@router.post("/requests/{reference}/verify", dependencies=Forms, openapi_extra=PUBLIC, response_class=HTMLResponse)
def verify_code(reference: Reference, request: Request, form: CheckedForm, session: DB) -> Response:
    keyring, settings = request.app.state.keyring, request.app.state.settings
    found = service.by_reference(session, reference, lock=True)
    challenge_id = str(form.get("challenge_id") or "")[:32]
    channel = str(form.get("channel") or "email")[:10]
    try:
        verify.verify_with_code(
            session, keyring, settings, found, challenge_id=challenge_id, code=str(form.get("code") or "")[:20]
        )
    except CodeRejected as exc:  # the attempt counts: returning normally commits it, the request stays unverified
        return code_page(
            request,
            action=f"/requests/{found.reference}/verify",
            challenge_id=challenge_id,
            channel=channel,
            reference=found.reference,
            error=wrong_code_text(request, exc),
            status_code=401,
        )
    except PrivetError as exc:
        if exc.status >= 500:
            raise
        session.rollback()
        return code_page(
            request,
            action=f"/requests/{reference}/verify",
            challenge_id=challenge_id,
            channel=channel,
            reference=reference,
            error=problem_text(request, exc),
            status_code=exc.status,
        )
    assert found.subject_id is not None  # set when the request was verified, just above
    response = go(f"/requests/{found.reference}", "request_filed")
    start_session(request, response, found.subject_id, found.identity_type)
    return response


def _owned(
    session: Session, request: Request, reference: str, child_id: str | None
) -> tuple[DsrRequest | None, Child | None]:
    subject = signed_in(request)
    if subject is None:
        return None, None
    acting_id, child = acting_for(session, request, subject, child_id)
    return queries.owned_by(session, reference, acting_id), child


@router.get("/requests/{reference}", dependencies=Public, openapi_extra=PUBLIC, response_class=HTMLResponse)
def request_status(reference: Reference, request: Request, session: DB) -> Response:
    found, child = _owned(session, request, reference, request.query_params.get("child"))
    if found is None:
        return sign_in_first(request)
    view = _status_view(request, public_status(found, queries.package_of(session, found)))
    lang = page_language(request)
    return page(
        request,
        "centre/request.html",
        {
            "request_view": view,
            "child": child,
            "done_list": shown.done(session, request, found, lang),
            "asked": shown.asked(session, request.app.state.keyring, request, found, lang),
        },
        nav="requests",
    )


@router.post("/requests/{reference}/package", dependencies=Forms, openapi_extra=PUBLIC, response_class=Response)
def download_package(reference: Reference, request: Request, form: CheckedForm, session: DB) -> Response:
    found, _child = _owned(session, request, reference, str(form.get("child") or "") or None)
    if found is None:
        raise NotFound("None of your requests has this reference", "sign in first")
    subject = signed_in(request)
    assert subject is not None  # the request was found among the signed-in person's
    data = open_for_subject(session, request.app.state.keyring, found, subject.subject_id)
    return Response(
        data,
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="privet-{found.reference}.zip"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )
