"""Auth routes: log in and out, your own account, users and API keys (admins only)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.responses import JSONResponse

from privet.auth import logins, service
from privet.auth.deps import CSRF_HEADER, PUBLIC, SESSION_COOKIE, Caller, require
from privet.auth.models import User
from privet.auth.passwords import verify_password
from privet.auth.schemas import (
    ApiKeyCreatedOut,
    ApiKeyCreateIn,
    ApiKeyOut,
    LoginIn,
    LoginOut,
    MeOut,
    PasswordChangeIn,
    UnlockOut,
    UserCreatedOut,
    UserCreateIn,
    UserOut,
    UserPatchIn,
)
from privet.auth.scopes import ROLES, SCOPES
from privet.auth.sessions import user_scopes
from privet.http.ratelimit import rate_limited
from privet.http.routes import DB, problem_response
from privet.kit.errors import Forbidden

router = APIRouter(prefix="/auth", tags=["auth"])
Self = Depends(require("account:self"))
Admin = Depends(require("users:admin"))


@router.post(
    "/login",
    response_model=LoginOut,
    openapi_extra=PUBLIC,
    dependencies=[Depends(rate_limited("login"))],
    summary="Log in to the admin console; sets the session cookie and returns the CSRF token. Failed "
    "logins make an account wait, then lock it (429 with Retry-After).",
)
def login(body: LoginIn, request: Request, response: Response, db: DB) -> LoginOut | JSONResponse:
    settings = request.app.state.settings
    try:  # one message whether the user is unknown, inactive or the password wrong
        user = logins.log_in(
            db,
            request.app.state.keyring,
            settings,
            body.username,
            body.password,
            route="api",
            client=request.client.host if request.client else None,
        )
    except (logins.LoginFailed, logins.LoginRefused) as exc:
        return problem_response(exc)  # answered, not raised: the count and the audit event are committed
    cookie, csrf = service.start_session(db, user, settings.session_ttl_minutes)
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        max_age=settings.session_ttl_minutes * 60,
        path="/",
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
    )
    return LoginOut(csrf_token=csrf, user=UserOut.model_validate(user), scopes=sorted(user_scopes(user)))


@router.post(
    "/logout",
    dependencies=[Self],
    status_code=status.HTTP_204_NO_CONTENT,
    summary=f"End the browser session (send the {CSRF_HEADER} header).",
)
def logout(request: Request, db: DB) -> Response:
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        service.end_session(db, cookie)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")
    return response


@router.get("/me", dependencies=[Self], summary="Who is calling, with the scopes held.")
def me(db: DB, principal: Caller) -> MeOut:
    user = db.get(User, principal.id) if principal.kind == "user" else None
    return MeOut(
        kind=principal.kind,
        id=principal.id,
        name=principal.name,
        scopes=sorted(principal.scopes),
        user=UserOut.model_validate(user) if user else None,
    )


@router.post("/me/password", dependencies=[Self], summary="Change your own password (ends your other sessions).")
def change_own_password(body: PasswordChangeIn, db: DB, principal: Caller) -> UserOut:
    if principal.kind != "user":
        raise Forbidden("API keys have no password", "log in as a user to change a password")
    user = service.find_user(db, principal.id)
    if not verify_password(user.password_hash, body.current_password):
        raise Forbidden("The current password is wrong", "type the password you logged in with")
    service.set_password(
        db, user, body.new_password, actor=principal.actor, must_change=False, keep_session=principal.session_id
    )
    return UserOut.model_validate(user)


@router.get("/scopes", dependencies=[Self], summary="Every scope and what each role holds.")
def scopes() -> dict:
    return {"scopes": SCOPES, "roles": {role: sorted(held) for role, held in ROLES.items()}}


@router.get("/users", dependencies=[Admin], summary="All admin console users.")
def list_users(db: DB) -> list[UserOut]:
    return [UserOut.model_validate(u) for u in service.list_users(db)]


@router.post(
    "/users",
    dependencies=[Admin],
    status_code=status.HTTP_201_CREATED,
    summary="Create a user; a generated one-time password is returned once.",
)
def create_user(body: UserCreateIn, db: DB, principal: Caller) -> UserCreatedOut:
    user, password = service.create_user(db, body.username, body.role, password=body.password, actor=principal.actor)
    return UserCreatedOut(user=UserOut.model_validate(user), password=password)


@router.patch("/users/{user_id}", dependencies=[Admin], summary="Change a user's role, active flag or password.")
def patch_user(user_id: str, body: UserPatchIn, db: DB, principal: Caller) -> UserOut:
    user = service.find_user(db, user_id)
    if body.role is not None:
        service.set_role(db, user, body.role, actor=principal.actor)
    if body.active is not None:
        service.set_active(db, user, body.active, actor=principal.actor)
    if body.password is not None:
        own = principal.kind == "user" and principal.id == user.id
        service.set_password(
            db,
            user,
            body.password,
            actor=principal.actor,
            must_change=not own,
            keep_session=principal.session_id if own else None,
        )
    return UserOut.model_validate(user)


@router.post(
    "/users/{user_id}/unlock",
    dependencies=[Admin],
    summary="End a user's login lock or wait and forget their failed logins (by id or username).",
)
def unlock_user(user_id: str, request: Request, db: DB, principal: Caller) -> UnlockOut:
    user = service.find_user(db, user_id)
    was = logins.unlock(db, request.app.state.keyring, request.app.state.settings, user, actor=principal.actor)
    return UnlockOut(
        user=UserOut.model_validate(user), failures=was.failures if was else 0, was_locked=bool(was and was.locked)
    )


@router.get("/apikeys", dependencies=[Admin], summary="All API keys (prefixes and scopes, never secrets).")
def list_api_keys(db: DB) -> list[ApiKeyOut]:
    return [ApiKeyOut.model_validate(k) for k in service.list_api_keys(db)]


@router.post(
    "/apikeys",
    dependencies=[Admin],
    status_code=status.HTTP_201_CREATED,
    summary="Create an API key; the secret is in this answer only.",
)
def create_api_key(body: ApiKeyCreateIn, db: DB, principal: Caller) -> ApiKeyCreatedOut:
    key, secret = service.create_api_key(db, body.name, body.scopes, actor=principal.actor, expires_at=body.expires_at)
    return ApiKeyCreatedOut(key=ApiKeyOut.model_validate(key), secret=secret)


@router.delete(
    "/apikeys/{key_id}",
    dependencies=[Admin],
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke an API key (by id or prefix) at once: when this answers, no Privet process accepts it any more.",
)
def revoke_api_key(key_id: str, db: DB, principal: Caller) -> Response:
    service.revoke_api_key(db, key_id, actor=principal.actor)  # the next request with it, anywhere, gets 401
    return Response(status_code=status.HTTP_204_NO_CONTENT)
