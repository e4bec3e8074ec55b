"""Notice routes (being written)."""

from fastapi import APIRouter

router = APIRouter(prefix="/notices", tags=["notices"])
