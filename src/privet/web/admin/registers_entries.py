"""Register entries in the console: processors and recipients (create and edit, with their agreements, regions and
what is entrusted to them) and the grounds the company's policy declares (view and change). The forms call the
services the API and the CLI call, so they check the same way and are audited the same way; a refused form comes
back with the officer's input and a sentence saying what to fix. Reading needs `registers:read`, changing
`registers:write`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, Protocol

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.responses import HTMLResponse, Response

from privet.http.routes import DB
from privet.kit.errors import PrivetError
from privet.registers import grounds, policy, processors, sharing
from privet.registers.models import Processor, Recipient
from privet.web.admin import registers_forms as forms
from privet.web.admin.common import N_, Form, guard, officer, page, redirect, text
from privet.web.render import language

router = APIRouter(prefix="/registers")
READ, WRITE = guard("registers:read"), guard("registers:write")
KINDS = {
    "affiliate": N_("Affiliate"),
    "partner": N_("Partner"),
    "third_party": N_("Other third party"),
    "authority": N_("Authority"),
}
POLICIES = {
    "law": N_("The law (GB/T 35273-2020, PIPL)"),
    "keptek": N_("Keptek privacy policy"),
    "zkteco": N_("ZKTeco privacy protection policy"),
}


class _Render(Protocol):
    """An entry's form page: the officer's values, and the page's own keywords (error, status_code, ...)."""

    def __call__(self, request: Request, db: Session, values: dict, **kw: Any) -> HTMLResponse: ...


def _iso(value: date | None) -> str:
    return value.isoformat() if value else ""


def _taxonomy(db: Session, request: Request) -> dict:
    return {
        "purpose_options": forms.options(db, request, "purposes"),
        "category_options": forms.options(db, request, "categories"),
    }


def _entry_page(
    request: Request,
    db: Session,
    template: str,
    values: dict,
    *,
    editing: bool,
    error: str | None = None,
    status_code: int = 200,
    **extra: object,
) -> HTMLResponse:
    return page(
        request,
        template,
        {"values": values, "editing": editing, **_taxonomy(db, request), **extra},
        section="registers",
        error=error,
        status_code=status_code,
    )


def _entry_values(form: FormData, key: str | None) -> dict:
    """What processor and recipient forms share: key (the path's when editing), name, agreement, entrusted."""
    return {
        "key": key if key is not None else text(form, "key", 80),
        "name": text(form, "name", 200),
        "agreement_ref": text(form, "agreement_ref", 200),
        "signed_on": text(form, "signed_on", 20),
        "expires_on": text(form, "expires_on", 20),
        "purposes": forms.choices(form, "purposes"),
        "categories": forms.choices(form, "categories"),
    }


def _agreement(form: FormData, values: dict) -> dict:
    """The agreement's arguments of `add_processor` and `add_recipient` (dates parsed, or InvalidInput)."""
    return {
        "agreement_ref": values["agreement_ref"] or None,
        "signed_on": forms.day(form, "signed_on"),
        "expires_on": forms.day(form, "expires_on"),
    }


def _save(
    request: Request, db: Session, values: dict, save: Callable[[], object], render: _Render, done: str
) -> Response:
    """Run `save` (the service call); refused: the form again with the officer's input and what to fix, the
    transaction rolled back (nothing kept)."""
    try:
        save()
    except PrivetError as exc:
        db.rollback()
        return render(request, db, values, error=forms.refusal(request, exc), status_code=exc.status)
    return redirect("/admin/registers", done=done)


# --- processors ---


def _processor_values(row: Processor) -> dict:
    return {
        "key": row.key,
        "name": row.name,
        "agreement_ref": row.agreement_ref or "",
        "signed_on": _iso(row.signed_on),
        "expires_on": _iso(row.expires_on),
        "purposes": list(row.purposes),
        "categories": list(row.categories),
        "regions": ", ".join(row.regions),
        "security_measures": "\n".join(row.security_measures),
    }


def _processor_page(editing: bool) -> _Render:
    def render(request: Request, db: Session, values: dict, **kw: Any) -> HTMLResponse:
        return _entry_page(
            request,
            db,
            "admin/registers_processor.html",
            values,
            editing=editing,
            uses=processors.activities_by_processor(db).get(values.get("key", ""), []),
            **kw,
        )

    return render


def _save_processor(request: Request, db: Session, form: FormData, *, key: str | None) -> Response:
    values = {
        **_entry_values(form, key),
        "regions": text(form, "regions", 500),
        "security_measures": text(form, "security_measures", 4000),
    }
    return _save(
        request,
        db,
        values,
        lambda: processors.add_processor(
            db,
            key=values["key"],
            name=values["name"],
            actor=officer(request).actor,
            **_agreement(form, values),
            purposes=values["purposes"],
            categories=values["categories"],
            regions=forms.items(form, "regions", 500),
            security_measures=forms.items(form, "security_measures"),
            replace=key is not None,
        ),
        _processor_page(key is not None),
        "processor_saved",
    )


@router.get("/add/processor", dependencies=WRITE, response_class=HTMLResponse)
def new_processor(request: Request, db: DB) -> HTMLResponse:
    """The form registering a processor (`?key=` fills in the key an "unregistered" alert names)."""
    key = (request.query_params.get("key") or "")[:80]
    return _processor_page(False)(request, db, {"key": key, "purposes": [], "categories": []})


@router.post("/processors", dependencies=WRITE, response_class=HTMLResponse)
def add_processor(request: Request, form: Form, db: DB) -> Response:
    """Register a processor with its agreement; a key already registered is refused (edit that one instead)."""
    return _save_processor(request, db, form, key=None)


@router.get("/processors/{key}", dependencies=READ, response_class=HTMLResponse)
def processor(key: str, request: Request, db: DB) -> HTMLResponse:
    """A processor's entry, as a form for those who may change it."""
    return _processor_page(True)(request, db, _processor_values(processors.get_processor(db, key)))


@router.post("/processors/{key}", dependencies=WRITE, response_class=HTMLResponse)
def save_processor(key: str, request: Request, form: Form, db: DB) -> Response:
    """Change a processor's entry (a renewed agreement, what is entrusted, regions); audited when it changed."""
    processors.get_processor(db, key)
    return _save_processor(request, db, form, key=key)


# --- recipients ---


def _ground_choices(db: Session, request: Request, held: list[str]) -> list[dict]:
    """The grounds a recipient may be registered for (the policy's) and any it holds that the policy lacks (so an
    alert about one can be fixed by unticking it)."""
    accepted = set(policy.accepted(db))
    return [g for g in policy.catalogue_view(db, language(request)) if g["code"] in accepted or g["code"] in held]


def _recipient_values(row: Recipient) -> dict:
    return {
        "key": row.key,
        "name": row.name,
        "kind": row.kind,
        "purposes": list(row.purposes),
        "categories": list(row.categories),
        "region": row.region or "",
        "legal_grounds": list(row.legal_grounds),
        "agreement_ref": row.agreement_ref or "",
        "signed_on": _iso(row.signed_on),
        "expires_on": _iso(row.expires_on),
        "reason": "",
    }


def _recipient_page(editing: bool) -> _Render:
    def render(request: Request, db: Session, values: dict, **kw: Any) -> HTMLResponse:
        return _entry_page(
            request,
            db,
            "admin/registers_recipient.html",
            values,
            editing=editing,
            kinds=KINDS,
            ground_choices=_ground_choices(db, request, values.get("legal_grounds", [])),
            **kw,
        )

    return render


def _save_recipient(request: Request, db: Session, form: FormData, *, key: str | None) -> Response:
    values = {
        **_entry_values(form, key),
        "kind": text(form, "kind", 20),
        "region": text(form, "region", 10).upper(),
        "legal_grounds": forms.choices(form, "legal_grounds"),
        "reason": text(form, "reason", 500),
    }
    return _save(
        request,
        db,
        values,
        lambda: sharing.add_recipient(
            db,
            key=values["key"],
            name=values["name"],
            kind=values["kind"],
            actor=officer(request).actor,
            purposes=values["purposes"],
            categories=values["categories"],
            region=values["region"] or None,
            legal_grounds=values["legal_grounds"],
            **_agreement(form, values),
            replace=key is not None,
            reason=values["reason"] or None,
        ),
        _recipient_page(key is not None),
        "recipient_saved",
    )


@router.get("/add/recipient", dependencies=WRITE, response_class=HTMLResponse)
def new_recipient(request: Request, db: DB) -> HTMLResponse:
    """The form registering a recipient (`?key=` fills in the key an "unregistered" alert names)."""
    key = (request.query_params.get("key") or "")[:80]
    return _recipient_page(False)(
        request, db, {"key": key, "kind": "third_party", "purposes": [], "categories": [], "legal_grounds": []}
    )


@router.post("/recipients", dependencies=WRITE, response_class=HTMLResponse)
def add_recipient(request: Request, form: Form, db: DB) -> Response:
    """Register a recipient; a ground the company's policy does not declare is refused and nothing is written."""
    return _save_recipient(request, db, form, key=None)


@router.get("/recipients/{key}", dependencies=READ, response_class=HTMLResponse)
def recipient(key: str, request: Request, db: DB) -> HTMLResponse:
    """A recipient's entry with its purpose changes, as a form for those who may change it."""
    row = sharing.get_recipient(db, key)
    return _recipient_page(True)(request, db, _recipient_values(row), changes=list(row.purpose_changes))


@router.post("/recipients/{key}", dependencies=WRITE, response_class=HTMLResponse)
def save_recipient(key: str, request: Request, form: Form, db: DB) -> Response:
    """Change a recipient's entry; changed purposes are recorded as a purpose change (everyone is asked again)."""
    sharing.get_recipient(db, key)
    return _save_recipient(request, db, form, key=key)


# --- the policy's grounds ---


def _policy_page(
    request: Request,
    db: Session,
    values: dict | None = None,
    *,
    error: str | None = None,
    status_code: int = 200,
    flash: str | None = None,
) -> HTMLResponse:
    row = policy.current(db)
    catalogue = policy.catalogue_view(db, language(request))
    values = values or {"name": row.name if row else "", "grounds": [g["code"] for g in catalogue if g["declared"]]}
    groups = {key: [g for g in catalogue if g["policy"] == key] for key in grounds.POLICIES}
    return page(
        request,
        "admin/registers_policy.html",
        {"row": row, "values": values, "groups": groups, "policies": POLICIES},
        section="registers",
        error=error,
        status_code=status_code,
        flash=flash,
    )


@router.get("/policy", dependencies=READ, response_class=HTMLResponse)
def policy_page(request: Request, db: DB) -> HTMLResponse:
    """The grounds the company's policy declares (the law's until it declares its own), every ground offered."""
    return _policy_page(request, db, flash=forms.flash(request))


@router.post("/policy", dependencies=WRITE, response_class=HTMLResponse)
def declare(request: Request, form: Form, db: DB) -> Response:
    """Declare the policy's grounds: shares, disclosures and recipients on any other ground are refused."""
    name, codes = text(form, "name", 200), forms.choices(form, "grounds")
    values = {"name": name, "grounds": codes}
    try:
        policy.declare(db, name=name, codes=codes, actor=officer(request).actor)
    except PrivetError as exc:
        db.rollback()
        return _policy_page(request, db, values, error=forms.refusal(request, exc), status_code=exc.status)
    return redirect("/admin/registers/policy", done="policy_saved")
