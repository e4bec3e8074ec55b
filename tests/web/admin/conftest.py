"""Admin console helpers: log an officer in through the real form (TestClient or browser)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

HTML = {"Accept": "text/html"}
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
PASSWORD = "Correct-horse-battery-9"


def form_token(client: TestClient, path: str = "/admin/login") -> str:
    """The CSRF token of the forms on `path` (the client keeps the cookie it belongs to)."""
    return TOKEN.search(client.get(path, headers=HTML).text).group(1)


@pytest.fixture
def officer(client: TestClient, db):
    """`officer(role)` creates a user with `role`, logs in through the form and returns the CSRF token of the forms
    shown to that session (bound to it: the login form's own token no longer works once logged in)."""
    from privet.auth import service as auth

    def log_in(role: str) -> str:
        username = f"{role.replace('_', '-')}-{len(client.cookies) + 1}"
        auth.create_user(db, username, role, password=PASSWORD, actor="test")
        db.commit()
        token = form_token(client)
        answer = client.post(
            "/admin/login",
            data={"username": username, "password": PASSWORD, "csrf_token": token, "next": "/admin"},
            headers=HTML,
            follow_redirects=False,
        )
        assert answer.status_code == 303, answer.text
        return form_token(client, "/admin/password")

    return log_in
