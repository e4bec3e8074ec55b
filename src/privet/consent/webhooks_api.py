"""Webhook routes (being written)."""

from fastapi import APIRouter

router = APIRouter(prefix="/webhooks", tags=["webhooks"])
