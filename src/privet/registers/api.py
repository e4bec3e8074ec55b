"""Placeholder router: filled in by the registers work."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/registers", tags=["registers"])
