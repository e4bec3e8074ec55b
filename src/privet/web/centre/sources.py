"""Where people's information comes from (P3, P40) and whom to contact in each region (P41), at `/sources`: each
source of the data map with the categories it brings, the third party named and the legal basis for obtaining them
("received from X"), and the organisation's contacts per region. Read from the data map only: nothing personal."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import HTMLResponse

from privet.auth.deps import PUBLIC
from privet.kit.errors import PrivetError
from privet.kit.web import DB
from privet.web.centre.common import Public, page
from privet.web.render import language

router = APIRouter(include_in_schema=False)


@router.get("/sources", dependencies=Public, openapi_extra=PUBLIC, response_class=HTMLResponse)
def sources_page(request: Request, session: DB) -> HTMLResponse:
    from privet.datamap.contacts import all_contacts
    from privet.requests.explain import explain, term

    lang = language(request)
    try:
        explanation = explain(session, None, lang)
    except PrivetError:  # no data map applied yet
        explanation = {"sources": [], "organisation": None}
    contacts = [{**c, "region_name": term(lang, c["region"], "regions") if c["region"] else None}
                for c in all_contacts(session)]
    return page(request, "centre/sources.html", {
        "sources": explanation["sources"], "organisation": explanation.get("organisation"), "contacts": contacts},
        nav="policy")
