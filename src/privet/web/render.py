"""Server-rendered pages: one Jinja2 environment per language, and `render()` for routes.

Templates live in `privet/web/templates/` (`base.html` is the shared layout; `centre/`, `admin/`, `banner/`
hold each area's pages). Every template gets: `lang` and `languages`, `_`/`gettext`/`ngettext` (Babel
catalogues, see `web.i18n`), `csrf_token` (put `{{ csrf_field() }}` in every form), `nonce` (for the inline
`<script>`/`<style>` the Content-Security-Policy allows), `brand` (name, logo, colour from settings),
`static(path)` and `request`. Nothing personal goes into titles or URLs: pages carry ids, never identities.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from importlib import resources
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse

from privet import __version__
from privet.web import i18n
from privet.web.csrf import csrf_token, remember_csrf_cookie, secure_cookies

_ZH_MONTH = "{y}年{m}月{d}日"
_EN_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


@dataclass(frozen=True)
class Brand:
    """What the company configured about its look: name, logo, main colour."""

    name: str
    logo_url: str | None
    color: str


def _templates_dir() -> str:
    return str(resources.files("privet.web") / "templates")


def format_date(value: date | datetime | None, language: str) -> str:
    """`27 October 2026` or `2026年10月27日` (an empty string for None)."""
    if value is None:
        return ""
    day = value.date() if isinstance(value, datetime) else value
    if language == "zh_CN":
        return _ZH_MONTH.format(y=day.year, m=day.month, d=day.day)
    return f"{day.day} {_EN_MONTHS[day.month - 1]} {day.year}"


@cache
def environment(language: str) -> Environment:
    """The Jinja2 environment of one language (autoescaped, strict about undefined names)."""
    env = Environment(
        loader=FileSystemLoader(_templates_dir()),
        autoescape=select_autoescape(default=True),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    translator = i18n.Translator(language)
    # added to the Environment by the jinja2.ext.i18n extension, which the type stubs do not know
    env.install_gettext_callables(translator.gettext, translator.ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters["date"] = lambda value: format_date(value, language)
    # `_("literal")` is for text written in templates (its result counts as safe HTML); text that arrives in a
    # variable (labels, flash messages, error details) goes through `translate(value)`, whose result is escaped as
    # usual.
    env.globals["translate"] = translator.gettext
    env.globals.update(
        lang=language,
        languages=i18n.LANGUAGES,
        language_names=i18n.NAMES,
        html_lang=i18n.HTML_LANG[language],
        version=__version__,
    )
    return env


def brand(request: Request) -> Brand:
    """The configured brand; the company name falls back to the applied data map's organisation."""
    settings = request.app.state.settings
    name = settings.brand_name or getattr(request.app.state, "organisation_name", None)
    if name is None:
        found = _organisation_name(request)
        if found is not None:  # remembered once a data map names the organisation; until then asked each time
            request.app.state.organisation_name = found
        name = found or "Privet"
    return Brand(name=name, logo_url=settings.brand_logo_url, color=settings.brand_color)


def _organisation_name(request: Request) -> str | None:
    from sqlalchemy import select

    from privet.datamap.models import DatamapOrganisation

    try:
        with request.app.state.sessionmaker() as session:
            found = session.execute(select(DatamapOrganisation.name).limit(1)).scalar_one_or_none()
    except Exception:  # noqa: BLE001 - a store not set up yet: the pages still render
        found = None
    return found


def language(request: Request) -> str:
    """The request's page language (negotiated once per request)."""
    found = getattr(request.state, "language", None)
    if found is None:
        found = request.state.language = i18n.negotiate(request)
    return found


def translate(request: Request, message: str) -> str:
    """`message` in the request's language, for text built in Python (flash messages, errors)."""
    return i18n.gettext(language(request), message)


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """The page `template` rendered for this request, with the shared context (see the module docstring)."""
    lang = language(request)
    token = csrf_token(request)
    nonce = getattr(request.state, "csp_nonce", "")
    values = {
        "request": request,
        "csrf_token": token,
        "nonce": nonce,
        "brand": brand(request),
        "static": lambda path: f"/static/{path}?v={__version__}",
        "csrf_field": lambda: Markup(f'<input type="hidden" name="csrf_token" value="{token}">'),
        "switch_language": lambda other: _with_lang(request, other),
        **(context or {}),
    }
    html = environment(lang).get_template(template).render(values)
    response = HTMLResponse(html, status_code=status_code, headers=headers)
    response.headers["Content-Language"] = i18n.HTML_LANG[lang]
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers["Vary"] = "Accept-Language, Cookie"
    remember_csrf_cookie(request, response)
    if request.query_params.get("lang") and i18n.normalise(request.query_params["lang"]):
        response.set_cookie(
            i18n.LANG_COOKIE,
            lang,
            max_age=365 * 86400,
            path="/",
            httponly=True,
            samesite="lax",
            secure=secure_cookies(request),
        )
    return response


def _with_lang(request: Request, other: str) -> str:
    """This page's path and query with `lang=other` (the language switch's link)."""
    from urllib.parse import urlencode

    if request.method != "GET":  # a page answering a form: its path may take only POST; go to the section's page
        return f"{request.url.path.rsplit('/', 1)[0] or '/'}?{urlencode([('lang', other)])}"
    query = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"] + [("lang", other)]
    return f"{request.url.path}?{urlencode(query)}"


def error_page(request: Request, status_code: int, title: str, detail: str, hint: str | None = None) -> HTMLResponse:
    """The shared error page (already translated texts)."""
    return render(
        request,
        "error.html",
        {"status": status_code, "title": title, "detail": detail, "hint": hint},
        status_code=status_code,
    )
