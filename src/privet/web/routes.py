"""Mounts the pages: security headers, /static, the privacy centre (/), the admin console (/admin), the banner.

Errors on page routes are answered as HTML pages for browsers (and as problem JSON for everything else);
an admin page without a console session redirects to the login page.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from privet.http.routes import problem_response
from privet.kit.errors import PrivetError
from privet.web.guard import LoginRequired


def N_(message: str) -> str:  # noqa: N802 - the gettext convention: marks text for translation, translated later
    return message


_TITLES = {
    400: N_("Bad request"),
    401: N_("Please sign in"),
    403: N_("Not allowed"),
    404: N_("Not found"),
    409: N_("Conflict"),
    410: N_("Gone"),
    422: N_("Please check what you entered"),
    429: N_("Too many requests"),
}


def wants_page(request: Request) -> bool:
    """A browser asking for a page (not the API, not a script fetching JSON)."""
    path = request.url.path
    if path.startswith(("/api/", "/.well-known/")):
        return False
    return "text/html" in request.headers.get("accept", "")


async def on_error(request: Request, exc: PrivetError) -> Response:
    """Problem JSON for API callers; a page for browsers; the login redirect for anonymous admin pages."""
    if isinstance(exc, LoginRequired):
        return exc.redirect()
    if not wants_page(request):
        return problem_response(exc)
    from privet.web.render import error_page, translate

    title = translate(request, _TITLES.get(exc.status) or N_("Something went wrong"))
    hint = translate(request, exc.hint) if exc.hint and "/api/" not in exc.hint else None  # API hints: not for people
    response = error_page(request, exc.status, title, translate(request, exc.detail), hint)
    response.headers.update(getattr(exc, "headers", None) or {})
    return response


def favicon(request: Request) -> Response:
    """Privet's icon where browsers look for it on every site (a static file: no sign-in, cached for a day)."""
    return FileResponse(
        str(resources.files("privet.web") / "static" / "favicon.ico"),
        media_type="image/x-icon",
        headers={"Cache-Control": "public, max-age=86400"},
    )


def mount(app: FastAPI) -> None:
    """Add the pages, their static files and their error handling to `app`."""
    from privet.web.admin import router as admin_router
    from privet.web.banner import router as banner_router
    from privet.web.centre import router as centre_router
    from privet.web.security import SecurityHeaders

    app.add_middleware(SecurityHeaders)
    handler: Any = on_error  # Starlette types a handler as taking any Exception; this one gets PrivetErrors only
    app.add_exception_handler(PrivetError, handler)
    app.mount("/static", StaticFiles(directory=str(resources.files("privet.web") / "static")), name="static")
    app.add_route("/favicon.ico", favicon, methods=["GET", "HEAD"], include_in_schema=False)
    for router in (banner_router, admin_router, centre_router):  # the centre last: it owns "/"
        app.include_router(router)
