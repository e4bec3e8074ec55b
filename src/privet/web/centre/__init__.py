"""The centre pages (see `routes.py`)."""

from privet.web.centre.routes import router

__all__ = ["router"]
