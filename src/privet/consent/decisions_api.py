"""Decision routes (being written)."""

from fastapi import APIRouter

router = APIRouter(prefix="/decisions", tags=["decisions"])
