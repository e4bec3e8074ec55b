"""The evidence of the promises kept (P1-P45), read-only: for each promise its mechanism, whether this company's
data map, registers, notices and settings configure it (what is missing if not), and the newest run or check that
exercised it. The same report as `privet report evidence` and `GET /api/v1/reports/evidence`, with downloads."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse, Response

from privet.http.routes import DB
from privet.reports import evidence
from privet.web.admin.common import guard, page, settings

router = APIRouter(prefix="/evidence")
READ = guard("registers:read")


@router.get("", dependencies=READ, response_class=HTMLResponse)
def evidence_page(request: Request, db: DB) -> HTMLResponse:
    """Every promise, configured or missing, with its latest evidence."""
    return page(request, "admin/evidence.html", {"report": evidence.build(db, settings(request))}, section="evidence")


@router.get("/evidence.{fmt}", dependencies=READ)
def evidence_download(
    fmt: Literal["html", "json"],
    request: Request,
    db: DB,
    lang: Literal["en", "zh_CN"] = "en",
) -> Response:
    """The report as one self-contained HTML page (in `lang`) or JSON, downloaded."""
    media = {"html": "text/html; charset=utf-8", "json": "application/json"}[fmt]
    return Response(
        evidence.render(db, settings(request), fmt, lang),
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="evidence.{fmt}"'},
    )
