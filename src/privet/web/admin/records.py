"""Records of processing (GDPR Art 30 / PIPL) rendered from the data map and the registers, with CSV and
standalone HTML downloads; impact assessments (PIPL Art 55, 56): the list, drafting from the data map, and an
assessment's page with its questionnaire and conclusion. Read with `registers:read`; forms need `registers:write`."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse, Response

from privet.http.routes import DB
from privet.kit.errors import InvalidInput
from privet.reports import pia, ropa
from privet.web.admin.common import N_, Form, guard, officer, page, redirect, text
from privet.web.i18n import negotiate

router = APIRouter(prefix="/records")
READ, WRITE = guard("registers:read"), guard("registers:write")
MAX_ANSWER = 20_000

TRIGGERS = {
    "sensitive_data": N_("Sensitive data"),
    "processor": N_("Entrusted to a processor"),
    "sharing": N_("Provided to another controller"),
    "public_disclosure": N_("Public disclosure"),
    "cross_border": N_("Cross-border transfer"),
}
OUTCOMES = {
    "acceptable": N_("Acceptable"),
    "acceptable_with_measures": N_("Acceptable with measures"),
    "not_acceptable": N_("Not acceptable"),
}
STATES = {"draft": N_("Draft"), "concluded": N_("Concluded"), "superseded": N_("Superseded")}
STATE_TONE = {"draft": "warn", "concluded": "ok", "superseded": ""}
FLASHES = {
    "synced": N_("Drafts were opened for the activities that need an assessment."),
    "nothing_new": N_("Every activity that needs an assessment already has one."),
    "answered": N_("The answers were saved."),
    "concluded": N_("The assessment was concluded."),
}


def _labels() -> dict:
    return {"triggers": TRIGGERS, "outcomes": OUTCOMES, "states": STATES, "state_tone": STATE_TONE}


@router.get("", dependencies=READ, response_class=HTMLResponse)
def records(request: Request, db: DB) -> HTMLResponse:
    """The records of processing (one entry per activity) and the impact assessments."""
    try:
        built = ropa.build(db, negotiate(request))
    except InvalidInput:  # no data map applied yet
        built = None
    return page(
        request,
        "admin/records.html",
        {"records": built, "assessments": pia.list_assessments(db), **_labels()},
        section="records",
        flash=FLASHES.get(request.query_params.get("done") or ""),
    )


@router.get("/records-of-processing.csv", dependencies=READ)
def records_csv(request: Request, db: DB) -> Response:
    """The records as CSV (one row per activity), downloaded, in `?lang=` or the console's language."""
    return Response(
        ropa.render(db, "csv", negotiate(request)),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="records-of-processing.csv"'},
    )


@router.get("/records-of-processing.html", dependencies=READ)
def records_html(request: Request, db: DB) -> Response:
    """The records as one self-contained HTML file, downloaded for printing or filing, in `?lang=` (en or zh_CN)
    or the console's language."""
    return Response(
        ropa.render(db, "html", negotiate(request)),
        media_type="text/html; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="records-of-processing.html"'},
    )


@router.post("/pia/sync", dependencies=WRITE)
def sync(request: Request, db: DB) -> Response:
    """Open a draft for each data map activity that needs an assessment and has none (PIPL Art 55); audited."""
    created = pia.sync_drafts(db, actor=officer(request).actor)
    return redirect("/admin/records", done="synced" if created else "nothing_new")


def _assessment_page(
    request: Request,
    db: DB,
    reference: str,
    *,
    error: str | None = None,
    status_code: int = 200,
    missing: list[str] | None = None,
    values: dict | None = None,
) -> HTMLResponse:
    row = pia.get_assessment(db, reference)
    return page(
        request,
        "admin/assessment.html",
        {
            "a": row,
            "questions": pia.questions_for(row.triggers),
            "missing": missing or [],
            "values": values or {},
            **_labels(),
        },
        section="records",
        error=error,
        status_code=status_code,
        flash=FLASHES.get(request.query_params.get("done") or ""),
    )


@router.get("/pia/{reference}", dependencies=READ, response_class=HTMLResponse)
def assessment(reference: str, request: Request, db: DB) -> HTMLResponse:
    """One assessment: its triggers, questionnaire (answer form while a draft) and conclusion."""
    return _assessment_page(request, db, reference)


@router.post("/pia/{reference}/answers", dependencies=WRITE, response_class=HTMLResponse)
def answers(reference: str, request: Request, form: Form, db: DB) -> Response:
    """Save the answers typed (empty fields keep their earlier answer); audited."""
    row = pia.get_assessment(db, reference)
    given = {key: text(form, f"answer_{key}", MAX_ANSWER) for key, _q in pia.questions_for(row.triggers)}
    given = {k: v for k, v in given.items() if v}
    if not given:
        return _assessment_page(
            request, db, reference, error=N_("Type at least one answer before saving."), status_code=422
        )
    pia.answer(db, row.reference, given, actor=officer(request).actor)
    return redirect(f"/admin/records/pia/{row.reference}", done="answered")


@router.post("/pia/{reference}/conclude", dependencies=WRITE, response_class=HTMLResponse)
def conclude(reference: str, request: Request, form: Form, db: DB) -> Response:
    """Conclude a fully answered draft (kept at least three years); an unanswered questionnaire is refused."""
    row = pia.get_assessment(db, reference)
    values = {
        "outcome": text(form, "outcome", 40),
        "conclusion": text(form, "conclusion", MAX_ANSWER),
        "retain_years": text(form, "retain_years", 3),
    }
    missing = [k for k, _q in pia.questions_for(row.triggers) if k not in row.answers] if row.status == "draft" else []
    if missing:
        return _assessment_page(
            request,
            db,
            reference,
            status_code=422,
            missing=missing,
            values=values,
            error=N_(
                "The assessment cannot be concluded yet: answer every question first. "
                "The unanswered questions are marked below."
            ),
        )
    try:
        years = int(values["retain_years"] or pia.MIN_RETENTION_YEARS)
    except ValueError:
        years = -1
    try:
        pia.conclude(
            db,
            row.reference,
            outcome=values["outcome"],
            conclusion=values["conclusion"],
            actor=officer(request).actor,
            retain_years=years,
        )
    except InvalidInput as exc:
        db.rollback()
        return _assessment_page(
            request,
            db,
            reference,
            status_code=422,
            values=values,
            error=f"{exc.detail} — {exc.hint}" if exc.hint else exc.detail,
        )
    return redirect(f"/admin/records/pia/{row.reference}", done="concluded")
