"""A consent receipt as a record an officer can read (who, what, when, purpose, method, evidence) and its signed
JSON downloaded as it was signed (`GET /admin/consent/receipts/{id}/receipt.json`), which anyone can verify with
the receipt public key (`POST /api/v1/consent/receipts/verify`)."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from starlette.responses import Response

from privet.consent.ledger import receipts
from privet.consent.ledger import service as ledger
from privet.consent.ledger.rules import current_policy
from privet.consent.models import ConsentRecord
from privet.http.routes import DB
from privet.web.admin.common import N_, guard, keyring
from privet.web.render import translate

router = APIRouter(prefix="/consent")
READ = guard("consent:read")

EVENTS = {
    "given": N_("Consent given"),
    "withdrawn": N_("Consent withdrawn"),
    "refused": N_("Consent refused"),
    "expired": N_("Consent expired"),
    "renewed": N_("Consent renewed"),
    "objected": N_("Objection recorded"),
    "restricted": N_("Restriction recorded"),
    "lifted": N_("Objection or restriction lifted"),
}
METHODS = {
    "banner": N_("the cookie banner"),
    "form": N_("a form in the privacy centre"),
    "api": N_("the API"),
    "guardian": N_("a guardian, for a child"),
    "import": N_("an import of earlier records"),
    "staff": N_("a member of staff"),
    "gpc": N_("a Global Privacy Control signal"),
}
SEPARATE = {
    "sensitive": N_("sensitive personal information"),
    "third_party": N_("provision to another company"),
    "disclosure": N_("public disclosure"),
    "cross_border": N_("transfer abroad"),
    "child": N_("a child's information"),
}
# evidence that is never shown on the page (identity values are never in evidence; addresses are kept off screens)
EVIDENCE_HIDDEN = ("ip", "email", "phone", "identity", "address")
EVIDENCE = {
    "client": N_("Client address (keyed hash)"),
    "user_agent": N_("Browser"),
    "notice_id": N_("Notice version id"),
    "gpc": N_("Global Privacy Control sent"),
    "gpc_honoured": N_("Decided by Global Privacy Control"),
    "source": N_("Source"),
    "source_id": N_("Id at the source"),
    "banner_choice": N_("Banner choice"),
    "reason": N_("Reason"),
}
BANNER = {
    "necessary": N_("Necessary"),
    "preferences": N_("Preferences"),
    "analytics": N_("Analytics"),
    "marketing": N_("Marketing"),
}


def signed(request: Request, db: DB, record_id: str) -> tuple[ConsentRecord, dict]:
    """The ledger record and its signed receipt document."""
    entry = ledger.get_record(db, record_id)
    document = receipts.receipt(
        keyring(request), entry, controller=receipts.controller_from(current_policy(db).organisation)
    )
    return entry, document


def readable(db: DB, request: Request, entry: ConsentRecord, document: dict) -> dict:
    """The receipt's facts for the page, and whether its signature and the ledger agree (checked now)."""
    check = receipts.verify_receipt(db, keyring(request), document)
    evidence = [
        _evidence(request, k, v)
        for k, v in sorted((entry.evidence or {}).items())
        if isinstance(v, (str, int, float, bool, dict))
        and v not in ("", {})
        and not set(k.lower().split("_")) & set(EVIDENCE_HIDDEN)
    ]
    return {
        "event": EVENTS.get(entry.event, entry.event),
        "method": METHODS.get(entry.method, entry.method),
        "separate": SEPARATE.get(entry.separate_kind or "", entry.separate_kind),
        "evidence": evidence,
        "controller": (document.get("piiControllers") or [{}])[0],
        "check": check,
        "notice_title": _notice_title(db, request, entry.notice_key),
    }


def _notice_title(db: DB, request: Request, key: str | None) -> str:
    """The notice's title in the viewer's language (its key when it has none)."""
    from sqlalchemy import select

    from privet.notices.models import Notice
    from privet.web.render import language

    found = db.scalar(select(Notice).where(Notice.key == key)) if key else None
    titles = (found.title or {}) if found is not None else {}
    return titles.get(language(request)) or titles.get("en") or key or ""


def _evidence(request: Request, key: str, value: object) -> tuple[str, str, str]:
    """(key, its name, the value in words) of one piece of evidence: flags as yes/no, a banner choice per category."""

    def t(text: str) -> str:
        return translate(request, text)

    if isinstance(value, bool):
        shown = t("Yes") if value else t("No")
    elif isinstance(value, dict):
        shown = ", ".join(
            f"{t(BANNER.get(str(k), str(k)))}: {t('Yes') if v is True else t('No') if v is False else v}"
            for k, v in value.items()
        )
    else:
        shown = str(value)
    return key, t(EVIDENCE.get(key, key)), shown


@router.get("/receipts/{record_id}/receipt.json", dependencies=READ)
def receipt_json(record_id: str, request: Request, db: DB) -> Response:
    """The signed receipt, downloaded exactly as signed (verify it with the receipt public key)."""
    _entry, document = signed(request, db, record_id)
    return Response(
        json.dumps(document, indent=2, ensure_ascii=False) + "\n",
        media_type="application/json; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="consent-receipt-{record_id}.json"'},
    )
