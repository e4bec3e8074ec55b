"""Register events in the console: shares with a registered recipient and public disclosures (each with a preview
of the consent filter: how many people would be included and why the others would be left out, before anything
is recorded), corporate transfers (their campaign prepared with them) and cross-border transfers. The forms call
the services the API and the CLI call, so they check, filter and audit the same way; a refused form comes back
with the officer's input and a sentence saying what to fix. Every form needs `registers:write`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.responses import HTMLResponse, Response

from privet.http.routes import DB
from privet.kit.errors import InvalidInput, PrivetError, Problem
from privet.registers import corporate, crossborder, disclosures, grounds, policy, sharing
from privet.registers import crossborder_rules as rules
from privet.registers.models import Disclosure, SharingEvent
from privet.web.admin import registers_forms as forms
from privet.web.admin.common import N_, Form, guard, keyring, officer, page, redirect, text
from privet.web.render import language

router = APIRouter()
WRITE = guard("registers:write")
Extra = Callable[[Session], dict[str, Any]]  # a page's own context, read from the session
TRANSFER_KINDS = {
    "merger": N_("Merger"),
    "acquisition": N_("Acquisition"),
    "asset_sale": N_("Asset sale"),
    "bankruptcy": N_("Bankruptcy"),
    "other": N_("Other"),
}
MECHANISMS = {
    "standard_contract": N_("Standard contract"),
    "certification": N_("Certification"),
    "security_assessment": N_("Security assessment"),
    "exemption": N_("Exemption"),
    "adequacy": N_("Adequacy decision"),
    "sccs": N_("Standard contractual clauses"),
    "bcr": N_("Binding corporate rules"),
}


def _grounds_for(db: Session, request: Request, use: str) -> list[dict]:
    """The grounds of the company's policy written for `use` (a share or a disclosure)."""
    return [g for g in policy.catalogue_view(db, language(request)) if g["declared"] and use in g["uses"]]


def _counts(event: SharingEvent | Disclosure, included: int) -> dict:
    return {
        "requested": event.requested,
        "included": included,
        "filtered_out": event.filtered_out,
        "reasons": dict(event.reasons),
    }


def _event_page(
    request: Request,
    db: Session,
    template: str,
    values: dict,
    *,
    error: str | None = None,
    status_code: int = 200,
    **extra: object,
) -> HTMLResponse:
    return page(
        request,
        template,
        {
            "values": values,
            "reasons": forms.REASONS,
            "preview": None,
            "recorded": None,
            "category_options": forms.options(db, request, "categories"),
            "purpose_options": forms.options(db, request, "purposes"),
            **extra,
        },
        section="registers",
        error=error,
        status_code=status_code,
    )


def _screened(
    request: Request,
    db: Session,
    form: FormData,
    template: str,
    values: dict,
    run: Callable[[], sharing.ShareOutcome],
    extra: Extra,
) -> Response:
    """Preview (`action=preview`: the service in a rolled-back savepoint) or record a share or disclosure; a
    refusal comes back with the input kept and nothing written."""
    try:
        if text(form, "action", 10) == "preview":
            shown = forms.preview(db, run, lambda o: _counts(o.event, len(o.allowed)))
            return _event_page(request, db, template, values, preview=shown, **extra(db))
        outcome = run()
        recorded = {**_counts(outcome.event, len(outcome.allowed)), "allowed": outcome.allowed}
    except PrivetError as exc:
        db.rollback()
        return _event_page(
            request, db, template, values, error=forms.refusal(request, exc), status_code=exc.status, **extra(db)
        )
    return _event_page(request, db, template, {}, recorded=recorded, **extra(db))


# --- shares ---


def _share_extra(request: Request) -> Extra:
    def extra(db: Session) -> dict[str, Any]:
        recipients = sharing.list_recipients(db)
        return {
            "recipients": recipients,
            "share_grounds": _grounds_for(db, request, grounds.SHARE),
            "recipient_purposes": sorted({p for r in recipients for p in r.purposes}),
        }

    return extra


@router.get("/registers/share", dependencies=WRITE, response_class=HTMLResponse)
def share_form(request: Request, db: DB) -> HTMLResponse:
    """The share form (`?recipient=` chooses the recipient)."""
    chosen = (request.query_params.get("recipient") or "")[:80]
    return _event_page(
        request, db, "admin/registers_share.html", {"recipient": chosen, "categories": []}, **_share_extra(request)(db)
    )


@router.post("/registers/share", dependencies=WRITE, response_class=HTMLResponse)
def share(request: Request, form: Form, db: DB) -> Response:
    """Preview or record a share: on consent (people without it are left out) or on a ground of the policy."""
    values = {
        "recipient": text(form, "recipient", 80),
        "purpose": text(form, "purpose", 160),
        "legal_ground": text(form, "legal_ground", 40),
        "reference": text(form, "reference", 200),
        "note": text(form, "note", 1000),
        "subjects": text(form, "subjects", 2_000_000),
    }
    categories = forms.choices(form, "categories")
    ids, identities = forms.subjects(form)

    def run() -> sharing.ShareOutcome:
        return sharing.share(
            db,
            recipient=values["recipient"],
            actor=officer(request).actor,
            subject_ids=ids,
            identities=identities,
            purpose=values["purpose"] or None,
            categories=categories,
            legal_ground=values["legal_ground"] or None,
            reference=values["reference"] or None,
            note=values["note"] or None,
            keyring=keyring(request),
        )

    shown = {**values, "categories": categories}
    return _screened(request, db, form, "admin/registers_share.html", shown, run, _share_extra(request))


# --- public disclosures ---


def _disclosure_extra(request: Request) -> Extra:
    def extra(db: Session) -> dict[str, Any]:
        return {"disclosure_grounds": _grounds_for(db, request, grounds.DISCLOSURE)}

    return extra


@router.get("/registers/disclose", dependencies=WRITE, response_class=HTMLResponse)
def disclosure_form(request: Request, db: DB) -> HTMLResponse:
    """The public disclosure form."""
    return _event_page(
        request, db, "admin/registers_disclose.html", {"categories": []}, **_disclosure_extra(request)(db)
    )


@router.post("/registers/disclose", dependencies=WRITE, response_class=HTMLResponse)
def disclose(request: Request, form: Form, db: DB) -> Response:
    """Preview or record a public disclosure: each person's separate consent, or a legal reference."""
    values = {
        "title": text(form, "title", 200),
        "purpose": text(form, "purpose", 160),
        "legal_ground": text(form, "legal_ground", 40),
        "reference": text(form, "reference", 200),
        "subjects": text(form, "subjects", 2_000_000),
    }
    categories = forms.choices(form, "categories")
    ids, identities = forms.subjects(form)

    def run() -> sharing.ShareOutcome:
        return disclosures.disclose(
            db,
            title=values["title"],
            actor=officer(request).actor,
            categories=categories,
            subject_ids=ids,
            identities=identities,
            legal_ground=values["legal_ground"] or None,
            reference=values["reference"] or None,
            purpose=values["purpose"] or None,
            keyring=keyring(request),
        )

    shown = {**values, "categories": categories}
    return _screened(request, db, form, "admin/registers_disclose.html", shown, run, _disclosure_extra(request))


# --- corporate transfers ---


def _corporate_page(request: Request, db: Session, values: dict, **kw: Any) -> HTMLResponse:
    return _event_page(
        request,
        db,
        "admin/registers_corporate.html",
        values,
        transfer_kinds=TRANSFER_KINDS,
        to_notify=corporate.subjects_to_notify(db),
        **kw,
    )


@router.get("/registers/corporate", dependencies=WRITE, response_class=HTMLResponse)
def corporate_form(request: Request, db: DB) -> HTMLResponse:
    """The corporate transfer form."""
    return _corporate_page(request, db, {"kind": "merger", "bound": "yes", "categories": []})


@router.post("/registers/corporate", dependencies=WRITE, response_class=HTMLResponse)
def record_corporate(request: Request, form: Form, db: DB) -> Response:
    """Record a corporate transfer; its notification (bound) or re-consent (not bound) campaign is prepared."""
    values = {
        "successor": text(form, "successor", 200),
        "kind": text(form, "kind", 20),
        "transfer_date": text(form, "transfer_date", 20),
        "binding_statement": text(form, "binding_statement", 4000),
        "bound": text(form, "bound", 3),
        "subject_count": text(form, "subject_count", 14),
        "reference": text(form, "reference", 200),
    }
    categories = forms.choices(form, "categories")
    shown = {**values, "categories": categories}
    try:
        corporate.record_transfer(
            db,
            successor=values["successor"],
            kind=values["kind"],
            # an empty date is refused by the service, naming the field (it checks for None)
            transfer_date=forms.day(form, "transfer_date"),  # type: ignore[arg-type]
            binding_statement=values["binding_statement"],
            bound=values["bound"] != "no",
            categories=categories,
            subject_count=forms.number(form, "subject_count"),
            reference=values["reference"] or None,
            actor=officer(request).actor,
        )
    except PrivetError as exc:
        db.rollback()
        return _corporate_page(request, db, shown, error=forms.refusal(request, exc), status_code=exc.status)
    return redirect("/admin/registers", done="transfer_recorded")


# --- cross-border transfers ---


def _crossborder_page(request: Request, db: Session, values: dict, **kw: Any) -> HTMLResponse:
    from privet.datamap.models import DatamapActivity

    activities = list(db.execute(select(DatamapActivity.key, DatamapActivity.name).order_by(DatamapActivity.key)))
    return _event_page(
        request,
        db,
        "admin/registers_crossborder.html",
        values,
        mechanisms=MECHANISMS,
        activities=activities,
        recipients=sharing.list_recipients(db),
        **kw,
    )


def _moment(form: FormData) -> datetime | None:
    """When the transfer happened, in China Standard Time (UTC+08:00, as the register's year is counted)."""
    raw = text(form, "at", 20)
    if not raw:
        return None
    try:
        return datetime.fromisoformat(raw[:16]).replace(tzinfo=rules.CST)
    except ValueError:
        raise InvalidInput(
            "This is not a date and time", "give it as YYYY-MM-DD HH:MM", [Problem("not a date and time", "at")]
        ) from None


@router.get("/crossborder/record", dependencies=WRITE, response_class=HTMLResponse)
def crossborder_form(request: Request, db: DB) -> HTMLResponse:
    """The cross-border transfer form."""
    return _crossborder_page(request, db, {"categories": []})


@router.post("/crossborder/record", dependencies=WRITE, response_class=HTMLResponse)
def record_crossborder(request: Request, form: Form, db: DB) -> Response:
    """Preview (subject ids: who lacks separate cross-border consent) or record a transfer; refused without a
    mechanism, nothing written."""
    values = {
        k: text(form, k, 400)
        for k in (
            "destination",
            "mechanism",
            "mechanism_reference",
            "recipient",
            "subject_count",
            "sensitive_subject_count",
            "origin",
            "activity",
            "purpose",
            "at",
            "note",
        )
    }
    values.update(important_data=text(form, "important_data", 3), subject_ids=text(form, "subject_ids", 2_000_000))
    categories = forms.choices(form, "categories")
    shown = {**values, "categories": categories}
    ids = [line.strip() for line in values["subject_ids"].splitlines() if line.strip()] or None

    def run() -> crossborder.TransferResult:
        return crossborder.record_transfer(
            db,
            actor=officer(request).actor,
            destination=values["destination"].upper(),
            mechanism=values["mechanism"] or None,
            recipient=values["recipient"],
            categories=categories,
            subject_count=forms.number(form, "subject_count"),
            sensitive_subject_count=forms.number(form, "sensitive_subject_count"),
            subject_ids=ids,
            origin=values["origin"].upper() or None,
            activity=values["activity"] or None,
            purpose=values["purpose"] or None,
            mechanism_reference=values["mechanism_reference"] or None,
            important_data=values["important_data"] == "yes",
            at=_moment(form),
            note=values["note"] or None,
        )

    try:
        if text(form, "action", 10) == "preview":
            preview = forms.preview(
                db,
                run,
                lambda r: {
                    "included": r.transfer.subject_count,
                    "filtered_out": sum(r.filtered_out.values()),
                    "reasons": dict(r.filtered_out),
                    "alerts": r.alerts,
                },
            )
            return _crossborder_page(request, db, shown, preview=preview)
        run()
    except PrivetError as exc:
        db.rollback()
        return _crossborder_page(request, db, shown, error=forms.refusal(request, exc), status_code=exc.status)
    return redirect("/admin/crossborder", done="crossborder_recorded")
