"""Request and response bodies of the auth routes. Secrets appear only in the `*Created` answers."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    username: str
    role: str
    active: bool
    must_change_password: bool
    created_at: datetime
    last_login_at: datetime | None


class LoginIn(BaseModel):
    username: str = Field(max_length=64, description="The username (a handle, not an e-mail address).")
    password: str = Field(max_length=1024, description="The password.")


class LoginOut(BaseModel):
    csrf_token: str = Field(description="Send it back in the X-CSRF-Token header on POST/PATCH/PUT/DELETE.")
    user: UserOut
    scopes: list[str]


class MeOut(BaseModel):
    kind: str = Field(description="`user` (session) or `apikey`.")
    id: str
    name: str
    scopes: list[str]
    user: UserOut | None = None


class PasswordChangeIn(BaseModel):
    current_password: str = Field(max_length=1024)
    new_password: str = Field(max_length=1024, description="At least 12 characters.")


class UserCreateIn(BaseModel):
    username: str = Field(max_length=64)
    role: str = Field(description="admin, privacy_officer, agent or auditor.")
    password: str | None = Field(
        None, max_length=1024, description="Leave out to have a one-time password generated and returned."
    )


class UserCreatedOut(BaseModel):
    user: UserOut
    password: str | None = Field(description="The generated one-time password, shown only in this answer.")


class UserPatchIn(BaseModel):
    role: str | None = None
    active: bool | None = None
    password: str | None = Field(
        None, max_length=1024, description="A new password; the user must change it at the next login."
    )


class UnlockOut(BaseModel):
    user: UserOut
    failures: int = Field(description="Failed logins in a row that were forgotten (0: there were none).")
    was_locked: bool = Field(description="Whether the account was locked until now.")


class ApiKeyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    prefix: str
    scopes: list[str]
    created_by: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreateIn(BaseModel):
    name: str = Field(min_length=1, max_length=120, description="What uses the key, e.g. `crm-sync`.")
    scopes: list[str] = Field(description="Scopes the key holds (GET /auth/scopes lists them).")
    expires_at: datetime | None = Field(None, description="When the key stops working (UTC if no zone given).")

    @field_validator("expires_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


class ApiKeyCreatedOut(BaseModel):
    key: ApiKeyOut
    secret: str = Field(description="The full key, shown only in this answer. Send as `Authorization: Bearer`.")
