"""A person's own request as they see it: what they asked (uses, fields and new values, mode, complaint text),
and what was done (consent records written, records changed or kept), in their language. Shown only to the
request's own subject (or their guardian): the page that renders it checks that first."""

from __future__ import annotations

from sqlalchemy.orm import Session
from starlette.requests import Request

from privet.kit.crypto import Keyring
from privet.requests.models import DsrRequest
from privet.web.centre.common import N_, purpose_names
from privet.web.centre.request_forms import MODES
from privet.web.render import translate

EVENTS = {
    "withdrawn": N_("Consent withdrawn"),
    "objected": N_("Objection recorded: this use stopped"),
    "restricted": N_("Restriction recorded: the data is kept but not used"),
}
COUNTS = (
    ("deleted", N_("Records deleted")),
    ("updated", N_("Records changed")),
    ("retained", N_("Records kept for a legal reason")),
)


def _secret(keyring: Keyring, request: DsrRequest) -> dict:
    from privet.requests.crypto import decrypt_json, details_context

    if request.details_enc is None:
        return {}
    return decrypt_json(keyring, request.details_enc, context=details_context(request.id)) or {}


def _shown(value: object) -> str:
    if isinstance(value, dict):  # an address in parts
        return ", ".join(str(v) for v in value.values() if v)
    return str(value)


def asked(session: Session, keyring: Keyring, request: Request, found: DsrRequest, lang: str) -> dict:
    """What the person asked: {purposes: [names], mode, changes: [{name, value}], text, region}."""
    from privet.taxonomy.service import effective

    names = purpose_names(session, lang)
    details, secret = found.details or {}, _secret(keyring, found)
    categories = effective(session).categories
    changes = secret.get("changes") or {}
    return {
        "purposes": [names.get(p, p) for p in details.get("purposes", [])],
        "mode": translate(request, MODES[details["mode"]]) if details.get("mode") in MODES else None,
        "changes": [
            {"name": categories[c].label(lang) if c in categories else c, "value": _shown(v)}
            for c, v in changes.items()
        ],
        "text": secret.get("text"),
        "region": found.declared_region,
    }


def done(session: Session, request: Request, found: DsrRequest, lang: str) -> list[str]:
    """What was done so far, in words; empty while nothing was."""
    names = purpose_names(session, lang)
    result, out = found.result or {}, []
    for change in result.get("consent") or []:
        event = EVENTS.get(change.get("event"))
        if event:
            out.append(f"{translate(request, event)}: {names.get(change.get('purpose'), change.get('purpose'))}")
    totals = dict.fromkeys(k for k, _ in COUNTS)
    for tables in (result.get("tables") or {}).values():
        for counts in (tables or {}).values():
            for key in totals:
                if isinstance(counts, dict) and isinstance(counts.get(key), int):
                    totals[key] = (totals[key] or 0) + counts[key]
    out += [f"{translate(request, label)}: {totals[key]}" for key, label in COUNTS if totals[key]]
    if result.get("legal_hold"):
        out.append(translate(request, N_("Some information is kept under a legal hold until it ends.")))
    if found.type == "complaint" and found.status == "waiting":
        out.append(translate(request, N_("A member of the privacy office is reading your complaint.")))
    return out
