"""Public identity verification routes (being written)."""

from fastapi import APIRouter

router = APIRouter(prefix="/verify", tags=["verification"])
