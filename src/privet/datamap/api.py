"""datamap routes (being written)."""

from fastapi import APIRouter

router = APIRouter(prefix="/datamap", tags=["datamap"])
