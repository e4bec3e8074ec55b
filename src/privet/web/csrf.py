"""CSRF protection of HTML forms: a signed double-submit token.

The browser holds a random `privet_csrf` cookie (HttpOnly, SameSite=Lax: Strict would drop it when a person
arrives from an e-mail link and a new one would break forms open in other tabs); every form carries
`csrf_token` = HMAC(keyring `csrf-form` key, cookie). A forged cross-site form can neither read the cookie nor
compute the token, and SameSite keeps the cookie off cross-site posts anyway. `render()` sets the cookie the
first time a page is shown; `check_form(request, form)` refuses a form whose token does not match.
(The JSON API's cookie sessions keep their own `X-CSRF-Token` header check, see `auth.deps`.)
"""

from __future__ import annotations

import hmac
import secrets

from typing import Annotated

from fastapi import Depends
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from privet.kit.errors import Forbidden

CSRF_COOKIE = "privet_csrf"
FIELD = "csrf_token"


def secure_cookies(request: Request) -> bool:
    """Cookies marked Secure: when configured, and whenever the request came over https."""
    return bool(request.app.state.settings.cookie_secure) or request.url.scheme == "https"


def _sign(request: Request, cookie: str) -> str:
    return request.app.state.keyring.mac("csrf-form", cookie.encode())


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
        response.set_cookie(CSRF_COOKIE, value, path="/", httponly=True, samesite="lax",
                            secure=secure_cookies(request))


def form_ok(request: Request, sent: str | None) -> bool:
    """Whether `sent` is this browser's token."""
    cookie = request.cookies.get(CSRF_COOKIE)
    return bool(cookie and sent) and hmac.compare_digest(str(sent), _sign(request, cookie))


async def check_form(request: Request) -> None:
    """Refuse an unsafe request whose form lacks this browser's token (403, nothing done)."""
    form = await request.form()  # Starlette keeps the parsed form: the route reads it again for free
    if not form_ok(request, form.get(FIELD)):  # type: ignore[arg-type]
        raise Forbidden("The form is out of date or was not sent from this site",
                        "reload the page and send the form again")


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
