"""Staff routes for subjects (being written)."""

from fastapi import APIRouter

router = APIRouter(prefix="/subjects", tags=["subjects"])
