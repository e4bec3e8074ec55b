"""What the registers' console forms share: reading lists, dates, numbers and subjects from a form, the taxonomy's
purposes and categories as choices named in the viewer's language, the sentence that says what to fix when a
service refuses a form, and the preview of a share or disclosure (the service itself, run in a savepoint that is
rolled back: the same checks and the same consent filter as the recorded one, nothing kept)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TypeVar

from fastapi import Request
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from privet.kit.errors import InvalidInput, PrivetError, Problem
from privet.registers import screening
from privet.web.admin.common import N_, text
from privet.web.render import language, translate

T = TypeVar("T")

# The field a service names in its problem (`where`), in words: the refusal says which one to fix.
FIELDS = {
    "key": N_("Key"),
    "name": N_("Name"),
    "kind": N_("Kind"),
    "agreement_ref": N_("Agreement reference"),
    "signed_on": N_("Agreement signed on"),
    "expires_on": N_("Agreement expires on"),
    "purposes": N_("Purposes"),
    "purpose": N_("Purpose"),
    "categories": N_("Data categories"),
    "regions": N_("Regions"),
    "region": N_("Region"),
    "security_measures": N_("Security measures"),
    "legal_grounds": N_("Grounds it may rest on"),
    "legal_ground": N_("Ground"),
    "grounds": N_("Grounds"),
    "reference": N_("Reference"),
    "recipient": N_("Recipient"),
    "subjects": N_("People concerned"),
    "note": N_("Note"),
    "reason": N_("Why the purposes changed"),
    "title": N_("Title"),
    "successor": N_("Successor"),
    "transfer_date": N_("Date the data passes"),
    "binding_statement": N_("How the successor is bound"),
    "subject_count": N_("Number of people"),
    "destination": N_("Destination"),
    "origin": N_("Origin"),
    "mechanism": N_("Mechanism"),
    "sensitive_subject_count": N_("People with sensitive data"),
    "subject_ids": N_("People concerned"),
    "sensitive_subject_ids": N_("People with sensitive data"),
    "activity": N_("Activity"),
    "at": N_("When it happened"),
}
# ?done=<key> after a registers form was saved
FLASHES = {
    "campaign_sent": N_("The campaign was recorded as sent."),
    "processor_saved": N_("The processor's entry was saved."),
    "recipient_saved": N_("The recipient's entry was saved."),
    "policy_saved": N_("The grounds of the policy were saved."),
    "transfer_recorded": N_("The corporate transfer was recorded and its campaign prepared."),
    "crossborder_recorded": N_("The cross-border transfer was recorded."),
}
NOTHING_SAVED = N_("Nothing was saved. Check “%(field)s”: %(problem)s")
NOTHING_SAVED_PLAIN = N_("Nothing was saved: %(problem)s")
# Why a person was left out of a share, a disclosure or a transfer, in words.
REASONS = {
    "NO_CONSENT": N_("No consent"),
    "CONSENT_WITHDRAWN": N_("Consent withdrawn"),
    "CONSENT_EXPIRED": N_("Consent expired"),
    "CONSENT_REFUSED": N_("Consent refused"),
    "CONSENT_BEFORE_MATERIAL_CHANGE": N_("Consent given before a material change of the notice"),
    "SEPARATE_CONSENT_REQUIRED": N_("No separate consent"),
    "GUARDIAN_CONSENT_REQUIRED": N_("A guardian's consent is needed"),
    "MINOR_REFUSED": N_("A minor"),
    "GPC_OPT_OUT": N_("Opted out with GPC"),
    "OBJECTED": N_("Objected"),
    "RESTRICTED": N_("Restricted"),
    "CATEGORY_NOT_CONSENTED": N_("Not all categories consented"),
    "CROSS_BORDER_CONSENT_REQUIRED": N_("No separate cross-border consent"),
    "UNKNOWN_SUBJECT": N_("Not known to Privet"),
    "SUBJECT_CLOSED": N_("Account closed"),
    "DUPLICATE": N_("Named twice"),
    "RECONSENT_REQUIRED": N_("Consent given before the purpose changed"),
}


def flash(request: Request) -> str | None:
    """The sentence saying what the form before this page saved (from `?done=`)."""
    return FLASHES.get(request.query_params.get("done") or "")


def refusal(request: Request, exc: PrivetError) -> str:
    """One sentence in the viewer's language naming the field to fix, then the service's reason and hint."""
    problem = f"{exc.detail} — {exc.hint}" if exc.hint else exc.detail
    where = next((p.where for p in exc.problems if p.where), None)
    field = FIELDS.get((where or "").split(".")[0])
    if field is None:
        return translate(request, NOTHING_SAVED_PLAIN) % {"problem": problem}
    return translate(request, NOTHING_SAVED) % {"field": translate(request, field), "problem": problem}


def choices(form: FormData, name: str) -> list[str]:
    """The ticked or selected values of a multiple field."""
    return [v.strip() for v in form.getlist(name) if isinstance(v, str) and v.strip()]


def items(form: FormData, name: str, limit: int = 4000) -> list[str]:
    """A text field holding several values, one a line or separated by commas (regions, measures)."""
    raw = text(form, name, limit).replace(",", "\n")
    return [line.strip() for line in raw.splitlines() if line.strip()]


def day(form: FormData, name: str) -> date | None:
    """A date field (YYYY-MM-DD), None when empty; InvalidInput naming the field otherwise."""
    raw = text(form, name, 20)
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(
            "This is not a date", "give it as YYYY-MM-DD", [Problem("not a date", name, "give it as YYYY-MM-DD")]
        ) from None


def number(form: FormData, name: str) -> int | None:
    """A whole number field, None when empty; InvalidInput naming the field otherwise."""
    raw = text(form, name, 14)
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise InvalidInput(
            "This is not a whole number",
            "give a number such as 1200",
            [Problem("not a number", name, "give a whole number")],
        ) from None


def subjects(form: FormData, name: str = "subjects") -> tuple[list[str], list[tuple[str, str]]]:
    """The people of a share or disclosure, as the CLI's file lists them: one a line, a subject id or
    `identity_type,value` (values go to the service in the POST body only, never into a URL or a log)."""
    return screening.parse_people(text(form, name, 2_000_000))


def options(db: Session, request: Request, section: str) -> list[dict]:
    """Every purpose or category of the taxonomy in tree order: key, name in the viewer's language, depth."""
    from privet.taxonomy.service import effective

    taxonomy, lang = effective(db), language(request)
    out: list[dict] = []

    def walk(parent: str | None, depth: int) -> None:
        for entry in taxonomy.children(section, parent):
            out.append({"key": entry.key, "label": entry.label(lang), "depth": depth})
            walk(entry.key, depth + 1)

    walk(None, 0)
    return out


def preview(db: Session, run: Callable[[], T], keep: Callable[[T], dict]) -> dict:
    """What `run` (a service call) would record, as `keep` reads it, without keeping anything: it runs in a
    savepoint rolled back afterwards (audit events included). Its refusals are raised as they are."""
    savepoint = db.begin_nested()
    try:
        return keep(run())
    finally:
        savepoint.rollback()
