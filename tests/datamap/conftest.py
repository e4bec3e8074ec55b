"""Fixtures for the data map tests: API keys with chosen scopes."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session

from privet.auth.keys import create_api_key


@pytest.fixture
def auth(db: Session) -> Callable[..., dict[str, str]]:
    """`auth("datamap:read", ...)` → Authorization headers of a real API key holding those scopes."""

    def make(*scopes: str) -> dict[str, str]:
        _key, token = create_api_key(db, "datamap-tests", list(scopes), actor="test")
        db.flush()
        return {"Authorization": f"Bearer {token}"}

    return make
