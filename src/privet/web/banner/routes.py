"""The cookie banner: its script, its per-site configuration and the click-tracking redirect."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
