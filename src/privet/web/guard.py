"""Who is looking at a page: officers (admin console) and people (privacy centre).

Admin pages depend on `require_page("scope")`: a `require` (so the route-guard test sees the scope) that reads
only the console's session cookie, sends an anonymous browser to `/admin/login?next=<path>`, shows a 403 page
to a role without the scope, and checks the form's CSRF token on unsafe methods.

People signed in to the privacy centre carry a subject session (see `subjects.sessions`) in the HttpOnly
`privet_subject` cookie: `sign_in_subject(response, token)` after a verified code or trusted token,
`page_subject(request)` to read it (None when absent or expired), `sign_out_subject(response)`.
"""

from __future__ import annotations

from types import ModuleType
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response

from privet.auth.deps import SESSION_COOKIE, Principal, require
from privet.kit.errors import PrivetError, Unauthorized
from privet.subjects.sessions import SubjectSession, checked
from privet.web.csrf import SUBJECT_COOKIE, secure_cookies

LOGIN_PATH = "/admin/login"


class LoginRequired(PrivetError):
    """An admin page asked for without a live console session: answered with a redirect to the login page."""

    def __init__(self, next_path: str) -> None:
        super().__init__("Log in first", "log in to the admin console", [], 401, "Login required")
        self.next_path = next_path

    def redirect(self) -> Response:
        return Response(status_code=303, headers={"Location": f"{LOGIN_PATH}?next={quote(self.next_path, safe='/')}"})


class require_page(require):  # noqa: N801 - used like a function: Depends(require_page("requests:read"))
    """Console session + scope for an admin page; CSRF-checked forms on unsafe methods."""

    async def __call__(self, request: Request) -> Principal:  # type: ignore[override]  # async: FastAPI awaits it
        import anyio

        from privet.auth import service
        from privet.kit.errors import Forbidden
        from privet.web.csrf import check_form

        cookie = request.cookies.get(SESSION_COOKIE)
        principal = await anyio.to_thread.run_sync(_session_principal, request, service, cookie) if cookie else None
        if principal is None:
            raise LoginRequired(request.url.path if request.method == "GET" else "/admin")
        if self.scope not in principal.scopes:
            if principal.scopes <= {"account:self"}:
                raise Forbidden("This account still has a one-time password", "set your own password first")
            raise Forbidden("Your role cannot open this page", "ask an administrator for a role that grants it")
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            await check_form(request)
        request.state.principal = principal
        return principal


def _session_principal(request: Request, service: ModuleType, cookie: str) -> Principal | None:
    """The console session's principal; `service` is privet.auth.service (imported on first use by the caller)."""
    with request.app.state.sessionmaker() as session:
        return service.principal_for_session(session, cookie)


def page_subject(request: Request) -> SubjectSession | None:
    """The person signed in to the privacy centre, or None."""
    token = request.cookies.get(SUBJECT_COOKIE)
    if not token:
        return None
    try:
        return checked(request, token)
    except Unauthorized:
        return None


def sign_in_subject(request: Request, response: Response, token: str) -> None:
    """Keep the subject session token in the browser (HttpOnly; it expires with the session)."""
    minutes = request.app.state.settings.subject_session_minutes
    response.set_cookie(
        SUBJECT_COOKIE,
        token,
        max_age=minutes * 60,
        path="/",
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request),
    )


def sign_out_subject(request: Request, response: Response) -> None:
    """Forget the person's session in this browser."""
    response.delete_cookie(SUBJECT_COOKIE, path="/", httponly=True, samesite="lax", secure=secure_cookies(request))
