"""What every privacy-centre page shares: rate limits, the signed-in person, the child a guardian acts for,
short notes after a change (`?done=<code>`, never personal data), purpose names in the page's language."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from fastapi import Depends
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse

from privet.http.ratelimit import rate_limited
from privet.subjects.sessions import SubjectSession
from privet.web.guard import page_subject
from privet.web.render import language, render, translate

Public = [Depends(rate_limited("centre"))]  # pages
Forms = [Depends(rate_limited("centre-forms"))]  # public forms: a bucket of their own


def N_(message: str) -> str:  # noqa: N802 - marks text for translation; translated when shown
    return message


NOTES = {
    "signed_in": N_("You are signed in."),
    "signed_out": N_("You are signed out."),
    "consent_saved": N_("Your choice was recorded."),
    "channels_saved": N_("Your message preferences were saved."),
    "request_filed": N_("Your request was received and your identity confirmed."),
}


def note(request: Request) -> str | None:
    """The translated note named by `?done=`, if any."""
    found = NOTES.get(request.query_params.get("done", ""))
    return translate(request, found) if found else None


def go(path: str, done: str | None = None, **query: str | None) -> RedirectResponse:
    """A 303 to a page of the centre, with a note code and ids (never identities) in the query."""
    from urllib.parse import parse_qsl, urlsplit

    parts = urlsplit(path)
    params = dict(parse_qsl(parts.query))
    params.update({k: v for k, v in {**query, "done": done}.items() if v})
    return RedirectResponse(parts.path + (f"?{urlencode(params)}" if params else ""), status_code=303)


def local_path(value: str | None, default: str = "/") -> str:
    """`value` when it is a path of this site (no scheme, no host, no `//`), else `default`."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value or "\n" in value:
        return default
    return value


def client(request: Request) -> tuple[str | None, str | None]:
    """(client address, user agent) kept as hashed evidence with consent records."""
    return (request.client.host if request.client else None), request.headers.get("user-agent")


def signed_in(request: Request) -> SubjectSession | None:
    """The person signed in to the centre in this browser, or None."""
    return page_subject(request)


def sign_in_first(request: Request) -> RedirectResponse:
    """Send an anonymous visitor to the sign-in page, back here afterwards."""
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return go("/signin", next=here)


def purpose_names(session: Session, lang: str) -> dict[str, str]:
    """Purpose key → its name in `lang` (the taxonomy's names)."""
    from privet.taxonomy.service import effective

    return {key: entry.label(lang) for key, entry in effective(session).purposes.items()}


@dataclass(frozen=True)
class Child:
    """A child the signed-in guardian may act for: the subject id and a label for the page body."""

    id: str
    label: str
    relationship: str


def children_of(session: Session, request: Request, guardian_id: str) -> list[Child]:
    """Children linked to this verified guardian who are still under the profile's child age."""
    from privet.kit.clock import utcnow
    from privet.subjects.ages import is_child
    from privet.subjects.guardians import is_guardian_of, links_of
    from privet.subjects.service import get_subject, identities_of

    now = utcnow()
    out: list[Child] = []
    for link in links_of(session, guardian_id):
        if link.guardian_id != guardian_id or not is_guardian_of(session, guardian_id, link.child_id, now):
            continue
        child = get_subject(session, link.child_id)
        if child.status != "active" or not is_child(child, now):
            continue
        shown = [i.value for i in identities_of(session, request.app.state.keyring, child)]
        label = shown[0] if shown else translate(request, N_("Child")) + f" {len(out) + 1}"
        out.append(Child(child.id, label, link.relationship))
    return out


def acting_for(
    session: Session, request: Request, subject: SubjectSession, child_id: str | None
) -> tuple[str, Child | None]:
    """(subject id the page acts on, the child when a guardian acts for one); a child id the guardian may not
    act for is refused as not found (it reveals nothing about that id)."""
    from privet.kit.errors import NotFound

    if not child_id:
        return subject.subject_id, None
    for child in children_of(session, request, subject.subject_id):
        if child.id == child_id:
            return child.id, child
    raise NotFound("You cannot act for this person", "choose one of the children linked to you")


def page(
    request: Request, template: str, context: dict | None = None, *, nav: str = "", status_code: int = 200
) -> HTMLResponse:
    """A centre page: the shared context (signed-in person, nav, note, error) and the page's own."""
    values = {"subject": signed_in(request), "nav": nav, "flash": note(request), "error": None, **(context or {})}
    return render(request, template, values, status_code=status_code)


def page_language(request: Request) -> str:
    """en or zh_CN: the language records and messages are kept in."""
    return language(request)
