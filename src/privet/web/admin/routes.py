"""The admin console at `/admin`, for officers, agents and auditors by role (one module per page group)."""

from __future__ import annotations

from fastapi import APIRouter

from privet.web.admin import (
    audit,
    consent,
    dashboard,
    datamap,
    evidence,
    incidents,
    login,
    notices,
    receipts,
    records,
    registers,
    requests,
    retention,
    users,
)

router = APIRouter(include_in_schema=False)
for module in (login, dashboard, requests, datamap, consent, receipts, notices, users, audit, registers, incidents,
               records, retention, evidence):
    router.include_router(module.router, prefix="/admin")
