"""taxonomy routes (being written)."""

from fastapi import APIRouter

router = APIRouter(prefix="/taxonomy", tags=["taxonomy"])
