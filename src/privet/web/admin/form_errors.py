"""A console form the services refused: undo what it did, and say what to fix in the page's language.

The forms call the same service functions as the API, so they are refused for the same reasons; the page is
shown again with the officer's input and this sentence, and nothing is kept."""

from __future__ import annotations

from sqlalchemy.orm import Session
from starlette.requests import Request

from privet.kit.errors import Conflict, InvalidInput, NotFound, PrivetError
from privet.web.render import translate

REFUSED = (InvalidInput, Conflict, NotFound)  # what a form can get wrong; other errors keep their own page


def what_to_fix(request: Request, db: Session, exc: PrivetError) -> str:
    """Roll back the form's changes; the service's reason and hint, translated where Privet has the words."""
    db.rollback()
    detail = translate(request, exc.detail)
    hint = translate(request, exc.hint) if exc.hint and "/api/" not in exc.hint else None
    return f"{detail} — {hint}" if hint else detail
