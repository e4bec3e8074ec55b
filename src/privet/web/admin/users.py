"""Users and API keys (admins only): create users, change roles, deactivate; create and revoke API keys.

Generated one-time passwords and new API keys are shown once, on the page answering the form, never again.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse, Response

from privet.auth import logins, service
from privet.auth.api import AfterRevocation
from privet.auth.models import ROLE_NAMES
from privet.auth.scopes import ROLES, SCOPES
from privet.kit.web import DB
from privet.web.admin.common import Form, N_, guard, keyring, page, principal_of, redirect, settings, text

router = APIRouter(prefix="/users")
ADMIN = guard("users:admin")


def _page(request: Request, db: DB, **extra: object) -> HTMLResponse:
    users = service.list_users(db)
    return page(request, "admin/users.html", {
        "users": users, "locks": logins.lock_states(db, keyring(request), settings(request), users),
        "keys": service.list_api_keys(db), "roles": ROLE_NAMES,
        "scopes": SCOPES, "role_scopes": {r: sorted(s) for r, s in ROLES.items()}, **extra}, section="users")


@router.get("", dependencies=ADMIN, response_class=HTMLResponse)
def users(request: Request, db: DB) -> HTMLResponse:
    """Every user and API key."""
    return _page(request, db)


@router.post("", dependencies=ADMIN, response_class=HTMLResponse)
def create_user(request: Request, form: Form, db: DB) -> HTMLResponse:
    """Create a user; the generated one-time password is shown once."""
    user, password = service.create_user(db, text(form, "username", 64), text(form, "role", 30),
                                         actor=principal_of(request).actor)
    return _page(request, db, created_user=user.username, one_time_password=password,
                 flash=N_("The user was created. Give them this one-time password; it is not shown again."))


@router.post("/{user_id}", dependencies=ADMIN)
def change_user(user_id: str, request: Request, form: Form, db: DB) -> Response:
    """Change a user's role, or deactivate / reactivate them (sessions end at once on deactivation)."""
    user = service.find_user(db, user_id)
    actor = principal_of(request).actor
    role, active = text(form, "role", 30), text(form, "active", 5)
    if role:
        service.set_role(db, user, role, actor=actor)
    if active in ("yes", "no"):
        service.set_active(db, user, active == "yes", actor=actor)
    return redirect("/admin/users", done="user_changed")


@router.post("/{user_id}/unlock", dependencies=ADMIN)
def unlock_user(user_id: str, request: Request, db: DB) -> Response:
    """End a user's login lock or wait (their failed logins are forgotten)."""
    user = service.find_user(db, user_id)
    logins.unlock(db, keyring(request), settings(request), user, actor=principal_of(request).actor)
    return redirect("/admin/users", done="user_unlocked")


@router.post("/keys/new", dependencies=ADMIN, response_class=HTMLResponse)
def create_key(request: Request, form: Form, db: DB) -> HTMLResponse:
    """Create an API key with the chosen scopes; the secret is shown once."""
    scopes = [s for s in form.getlist("scopes") if isinstance(s, str)]
    key, secret = service.create_api_key(db, text(form, "name", 120), scopes, actor=principal_of(request).actor)
    return _page(request, db, new_key=key, secret=secret,
                 flash=N_("The API key was created. Copy it now; it is not shown again."))


@router.post("/keys/{key_id}/revoke", dependencies=ADMIN)
def revoke_key(key_id: str, request: Request, db: DB) -> Response:
    """Revoke an API key at once."""
    service.revoke_api_key(db, key_id, actor=principal_of(request).actor)
    # answered once no process trusts the key any more (after the commit)
    return AfterRevocation(status_code=303, headers={"Location": "/admin/users?done=key_revoked"})
