"""Consent ledger routes (being written)."""

from fastapi import APIRouter

router = APIRouter(prefix="/consent", tags=["consent"])
