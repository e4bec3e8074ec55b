"""Legal holds: the holds (active, or all), a form to place one on a subject with the reason and the case
reference, and "release". Read with `requests:read`; placing and releasing need `requests:write` (as the API).

A hold is placed on a subject by id, as the CLI and the API do; a request's page links here with its subject
filled in. Everything goes through `requests.holds`, so it is checked and audited as there."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse, Response

from privet.http.routes import DB
from privet.kit.errors import NotFound
from privet.requests.holds import service as holds
from privet.web.admin.common import N_, Form, guard, officer, page, redirect, text
from privet.web.admin.form_errors import REFUSED, what_to_fix
from privet.web.render import translate

router = APIRouter(prefix="/holds")
READ, WRITE = guard("requests:read"), guard("requests:write")
FLASHES = {
    "placed": N_("The legal hold was placed: erasure of this person's data waits until it is released."),
    "released": N_("The legal hold was released; erasures it blocked go ahead if no other hold remains."),
}
NO_SUBJECT = N_(
    "Open the person's request and follow its link to place a hold, or find the subject's id with "
    "privet subjects lookup."
)


def _page(
    request: Request, db: DB, *, values: dict | None = None, error: str | None = None, status_code: int = 200
) -> HTMLResponse:
    every = request.query_params.get("all") == "1"
    return page(
        request,
        "admin/holds.html",
        {
            "holds": holds.list_holds(db, active_only=not every),
            "all": every,
            "values": values or {"subject_id": request.query_params.get("subject", "")[:32]},
        },
        section="holds",
        error=error,
        status_code=status_code,
        flash=FLASHES.get(request.query_params.get("done") or ""),
    )


@router.get("", dependencies=READ, response_class=HTMLResponse)
def hold_list(request: Request, db: DB) -> HTMLResponse:
    """Active holds (`?all=1`: released ones too), newest first, and the form to place one."""
    return _page(request, db)


@router.post("", dependencies=WRITE, response_class=HTMLResponse)
def place(request: Request, form: Form, db: DB) -> Response:
    """Place a hold; bad input shows the form again with what to fix, and nothing is placed."""
    values = {
        "subject_id": text(form, "subject_id", 32),
        "reason": text(form, "reason", 500),
        "reference": text(form, "reference", 200),
    }
    try:
        holds.place(
            db,
            subject_id=values["subject_id"],
            reason=values["reason"],
            reference=values["reference"] or None,
            actor=officer(request).actor,
        )
    except REFUSED as exc:
        error = what_to_fix(request, db, exc)
        if isinstance(exc, NotFound):
            error = f"{error} — {translate(request, NO_SUBJECT)}"
        return _page(request, db, values=values, error=error, status_code=exc.status)
    return redirect("/admin/holds", done="placed")


@router.post("/{hold_id}/release", dependencies=WRITE, response_class=HTMLResponse)
def release(hold_id: str, request: Request, db: DB) -> Response:
    """Release a hold (audited); erasures it blocked run once no other hold remains."""
    try:
        holds.release(db, hold_id, actor=officer(request).actor)
    except REFUSED as exc:
        return _page(request, db, error=what_to_fix(request, db, exc), status_code=exc.status)
    return redirect("/admin/holds", done="released")
