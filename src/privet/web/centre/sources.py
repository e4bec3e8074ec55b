"""Where people's information comes from (P3, P40) and whom to contact in each region (P41), at `/sources`: each
source of the data map with the categories it brings, the third party named and the legal basis for obtaining them
("received from X"), and the organisation's contacts per region. A signed-in person whose region is known is shown
the contact answering for it first (a region without one: the organisation's `responsible`). Read from the data map
and the person's region only: nothing personal is shown."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import HTMLResponse

from privet.auth.deps import PUBLIC
from privet.http.routes import DB
from privet.kit.errors import PrivetError
from privet.web.centre.common import Public, page, signed_in
from privet.web.render import language

router = APIRouter(include_in_schema=False)


def _region_of(session: Session, request: Request) -> str | None:
    """The signed-in person's recorded region, or None (not signed in, or no region known)."""
    from privet.subjects.models import Subject

    who = signed_in(request)
    subject = session.get(Subject, who.subject_id) if who is not None else None
    return subject.region if subject is not None else None


@router.get("/sources", dependencies=Public, openapi_extra=PUBLIC, response_class=HTMLResponse)
def sources_page(request: Request, session: DB) -> HTMLResponse:
    from privet.datamap.contacts import all_contacts, contact_for
    from privet.requests.packages.explain import explain, term

    lang = language(request)
    try:
        explanation = explain(session, None, lang)
    except PrivetError:  # no data map applied yet
        explanation = {"sources": [], "organisation": None}

    def named(contact: dict) -> dict:
        return {**contact, "region_name": term(lang, contact["region"], "regions") if contact["region"] else None}

    contacts = [named(c) for c in all_contacts(session)]
    region = _region_of(session, request)
    mine = named(contact_for(session, region)) if region and contacts else None
    return page(
        request,
        "centre/sources.html",
        {
            "sources": explanation["sources"],
            "organisation": explanation.get("organisation"),
            "contacts": contacts,
            "mine": mine,
        },
        nav="policy",
    )
