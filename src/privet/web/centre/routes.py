"""The privacy centre at `/`: policies, consents, requests, for people (public, rate-limited)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.responses import HTMLResponse

from privet.auth.deps import PUBLIC
from privet.kit.ratelimit import rate_limited
from privet.web.render import render

router = APIRouter(include_in_schema=False)
Public = [Depends(rate_limited("centre"))]


@router.get("/", dependencies=Public, openapi_extra=PUBLIC, response_class=HTMLResponse)
def home(request: Request) -> HTMLResponse:
    return render(request, "centre/home.html")
