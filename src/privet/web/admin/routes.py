"""The admin console at `/admin`, for officers, agents and auditors by role."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.responses import HTMLResponse

from privet.web.guard import require_page
from privet.web.render import render

router = APIRouter(prefix="/admin", include_in_schema=False)


@router.get("", dependencies=[Depends(require_page("requests:read"))], response_class=HTMLResponse)
def dashboard(request: Request) -> HTMLResponse:
    return render(request, "admin/dashboard.html")
