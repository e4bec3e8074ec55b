"""The admin pages (see `routes.py`)."""

from privet.web.admin.routes import router

__all__ = ["router"]
