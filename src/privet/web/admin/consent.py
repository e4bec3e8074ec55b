"""Consent lookup: one subject by an identity (sent in a POST form, never in the URL) → current consents,
channel preferences, the ledger history and each record's signed receipt. Identity values are shown masked."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse

from privet.consent import ledger, receipts
from privet.consent.rules import current_policy
from privet.kit.errors import InvalidInput
from privet.kit.web import DB
from privet.web.admin.common import Form, N_, can, guard, keyring, page, text

router = APIRouter(prefix="/consent")
READ = guard("consent:read")


def _types(db: DB) -> list[str]:
    from privet.subjects.service import identity_rules

    known = identity_rules(db)[0]
    first = [t for t in ("email", "phone", "user_id") if t in known]
    return first + sorted(known - set(first))


def _form_page(request: Request, db: DB, *, chosen: str = "email", error: str | None = None,
               status_code: int = 200, **extra: object) -> HTMLResponse:
    return page(request, "admin/consent.html", {"types": _types(db), "chosen": chosen, **extra},
                section="consent", error=error, status_code=status_code)


def _overview(db: DB, subject) -> dict:  # noqa: ANN001
    """`ledger.overview`, tolerating a store without a data map (no declared messaging purposes yet)."""
    from privet.consent import channels, projection
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
    """The subject holding the identity: their consents, history and receipts (values masked)."""
    from privet.subjects.identities import mask
    from privet.subjects.service import find_subject, identities_of

    kind, value = text(form, "type", 60), text(form, "value", 320)
    if not value:
        return _form_page(request, db, chosen=kind, error=N_("Type the identity to look up."), status_code=422)
    try:
        subject = find_subject(db, keyring(request), kind, value)
    except InvalidInput:
        return _form_page(request, db, chosen=kind, error=N_("That identity is not valid for its type."))
    if subject is None:
        return _form_page(request, db, chosen=kind, error=N_("No subject holds this identity."))
    view = _overview(db, subject)
    identities = [{"type": i.type, "masked": mask(i.type, i.value), "verified": i.verified_at is not None}
                  for i in identities_of(db, keyring(request), subject)]
    requests = []
    if can(request, "requests:read"):
        from privet.requests.queries import of_subject

        requests = of_subject(db, subject.id)
    return _form_page(request, db, chosen=kind, subject=subject, view=view, identities=identities,
                      requests=requests)


@router.get("/receipts/{record_id}", dependencies=READ, response_class=HTMLResponse)
def receipt(record_id: str, request: Request, db: DB) -> HTMLResponse:
    """The signed receipt of one ledger record (it names the subject by id, never by an identity value)."""
    entry = ledger.get_record(db, record_id)
    document = receipts.receipt(keyring(request), entry,
                                controller=receipts.controller_from(current_policy(db).organisation))
    return page(request, "admin/receipt.html", {"record": entry, "receipt": json.dumps(document, indent=2,
                                                                                       ensure_ascii=False)},
                section="consent")
