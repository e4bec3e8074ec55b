"""Signing in to the privacy centre: a one-time code to an e-mail address or phone, or a trusted token from the
company's app (P5), posted in a form so it never sits in a URL. Signing out forgets the session cookie."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from privet.auth.deps import PUBLIC
from privet.http.routes import DB
from privet.kit.errors import InvalidInput, NotFound, PrivetError
from privet.subjects import sessions, verification
from privet.web.centre.common import N_, Forms, Public, go, local_path, page, page_language, signed_in
from privet.web.csrf import FIELD, AnyForm, CheckedForm, form_ok
from privet.web.guard import sign_in_subject, sign_out_subject
from privet.web.render import translate

router = APIRouter(include_in_schema=False)
MAX_IDENTITY = 320
UNREADABLE = N_("Type an e-mail address, such as name@example.com, or a mobile number, such as +86 138 0013 8000")


def identity_type_of(value: str) -> str:
    """`email` for anything with an @, else `phone`."""
    return "email" if "@" in value else "phone"


def start_session(request: Request, response: Response, subject_id: str, identity_type: str) -> None:
    """Issue a subject session and keep it in the browser's HttpOnly cookie."""
    settings = request.app.state.settings
    token = sessions.issue(
        request.app.state.keyring,
        subject_id=subject_id,
        identity_type=identity_type,
        ttl_minutes=settings.subject_session_minutes,
    )
    sign_in_subject(request, response, token)


def code_page(
    request: Request,
    *,
    action: str,
    challenge_id: str,
    channel: str,
    next_path: str = "",
    reference: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """The page asking for the six-digit code (sign-in and request verification share it)."""
    return page(
        request,
        "centre/code.html",
        {
            "action": action,
            "challenge_id": challenge_id,
            "channel": channel,
            "next": next_path,
            "reference": reference,
            "error": error,
        },
        nav="signin" if reference is None else "requests",
        status_code=status_code,
    )


FRIENDLY = {  # problems of a request's details, said in the words of the form
    "details.purposes": N_("Choose at least one use under “Details for some requests”."),
    "details.mode": N_("Choose objection or restriction."),
    "details.changes": N_("Choose the information to correct and give the correct value."),
    "details.text": N_("Describe your complaint."),
}


GENERIC = N_("This could not be done. Please check what you entered and try again.")


def for_people(text: str) -> bool:
    """Hints written for API callers (paths, HTTP verbs) are not shown to people."""
    return "/api/" not in text and not text.startswith(("GET ", "POST ", "PUT ", "DELETE ", "ask for a code: POST"))


def problem_text(request: Request, exc: PrivetError) -> str:
    """An error's detail, hint and each problem in the page's language, for the message above a form."""
    parts = [exc.detail] + ([exc.hint] if exc.hint and not exc.problems else [])
    for problem in exc.problems or []:
        where = next((k for k in FRIENDLY if (problem.where or "").startswith(k)), None)
        parts += [FRIENDLY[where]] if where else [problem.message] + ([problem.hint] if problem.hint else [])
    stop = "。" if page_language(request) == "zh_CN" else "."
    shown = [translate(request, p) for p in dict.fromkeys(parts) if p and for_people(p)]
    if stop == "。" and any(t.isascii() for t in shown):  # a service text with no Chinese yet: say it plainly
        shown = [t for t in shown if not t.isascii()] or [translate(request, GENERIC)]
    return ("" if stop == "。" else " ").join(
        t if t.endswith((".", "。", "？", "?")) else t[:1].upper() + t[1:] + stop for t in shown
    )


def wrong_code_text(request: Request, exc: verification.CodeRejected) -> str:
    """A clear refusal of a code: what happened, that nothing changed, what to do."""
    return " ".join(
        [
            translate(request, exc.detail) + ("。" if page_language(request) == "zh_CN" else "."),
            translate(request, N_("Nothing was changed.")),
            translate(request, N_("Check the latest message and enter its code, or ask for a new one.")),
        ]
    )


@router.get("/signin", dependencies=Public, openapi_extra=PUBLIC, response_class=HTMLResponse)
def signin_form(request: Request) -> HTMLResponse:
    next_path = local_path(request.query_params.get("next"), "/consents")
    return page(request, "centre/signin.html", {"next": next_path, "identity": ""}, nav="signin")


@router.post("/signin", dependencies=Forms, openapi_extra=PUBLIC, response_class=HTMLResponse)
def signin_start(request: Request, form: CheckedForm, session: DB) -> HTMLResponse:
    identity = str(form.get("identity") or "").strip()[:MAX_IDENTITY]
    next_path = local_path(str(form.get("next") or ""), "/consents")
    try:
        if not identity:
            raise InvalidInput(N_("Enter your e-mail address or mobile number"), None)
        try:
            started = verification.start(
                session,
                request.app.state.keyring,
                request.app.state.settings,
                identity_type=identity_type_of(identity),
                value=identity,
                language=page_language(request),
                purpose="verify",
                client_ip=request.client.host if request.client else None,
            )
        except InvalidInput as exc:  # one sentence saying what to type, not the parser's words twice
            if any(p.where == "identity" for p in exc.problems or []):
                raise InvalidInput(UNREADABLE, None) from None
            raise
    except PrivetError as exc:
        if exc.status >= 500:
            raise
        session.rollback()
        return page(
            request,
            "centre/signin.html",
            {"next": next_path, "identity": identity, "error": problem_text(request, exc)},
            nav="signin",
            status_code=exc.status,
        )
    return code_page(
        request, action="/signin/code", challenge_id=started.challenge_id, channel=started.channel, next_path=next_path
    )


@router.post("/signin/code", dependencies=Forms, openapi_extra=PUBLIC, response_class=HTMLResponse)
def signin_code(request: Request, form: CheckedForm, session: DB) -> Response:
    challenge_id = str(form.get("challenge_id") or "")[:32]
    next_path = local_path(str(form.get("next") or ""), "/consents")
    channel = str(form.get("channel") or "email")[:10]
    try:
        proven = verification.check(
            session,
            request.app.state.keyring,
            request.app.state.settings,
            challenge_id=challenge_id,
            code=str(form.get("code") or "")[:20],
        )
    except verification.CodeRejected as exc:  # the attempt counts: this route returns normally, so it commits
        return code_page(
            request,
            action="/signin/code",
            challenge_id=challenge_id,
            channel=channel,
            next_path=next_path,
            error=wrong_code_text(request, exc),
            status_code=401,
        )
    except NotFound:
        return go("/signin", next=next_path)
    assert proven.subject_id is not None  # found or created: both checks create the subject by default
    response = go(next_path, "signed_in")
    start_session(request, response, proven.subject_id, proven.identity_type)
    return response


@router.post("/signin/token", dependencies=Forms, openapi_extra=PUBLIC, response_class=HTMLResponse)
def signin_token(request: Request, form: AnyForm, session: DB) -> Response:
    """Arrival from the company's app with a trusted token. A post without this site's form token (the app's own
    form) only shows a page asking the person to continue: nobody is signed in by a cross-site post alone."""
    from privet.subjects.tokens import verify_subject_token

    token = str(form.get("token") or "")
    next_path = local_path(str(form.get("next") or ""), "/consents")
    if not form_ok(request, form.get(FIELD)):
        return page(request, "centre/token.html", {"token": token, "next": next_path}, nav="signin")
    try:
        proven = verify_subject_token(session, request.app.state.settings, token, keyring=request.app.state.keyring)
    except PrivetError as exc:
        if exc.status >= 500:
            raise
        session.rollback()
        return page(
            request,
            "centre/signin.html",
            {"next": next_path, "identity": "", "error": problem_text(request, exc)},
            nav="signin",
            status_code=exc.status,
        )
    assert proven.subject_id is not None  # found or created: both checks create the subject by default
    response = go(next_path, "signed_in")
    start_session(request, response, proven.subject_id, proven.identity_type)
    return response


@router.post("/signout", dependencies=Forms, openapi_extra=PUBLIC, response_class=HTMLResponse)
def signout(request: Request, form: CheckedForm) -> Response:
    response = go("/", "signed_out" if signed_in(request) else None)
    sign_out_subject(request, response)
    return response
