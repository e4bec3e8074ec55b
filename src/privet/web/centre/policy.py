"""Reading the policy: the current main policy at `/`, every version of every notice at `/policy/{key}/{n}`,
what changed and which changes were material, and links that leave the company's site marked (P28, P30, P31)."""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter
from fastapi import Path as PathParam
from markupsafe import Markup, escape
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import HTMLResponse

from privet.auth.deps import PUBLIC
from privet.http.routes import DB
from privet.kit.errors import NotFound
from privet.notices import service as notices
from privet.notices.diff import section_diff, summary, version_summary
from privet.notices.models import NoticeVersion
from privet.web.centre.common import Public, page, purpose_names
from privet.web.render import language, translate
from privet.web.word_changes import section_changes

router = APIRouter(include_in_schema=False)
MAIN_POLICY = "privacy-policy"  # the key consent records name by default (consent.ledger.checks.DEFAULT_NOTICE)
Key = Annotated[str, PathParam(max_length=80, pattern=r"^[a-z0-9][a-z0-9_.-]{0,79}$")]
Number = Annotated[int, PathParam(ge=1, le=2**31)]
_LINK = re.compile(r"\[([^\]\n]+)\]\((https?://[^\s)]+)\)|(https?://[^\s<>()\[\]]+)")


def own_hosts(session: Session, request: Request) -> set[str]:
    """Hosts that are the company's own: this site, Privet's public URL, the organisation's e-mail domain."""
    from privet.consent.ledger.rules import current_policy
    from privet.kit.errors import PrivetError

    hosts = {request.url.hostname or "", urlsplit(request.app.state.settings.public_url or "").hostname or ""}
    try:
        contact = (current_policy(session).organisation.get("responsible") or {}).get("email") or ""
    except PrivetError:
        contact = ""
    if "@" in contact:
        hosts.add(contact.rsplit("@", 1)[1].lower())
    return {h.lower() for h in hosts if h}


def _is_own(url: str, hosts: set[str]) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return any(host == h or host.endswith("." + h) for h in hosts)


def _link(label: str, url: str, hosts: set[str], outside: str) -> Markup:
    if _is_own(url, hosts):
        return Markup('<a href="{}">{}</a>').format(url, label)
    return Markup('<a href="{}" class="external" rel="noopener">{} <span class="outside">{}</span></a>').format(
        url, label, outside
    )


def _inline(line: str, hosts: set[str], outside: str) -> Markup:
    out, position = [], 0
    for match in _LINK.finditer(line):
        label, url = (match.group(1), match.group(2)) if match.group(1) else (match.group(3), match.group(3))
        trail = ""
        if not match.group(1):
            while url and url[-1] in ".,;:!?。，；":  # sentence punctuation after a bare address
                url, trail = url[:-1], url[-1] + trail
            label = url
        out += [escape(line[position : match.start()]), _link(label, url, hosts, outside), escape(trail)]
        position = match.end()
    out.append(escape(line[position:]))
    return Markup("").join(out)


def text_html(text: str, hosts: set[str], outside: str) -> Markup:
    """A section's text as paragraphs and lists, links marked when they leave the company's site."""
    blocks, items = [], []
    for raw in (text or "").split("\n"):
        line = raw.strip()
        bullet = re.match(r"^[-*•]\s+(.*)$", line)
        if bullet:
            items.append(Markup("<li>{}</li>").format(_inline(bullet.group(1), hosts, outside)))
            continue
        if items:
            blocks.append(Markup("<ul>{}</ul>").format(Markup("").join(items)))
            items = []
        if line:
            blocks.append(Markup("<p>{}</p>").format(_inline(line, hosts, outside)))
    if items:
        blocks.append(Markup("<ul>{}</ul>").format(Markup("").join(items)))
    return Markup("\n").join(blocks)


def section_label(number: str, title: str) -> str:
    """`3. Why We Use It`, `三、我们为什么…`, `2.(1) Cookies`: the number as the policy writes it, then the title."""
    if not number:
        return title
    if number[-1] in ")）":
        return f"{number} {title}"
    return f"{number}、{title}" if not number.isascii() else f"{number}. {title}"


def _variant(version: NoticeVersion, lang: str) -> tuple[str, dict]:
    chosen = lang if lang in version.content else "en" if "en" in version.content else sorted(version.content)[0]
    return chosen, version.content[chosen]


def version_view(
    session: Session, request: Request, key: str, version: NoticeVersion, hosts: set[str] | None = None
) -> dict:
    """A version ready for a template: title, sections as HTML, the plain summary, material purposes by name."""
    lang = language(request)
    chosen, variant = _variant(version, lang)
    hosts = hosts if hosts is not None else own_hosts(session, request)
    outside = translate(request, "(outside this policy)")
    names = purpose_names(session, lang)
    sections = [
        {
            "number": s["number"],
            "title": s["title"],
            "level": s["level"],
            "anchor": f"s-{i}",
            "label": section_label(s["number"], s["title"]),
            "html": text_html(s["text"], hosts, outside),
        }
        for i, s in enumerate(variant.get("sections") or [])
    ]
    notice = notices.get_notice(session, key)
    return {
        "key": key,
        "kind": notice.kind,
        "version": version.version,
        "lang": chosen,
        "title": variant.get("title") or (notice.title or {}).get(chosen) or key,
        "preamble": text_html(variant.get("preamble") or "", hosts, outside),
        "sections": sections,
        "effective_date": version.effective_date,
        "published_at": version.published_at,
        "summary": version_summary(version, lang, names),
        "material": [names.get(p, p) for p in version.material_purposes or []],
    }


def _history(session: Session, request: Request, key: str) -> list[dict]:
    """Every version of a notice, newest first, each with its plain summary and material purposes."""
    lang = language(request)
    names = purpose_names(session, lang)
    return [
        {
            "version": v.version,
            "effective_date": v.effective_date,
            "summary": version_summary(v, lang, names),
            "material": [names.get(p, p) for p in v.material_purposes or []],
        }
        for v in reversed(notices.versions(session, key))
    ]


def _other_notices(session: Session, request: Request, except_key: str) -> list[dict]:
    lang = language(request)
    counts = notices.version_counts(session)
    out = []
    for notice in notices.list_notices(session):
        if notice.key == except_key or notice.id not in counts:
            continue
        title = (notice.title or {}).get(lang) or (notice.title or {}).get("en") or notice.key
        out.append({"key": notice.key, "kind": notice.kind, "title": title, "version": counts[notice.id]})
    return out


def _renew_count(session: Session, request: Request) -> int:
    """How many of the signed-in person's consents a material change asks to renew (0 for visitors)."""
    from privet.kit.errors import PrivetError
    from privet.web.centre.common import signed_in
    from privet.web.centre.consents import consent_view

    subject = signed_in(request)
    if subject is None:
        return 0
    try:
        return consent_view(session, request, subject.subject_id)["renew_count"]
    except PrivetError:  # no data map yet, or the subject is gone
        return 0


def _main_key(session: Session) -> str | None:
    found = [n for n in notices.list_notices(session) if n.kind == "policy"]
    for notice in found:
        if notice.key == MAIN_POLICY:
            return notice.key
    return found[0].key if found else None


@router.get("/", dependencies=Public, openapi_extra=PUBLIC, response_class=HTMLResponse)
def home(request: Request, session: DB) -> HTMLResponse:
    key = _main_key(session)
    current = notices.current_version(session, key) if key else None
    context: dict[str, Any] = {
        "policy": None,
        "history": [],
        "others": _other_notices(session, request, key or ""),
        "key": key,
        "renew": _renew_count(session, request),
    }
    if current is not None:
        assert key is not None  # a current version was found under it
        context["policy"] = version_view(session, request, key, current)
        context["history"] = _history(session, request, key)
    return page(request, "centre/home.html", context, nav="policy")


@router.get("/policy/{key}", dependencies=Public, openapi_extra=PUBLIC, response_class=HTMLResponse)
def notice_current(key: Key, request: Request, session: DB) -> HTMLResponse:
    current = notices.current_version(session, key)
    if current is None:
        notices.get_notice(session, key)  # NotFound for an unknown key
        raise NotFound("This notice has no published version yet", "come back later")
    return notice_version(key, current.version, request, session)


@router.get("/policy/{key}/{number}", dependencies=Public, openapi_extra=PUBLIC, response_class=HTMLResponse)
def notice_version(key: Key, number: Number, request: Request, session: DB) -> HTMLResponse:
    version = notices.get_version(session, key, number)
    view = version_view(session, request, key, version)
    changes = []
    if number > 1:
        previous = notices.get_version(session, key, number - 1)
        lang = view["lang"] if view["lang"] in previous.content else next(iter(previous.content))
        found = section_diff(previous, version, lang)
        changes = section_changes(request, found)
        if lang == view["lang"]:  # mark the changed sections where they are read, linked to what changed in them
            edited = {(c["number"], c["title"]): i for i, c in enumerate(changes) if c["kind"] != "removed"}
            for s in view["sections"]:
                s["change"] = edited.get((s["number"], s["title"]))
        names = purpose_names(session, language(request))
        view["summary"] = summary(found, (version.change_summary or {}).get("material", {}), language(request), names)
    latest = notices.current_version(session, key)
    return page(
        request,
        "centre/version.html",
        {
            "notice": view,
            "changes": changes,
            "history": _history(session, request, key),
            "is_current": latest is not None and latest.version == number,
        },
        nav="policy",
    )
