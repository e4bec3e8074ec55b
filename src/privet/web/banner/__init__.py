"""The banner pages (see `routes.py`)."""

from privet.web.banner.routes import router

__all__ = ["router"]
