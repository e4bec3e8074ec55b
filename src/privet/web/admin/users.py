"""Users and API keys (admins only): create users, change roles, deactivate, unlock, reset passwords; create
(with scopes and an optional expiry) and revoke API keys.

Generated one-time passwords and new API keys are shown once, on the page answering the form, never again.
A form the services refuse shows the page again with the input kept and what to fix; nothing is changed.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse, Response

from privet.auth import logins, service
from privet.auth.models import ROLE_NAMES
from privet.auth.scopes import ROLES, SCOPES
from privet.http.routes import DB
from privet.kit.clock import utcnow
from privet.kit.errors import InvalidInput, PrivetError
from privet.web.admin.common import N_, Form, guard, keyring, officer, page, redirect, settings, text
from privet.web.admin.form_errors import REFUSED, what_to_fix

router = APIRouter(prefix="/users")
ADMIN = guard("users:admin")
MAX_DAYS = 3650  # ten years: a later expiry is no expiry in practice


def _page(
    request: Request,
    db: DB,
    *,
    flash: str | None = None,
    error: str | None = None,
    status_code: int = 200,
    **extra: object,
) -> HTMLResponse:
    users = service.list_users(db)
    return page(
        request,
        "admin/users.html",
        {
            "users": users,
            "locks": logins.lock_states(db, keyring(request), settings(request), users),
            "keys": service.list_api_keys(db),
            "roles": ROLE_NAMES,
            "values": {},
            "scopes": SCOPES,
            "role_scopes": {r: sorted(s) for r, s in ROLES.items()},
            **extra,
        },
        section="users",
        flash=flash,
        error=error,
        status_code=status_code,
    )


def _refused(request: Request, db: DB, exc: PrivetError, values: dict) -> HTMLResponse:
    """The page again with the officer's input and what to fix; the form's changes rolled back."""
    return _page(request, db, error=what_to_fix(request, db, exc), status_code=exc.status, values=values)


@router.get("", dependencies=ADMIN, response_class=HTMLResponse)
def users(request: Request, db: DB) -> HTMLResponse:
    """Every user and API key."""
    return _page(request, db)


@router.post("", dependencies=ADMIN, response_class=HTMLResponse)
def create_user(request: Request, form: Form, db: DB) -> HTMLResponse:
    """Create a user; the generated one-time password is shown once."""
    values = {"username": text(form, "username", 64), "role": text(form, "role", 30)}
    try:
        user, password = service.create_user(db, values["username"], values["role"], actor=officer(request).actor)
    except REFUSED as exc:
        return _refused(request, db, exc, values)
    return _page(
        request,
        db,
        created_user=user.username,
        one_time_password=password,
        flash=N_("The user was created. Give them this one-time password; it is not shown again."),
    )


@router.post("/{user_id}", dependencies=ADMIN, response_class=HTMLResponse)
def change_user(user_id: str, request: Request, form: Form, db: DB) -> Response:
    """Change a user's role, or deactivate / reactivate them (sessions end at once on deactivation)."""
    user = service.find_user(db, user_id)
    actor = officer(request).actor
    role, active = text(form, "role", 30), text(form, "active", 5)
    try:
        if role:
            service.set_role(db, user, role, actor=actor)
        if active in ("yes", "no"):
            service.set_active(db, user, active == "yes", actor=actor)
    except REFUSED as exc:
        return _refused(request, db, exc, {})
    return redirect("/admin/users", done="user_changed")


@router.post("/{user_id}/password", dependencies=ADMIN, response_class=HTMLResponse)
def reset_password(user_id: str, request: Request, db: DB) -> HTMLResponse:
    """A new one-time password (shown once); the user's sessions end and they choose their own at next login."""
    user = service.find_user(db, user_id)
    password = service.set_password(db, user, actor=officer(request).actor, must_change=True)
    return _page(
        request,
        db,
        created_user=user.username,
        one_time_password=password,
        flash=N_("The password was reset. Give them this one-time password; it is not shown again."),
    )


@router.post("/{user_id}/unlock", dependencies=ADMIN)
def unlock_user(user_id: str, request: Request, db: DB) -> Response:
    """End a user's login lock or wait (their failed logins are forgotten)."""
    user = service.find_user(db, user_id)
    logins.unlock(db, keyring(request), settings(request), user, actor=officer(request).actor)
    return redirect("/admin/users", done="user_unlocked")


@router.post("/keys/new", dependencies=ADMIN, response_class=HTMLResponse)
def create_key(request: Request, form: Form, db: DB) -> HTMLResponse:
    """Create an API key with the chosen scopes; the secret is shown once."""
    name, days = text(form, "name", 120), text(form, "days", 6)
    scopes = [s for s in form.getlist("scopes") if isinstance(s, str)]
    values = {"name": name, "scopes": scopes, "days": days}
    try:
        key, secret = service.create_api_key(db, name, scopes, actor=officer(request).actor, expires_at=_expiry(days))
    except REFUSED as exc:
        return _refused(request, db, exc, values)
    return _page(
        request,
        db,
        new_key=key,
        secret=secret,
        flash=N_("The API key was created. Copy it now; it is not shown again."),
    )


def _expiry(days: str) -> datetime | None:
    """`days` from now (the CLI's --expires-in-days), or None for a key that does not expire."""
    if not days:
        return None
    if not days.isdigit() or not 1 <= int(days) <= MAX_DAYS:
        raise InvalidInput(
            N_("The expiry is not a whole number of days from 1 to 3650"),
            N_("give the days, or leave it empty for a key that does not expire"),
        )
    return utcnow() + timedelta(days=int(days))


@router.post("/keys/{key_id}/revoke", dependencies=ADMIN, response_class=HTMLResponse)
def revoke_key(key_id: str, request: Request, db: DB) -> Response:
    """Revoke an API key at once."""
    try:
        service.revoke_api_key(db, key_id, actor=officer(request).actor)
    except REFUSED as exc:
        return _refused(request, db, exc, {})
    # from the commit on, the next request with the key is refused by every process
    return Response(status_code=303, headers={"Location": "/admin/users?done=key_revoked"})
