"""Logging in and out of the console, and setting your own password after a one-time one."""

from __future__ import annotations

import math
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Request
from starlette.responses import HTMLResponse, Response

from privet.auth import logins, service
from privet.auth.deps import PUBLIC, SESSION_COOKIE
from privet.auth.passwords import verify_password
from privet.http.ratelimit import rate_limited
from privet.http.routes import DB
from privet.kit.errors import InvalidInput
from privet.web.admin.common import N_, Form, guard, officer, page, redirect, settings, text
from privet.web.csrf import check_form, secure_cookies
from privet.web.render import translate

router = APIRouter()
LIMITED = [Depends(rate_limited("admin-login"))]  # the form
# Guesses share one bucket per address with the API's login (and one count per account, see auth.logins)
GUESSES = [Depends(rate_limited("login"))]
HOME = "/admin"


LOCKED = N_(
    "This account is locked after repeated failed logins. Try again in {minutes} minutes, or ask an "
    "administrator to unlock it."
)
WAIT = N_("Too many failed logins for this account. Wait {seconds} seconds before trying again.")


def safe_next(value: str | None) -> str:
    """Where to go after logging in: only a relative console path (never another site, never the login page)."""
    value = (value or "").strip()
    parts = urlsplit(value)
    if (
        not (parts.path == "/admin" or parts.path.startswith("/admin/"))
        or value.startswith("//")
        or "\\" in value
        or parts.scheme
        or parts.netloc
        or parts.path.startswith("/admin/login")
        or any(ord(c) < 32 for c in value)
    ):
        return HOME
    return value


async def _checked(request: Request) -> None:
    await check_form(request)  # a public form: the guard does not check it for us


def _login_page(request: Request, next_path: str, error: str | None = None, status_code: int = 200) -> HTMLResponse:
    return page(request, "admin/login.html", {"next": next_path}, section="login", error=error, status_code=status_code)


@router.get("/login", openapi_extra=PUBLIC, dependencies=LIMITED, response_class=HTMLResponse)
def login_form(request: Request) -> HTMLResponse:
    """The login form."""
    return _login_page(request, safe_next(request.query_params.get("next")))


@router.post("/login", openapi_extra=PUBLIC, dependencies=[*GUESSES, Depends(_checked)], response_class=HTMLResponse)
def login(request: Request, form: Form, db: DB) -> Response:
    """Check the password, open a session (HttpOnly cookie) and go on; a one-time password must be replaced.

    Failed logins make the account wait, then lock it (`privet.auth.logins`); both pages answer without raising,
    so the count and the audit event are committed."""
    next_path = safe_next(text(form, "next", 500))
    conf = settings(request)
    try:
        user = logins.log_in(
            db,
            request.app.state.keyring,
            conf,
            text(form, "username", 64),
            text(form, "password", 1000),
            route="console",
            client=request.client.host if request.client else None,
        )
    except logins.LoginFailed:  # one message whether the user is unknown, inactive or the password wrong
        return _login_page(request, next_path, N_("Wrong username or password. Check both and try again."), 401)
    except logins.LoginRefused as exc:
        message = translate(request, LOCKED if exc.locked else WAIT).format(
            minutes=math.ceil(exc.retry_after / 60), seconds=exc.retry_after
        )
        refused = _login_page(request, next_path, message, 429)
        refused.headers.update(exc.headers)
        return refused
    cookie, _csrf = service.start_session(db, user, conf.session_ttl_minutes)
    target = redirect("/admin/password", next=next_path) if user.must_change_password else redirect(next_path)
    target.set_cookie(
        SESSION_COOKIE,
        cookie,
        max_age=conf.session_ttl_minutes * 60,
        path="/",
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request),
    )
    return target


@router.post("/logout", dependencies=guard("account:self"))
def logout(request: Request, db: DB) -> Response:
    """End the session and forget the cookie."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        service.end_session(db, cookie)
    response = redirect("/admin/login")
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=secure_cookies(request))
    return response


@router.get("/password", dependencies=guard("account:self"), response_class=HTMLResponse)
def password_form(request: Request) -> HTMLResponse:
    """Set your own password (required after a one-time password)."""
    return page(
        request, "admin/password.html", {"next": safe_next(request.query_params.get("next"))}, section="password"
    )


@router.post("/password", dependencies=guard("account:self"), response_class=HTMLResponse)
def change_password(request: Request, form: Form, db: DB) -> Response:
    """Check the current password, then set the new one (other sessions end)."""
    principal = officer(request)
    next_path = safe_next(text(form, "next", 500))
    user = service.find_user(db, principal.id)
    new, again = text(form, "new_password", 1000), text(form, "confirm_password", 1000)

    def again_with(message: str) -> HTMLResponse:
        return page(
            request, "admin/password.html", {"next": next_path}, section="password", error=message, status_code=422
        )

    if not verify_password(user.password_hash, text(form, "current_password", 1000)):
        return again_with(N_("The current password is wrong."))
    if new != again:
        return again_with(N_("The two new passwords differ."))
    try:
        service.set_password(db, user, new, actor=principal.actor, must_change=False, keep_session=principal.session_id)
    except InvalidInput as exc:
        return again_with(translate(request, exc.detail))
    return redirect(next_path, done="password")
