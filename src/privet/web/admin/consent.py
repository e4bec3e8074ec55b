"""Consent lookup: one subject by an identity (sent in a POST form, never in the URL) → current consents,
channel preferences, the ledger history and each record's signed receipt. Identity values are shown masked."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse

from privet.consent.ledger import service as ledger
from privet.consent.visitors import BANNER_ID
from privet.http.routes import DB
from privet.kit.errors import InvalidInput, NotFound
from privet.subjects.models import Subject
from privet.web.admin import receipts as receipt_page
from privet.web.admin.common import N_, Form, can, guard, keyring, page, text

router = APIRouter(prefix="/consent")
READ = guard("consent:read")
VISITOR = "visitor"  # the lookup type of a banner visitor's id (v-…), besides the subjects' identity types


def _types(db: DB) -> list[str]:
    from privet.subjects.service import identity_rules

    known = identity_rules(db)[0]
    first = [t for t in ("email", "phone", "user_id") if t in known]
    return first + sorted(known - set(first)) + [VISITOR]


def _form_page(
    request: Request,
    db: DB,
    *,
    chosen: str = "email",
    error: str | None = None,
    status_code: int = 200,
    **extra: object,
) -> HTMLResponse:
    return page(
        request,
        "admin/consent.html",
        {
            "types": _types(db),
            "chosen": chosen,
            "events": receipt_page.EVENTS,
            "methods": receipt_page.METHODS,
            "separate_kinds": receipt_page.SEPARATE,
            **extra,
        },
        section="consent",
        error=error,
        status_code=status_code,
    )


def _overview(db: DB, subject: Subject) -> dict:
    """`overview.overview`, tolerating a store without a data map (no declared messaging purposes yet)."""
    from privet.consent import channels
    from privet.consent.ledger import projection
    from privet.consent.visitors import holders
    from privet.subjects.service import holder_ids

    keys = holders(db, holder_ids(db, subject))
    try:
        preferences = channels.preferences(db, subject.id)
    except InvalidInput:
        preferences = {}
    return {"states": projection.states(db, keys), "history": ledger.history(db, keys), "channels": preferences}


@router.get("", dependencies=READ, response_class=HTMLResponse)
def lookup_form(request: Request, db: DB) -> HTMLResponse:
    """The lookup form."""
    return _form_page(request, db)


@router.post("", dependencies=READ, response_class=HTMLResponse)
def lookup(request: Request, form: Form, db: DB) -> HTMLResponse:
    """The subject holding the identity, or the banner visitor with the id: consents, history and receipts
    (identity values masked)."""
    from privet.subjects.service import find_subject

    kind, value = text(form, "type", 60), text(form, "value", 320)
    if not value:
        return _form_page(request, db, chosen=kind, error=N_("Type the identity to look up."), status_code=422)
    if kind == VISITOR:
        return _visitor(request, db, value)
    try:
        subject = find_subject(db, keyring(request), kind, value)
    except InvalidInput:
        subject = None
        if not BANNER_ID.match(value):
            return _form_page(request, db, chosen=kind, error=N_("That identity is not valid for its type."))
    if subject is None and BANNER_ID.match(value):  # a banner visitor's id typed under another type
        return _visitor(request, db, value)
    if subject is None:
        return _form_page(request, db, chosen=kind, error=N_("No subject holds this identity."))
    return _subject(request, db, subject, kind)


def _visitor(request: Request, db: DB, visitor_id: str) -> HTMLResponse:
    """A banner visitor by their id: their choices and history; the subject's page when they signed in."""
    from privet.consent.visitors import visitor_view
    from privet.subjects.service import get_subject

    try:
        found = visitor_view(db, visitor_id)
    except InvalidInput:
        return _form_page(
            request,
            db,
            chosen=VISITOR,
            status_code=422,
            error=N_(
                "That is not a visitor id: it is 8 to 64 letters, digits or . _ : - (the banner's start with v-)."
            ),
        )
    except NotFound:
        return _form_page(
            request,
            db,
            chosen=VISITOR,
            error=N_(
                "No banner choice is recorded for this visitor id. Check it in the visitor's privet_consent cookie."
            ),
        )
    if found["subject_id"] is not None:
        return _subject(request, db, get_subject(db, found["subject_id"]), VISITOR, signed_in_visitor=visitor_id)
    view = {"states": found["states"], "history": found["history"], "channels": {}}
    return _form_page(request, db, chosen=VISITOR, visitor=visitor_id, view=view, requests=[])


def _subject(request: Request, db: DB, subject: Subject, kind: str, **extra: Any) -> HTMLResponse:
    """One subject's consents, channels, history, masked identities and (with the scope) requests."""
    from privet.subjects.identities import mask
    from privet.subjects.service import identities_of

    view = _overview(db, subject)
    identities = [
        {"type": i.type, "masked": mask(i.type, i.value), "verified": i.verified_at is not None}
        for i in identities_of(db, keyring(request), subject)
    ]
    requests = []
    if can(request, "requests:read"):
        from privet.requests.queries import of_subject

        requests = of_subject(db, subject.id)
    return _form_page(
        request, db, chosen=kind, subject=subject, view=view, identities=identities, requests=requests, **extra
    )


@router.get("/receipts/{record_id}", dependencies=READ, response_class=HTMLResponse)
def receipt(record_id: str, request: Request, db: DB) -> HTMLResponse:
    """The signed receipt of one ledger record (it names the subject by id, never by an identity value)."""
    entry, document = receipt_page.signed(request, db, record_id)
    return page(
        request,
        "admin/receipt.html",
        {
            "record": entry,
            "document": document,
            "view": receipt_page.readable(db, request, entry, document),
            "receipt": json.dumps(document, indent=2, ensure_ascii=False),
        },
        section="consent",
    )
