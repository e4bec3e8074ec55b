"""The admin console at `/admin`, for officers, agents and auditors by role (one module per page group)."""

from __future__ import annotations

from fastapi import APIRouter

from privet.web.admin import (
    audit,
    consent,
    dashboard,
    datamap,
    evidence,
    holds,
    incidents,
    login,
    notices,
    receipts,
    records,
    registers,
    requests,
    retention,
    retention_runs,
    users,
)

router = APIRouter(include_in_schema=False)
for module in (
    login,
    dashboard,
    requests,
    holds,
    datamap,
    consent,
    receipts,
    notices,
    users,
    audit,
    registers,
    incidents,
    records,
    retention,
    retention_runs,
    evidence,
):
    router.include_router(module.router, prefix="/admin")
