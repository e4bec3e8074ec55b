"""The cookie banner: its script, its per-site configuration, the recording of choices, the click-tracking redirect.

- `GET /banner.js`: the script a website includes (`<script src="https://privet.example/banner.js"
  data-site="shop">`); static, cacheable for an hour, gzipped when the browser accepts it, usable from any origin.
- `GET /banner/config.json?site=shop&lang=zh_CN`: texts (from `locale/zh_CN/banner.po`), the notice version and
  cookie settings for one site; the same for every visitor (cacheable for five minutes).
- `POST /banner/choice` (and its CORS preflight): records a choice in the consent ledger
  (`visitors.record_cookie_choice`, with the notice key and version shown). Cross-origin, without credentials:
  the visitor id travels in the body, taken from the site's own first-party cookie.
- `GET /t/c/{token}`: a signed e-mail link (see `clicks.py`); redirects, counting the click only with consent.
  `POST /banner/click-links` (API key with `consent:write`) makes such links for a mailing system.
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Callable
from functools import cache
from importlib import resources
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import JSONResponse, RedirectResponse, Response

from privet.auth.deps import PUBLIC, require
from privet.consent import visitors
from privet.http.ratelimit import rate_limited
from privet.http.routes import DB, problem_response
from privet.kit.errors import InvalidInput, PrivetError, Problem
from privet.web import i18n
from privet.web.banner import clicks
from privet.web.banner.config import SITE, notice_for, site_config

CORS = {"Access-Control-Allow-Origin": "*", "Cross-Origin-Resource-Policy": "cross-origin", "Timing-Allow-Origin": "*"}
PREFLIGHT = {
    **CORS,
    "Access-Control-Allow-Methods": "POST, OPTIONS",
    "Access-Control-Max-Age": "86400",
    "Access-Control-Allow-Headers": "Content-Type",
}


class _CrossOrigin(APIRoute):
    """Routes the banner calls from other origins: errors too carry the CORS headers (else scripts see nothing)."""

    def get_route_handler(self) -> Callable:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                response = await handler(request)
            except PrivetError as exc:
                response = problem_response(exc)
            except RequestValidationError as exc:
                response = problem_response(
                    InvalidInput(
                        "The request does not validate",
                        problems=[
                            Problem(
                                e.get("msg", "invalid"),
                                ".".join(str(p) for p in e.get("loc", ())),
                                "send the banner's own request",
                            )
                            for e in exc.errors()
                        ],
                    )
                )
            for name, value in (PREFLIGHT if request.method == "OPTIONS" else CORS).items():
                response.headers.setdefault(name, value)
            return response

        return route


router = APIRouter(include_in_schema=False)
cross = APIRouter(include_in_schema=False, route_class=_CrossOrigin)


@cache
def _script() -> tuple[bytes, bytes, str]:
    """(script, its gzip, its ETag), read once."""
    body = (resources.files("privet.web") / "static" / "banner.js").read_bytes()
    return body, gzip.compress(body, compresslevel=9, mtime=0), '"' + hashlib.sha256(body).hexdigest()[:20] + '"'


@cross.get(
    "/banner.js",
    openapi_extra=PUBLIC,
    dependencies=[Depends(rate_limited("banner-script", "banner_rate_limit_per_minute"))],
)
def banner_script(request: Request) -> Response:
    body, zipped, etag = _script()
    headers = {"Cache-Control": "public, max-age=3600", "ETag": etag, "Vary": "Accept-Encoding"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    if "gzip" in request.headers.get("accept-encoding", ""):
        return Response(
            zipped, media_type="text/javascript; charset=utf-8", headers={**headers, "Content-Encoding": "gzip"}
        )
    return Response(body, media_type="text/javascript; charset=utf-8", headers=headers)


@cross.get(
    "/banner/config.json",
    openapi_extra=PUBLIC,
    dependencies=[Depends(rate_limited("banner-config", "banner_rate_limit_per_minute"))],
)
def banner_config(request: Request, session: DB, site: str = "default", lang: str | None = None) -> JSONResponse:
    if not SITE.match(site):
        raise InvalidInput(
            "A site name is 1 to 80 lower-case letters, digits or . _ -", "use the data-site value of the script tag"
        )
    settings = request.app.state.settings
    config = site_config(
        session, site=site, language=i18n.normalise(lang) or "en", settings=settings, privet_url=settings.public_url
    )
    return JSONResponse(config, headers={"Cache-Control": "public, max-age=300", "Vary": "Accept-Encoding"})


class ChoiceIn(BaseModel):
    """What the banner sends: the visitor's id (from the site's cookie), the categories, the notice it showed."""

    model_config = ConfigDict(extra="forbid")

    site: str = Field("default", max_length=80)
    visitor_id: str = Field(min_length=8, max_length=64)
    categories: dict[str, bool] = Field(max_length=50)
    notice_version: int | None = Field(None, ge=1, le=2**31)
    language: str | None = Field(None, max_length=10)
    gpc: bool = False  # navigator.globalPrivacyControl, besides the Sec-GPC header


@cross.options(
    "/banner/choice",
    openapi_extra=PUBLIC,
    dependencies=[Depends(rate_limited("banner-choice", "banner_rate_limit_per_minute"))],
)
def choice_preflight() -> Response:
    return Response(status_code=204)


@cross.post(
    "/banner/choice",
    openapi_extra=PUBLIC,
    dependencies=[Depends(rate_limited("banner-choice", "banner_rate_limit_per_minute"))],
)
def record_choice(body: ChoiceIn, request: Request, session: DB) -> JSONResponse:
    if not SITE.match(body.site):
        raise InvalidInput(
            "A site name is 1 to 80 lower-case letters, digits or . _ -", "use the data-site value of the script tag"
        )
    key, versions = notice_for(session, body.site)
    shown = body.notice_version if any(body.notice_version == number for number, _ in versions) else None
    gpc = body.gpc or request.headers.get("sec-gpc", "").strip() == "1"
    result: dict[str, Any] = visitors.record_cookie_choice(
        session,
        visitor_id=body.visitor_id,
        categories=body.categories,
        gpc=gpc,
        notice_key=key,
        notice_version=shown,
        client_ip=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent"),
        actor="banner",
        keyring=request.app.state.keyring,
        language=i18n.normalise(body.language),
    )
    return JSONResponse(
        {
            "choice": result["choice"],
            "gpc_honoured": result["gpc_honoured"],
            "records": [r["record_id"] for r in result["records"]],
            "notice": {"key": key, "version": shown},
        },
        status_code=201,
        headers={"Cache-Control": "no-store"},
    )


class ClickLinkIn(BaseModel):
    """A tracking link to make for one recipient of one campaign."""

    model_config = ConfigDict(extra="forbid")

    subject_id: str = Field(min_length=1, max_length=64)
    url: str = Field(min_length=1, max_length=clicks.MAX_URL, description="The http(s) page the link leads to.")
    campaign: str = Field(min_length=1, max_length=80, description="Letters, digits or . _ : - (no personal data).")


@router.post("/banner/click-links", dependencies=[Depends(require("consent:write"))])
def make_click_link(body: ClickLinkIn, request: Request) -> JSONResponse:
    """A signed e-mail tracking link (`/t/c/…`) for a mailing system; 422 for a non-http(s) target."""
    try:
        link = clicks.click_link(
            request.app.state.keyring,
            request.app.state.settings.public_url,
            subject_id=body.subject_id,
            url=body.url,
            campaign=body.campaign,
        )
    except ValueError as exc:
        raise InvalidInput(str(exc), "send an absolute http(s) address and a campaign of letters and digits") from None
    return JSONResponse({"link": link}, status_code=201, headers={"Cache-Control": "no-store"})


@router.get("/t/c/{token}", openapi_extra=PUBLIC, dependencies=[Depends(rate_limited("click"))])
def follow_click(token: str, request: Request, session: DB) -> Response:
    from privet.web.render import error_page, translate

    try:
        target, _recorded = clicks.follow(session, request.app.state.keyring, token)
    except clicks.BadLink as exc:
        return error_page(
            request,
            400,
            translate(request, "This link cannot be followed"),
            translate(request, exc.detail),
            translate(request, clicks.HINT),
        )
    return RedirectResponse(target, status_code=302, headers={"Cache-Control": "no-store"})


router.include_router(cross)
