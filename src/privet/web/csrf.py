"""CSRF protection of HTML forms: a signed double-submit token bound to the browser's session.

The browser holds a random `privet_csrf` cookie (HttpOnly, SameSite=Lax: Strict would drop it when a person
arrives from an e-mail link and a new one would break forms open in other tabs); every form carries
`csrf_token` = HMAC(keyring `csrf-form` key, cookie + the sessions the browser holds). A forged cross-site form can
neither read the cookie nor compute the token, and SameSite keeps the cookie off cross-site posts anyway.

The sessions are part of the token: the console's (`privet_session`, by its stored id) and the privacy centre's
signed-in person's (`privet_subject`, by a hash of the token). So an attacker who plants their own CSRF cookie in
a victim's browser (from a sibling sub-domain, say) and posts the token that goes with it still fails: that token
was made for the attacker's sessions (or none), not the victim's. Anonymous forms (the sign-in and login forms, a
public request) are bound to no session and keep working; a form shown before signing in or out is out of date
afterwards (403: reload). `render()` sets the cookie the first time a page is shown; `check_form(request)`
refuses a form whose token does not match. (The JSON API's cookie sessions keep their own `X-CSRF-Token` header
check, bound to the session row, see `auth.deps`.)
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Annotated

from fastapi import Depends
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import Response

from privet.auth.deps import SESSION_COOKIE
from privet.kit.errors import Forbidden

CSRF_COOKIE = "privet_csrf"
FIELD = "csrf_token"


def secure_cookies(request: Request) -> bool:
    """Cookies marked Secure: when configured, and whenever the request came over https."""
    return bool(request.app.state.settings.cookie_secure) or request.url.scheme == "https"


SUBJECT_COOKIE = "privet_subject"  # the privacy centre's signed-in person (see web.guard)


def _sessions(request: Request) -> str:
    """What identifies the sessions this browser holds (empty when anonymous): hashes, never the cookies."""
    bound = []
    for name in (SESSION_COOKIE, SUBJECT_COOKIE):
        value = request.cookies.get(name)
        if value:
            bound.append(f"{name}={hashlib.sha256(value.encode()).hexdigest()}")
    return "&".join(bound)


def _sign(request: Request, cookie: str) -> str:
    return request.app.state.keyring.mac("csrf-form", f"{cookie}|{_sessions(request)}".encode())


def _cookie(request: Request) -> str:
    """This browser's CSRF cookie, or a new one that `remember_csrf_cookie` will set."""
    value = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "new_csrf_cookie", None)
    if not value or len(value) > 100:
        value = request.state.new_csrf_cookie = secrets.token_urlsafe(32)
    return value


def csrf_token(request: Request) -> str:
    """The token forms on this page must send back."""
    return _sign(request, _cookie(request))


def remember_csrf_cookie(request: Request, response: Response) -> None:
    """Set the CSRF cookie on `response` when this request created it."""
    value = getattr(request.state, "new_csrf_cookie", None)
    if value:
        response.set_cookie(CSRF_COOKIE, value, path="/", httponly=True, samesite="lax", secure=secure_cookies(request))


def form_ok(request: Request, sent: str | UploadFile | None) -> bool:
    """Whether `sent` (the form's field) is this browser's token."""
    cookie = request.cookies.get(CSRF_COOKIE)
    if not cookie or not sent:
        return False
    return hmac.compare_digest(str(sent), _sign(request, cookie))


async def check_form(request: Request) -> None:
    """Refuse an unsafe request whose form lacks this browser's token (403, nothing done)."""
    form = await request.form()  # Starlette keeps the parsed form: the route reads it again for free
    if not form_ok(request, form.get(FIELD)):
        raise Forbidden(
            "The form is out of date or was not sent from this site", "reload the page and send the form again"
        )


async def read_form(request: Request) -> FormData:
    """The posted form, read on the event loop (declare it before `DB` so no store session waits for a slow body)."""
    return await request.form()


async def checked_form(request: Request) -> FormData:
    """The posted form, refused (403, nothing done) unless it carries this browser's token."""
    await check_form(request)
    return await request.form()


# Page routes that handle forms are plain `def` (run in the thread pool, so sending a code or waiting on a row
# lock never blocks the event loop) and take the form as a parameter declared before their `DB` session.
AnyForm = Annotated[FormData, Depends(read_form)]
CheckedForm = Annotated[FormData, Depends(checked_form)]
