"""Request and response bodies of the consent routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


Category = Annotated[str, Field(min_length=1, max_length=120)]


class IdentityIn(_In):
    type: str = Field(
        min_length=1, max_length=60, description="Identity type: email, phone, user_id, device_serial, ..."
    )
    value: str = Field(
        min_length=1, max_length=320, description="The identity value (sent in the body, never in a URL)."
    )


class RecordIn(_In):
    subject_id: str | None = Field(None, max_length=32, description="The subject, or give `identity` instead.")
    identity: IdentityIn | None = Field(None, description="Find (or create) the subject by this identity.")
    visitor_id: str | None = Field(None, max_length=64, description="An anonymous banner visitor instead.")
    purpose: str = Field(max_length=160)
    event: Literal["given", "refused", "withdrawn", "expired", "renewed", "objected", "restricted", "lifted"] = Field(
        "given",
        description="given, refused, withdrawn, expired, renewed; objected, restricted, lifted for purposes "
        "on another legal basis",
    )
    method: Literal["banner", "form", "api", "guardian", "import", "staff", "gpc"] = "api"
    categories: list[Category] | None = Field(None, max_length=200)
    legal_basis: str | None = Field(None, max_length=60)
    separate_kind: Literal["sensitive", "third_party", "disclosure", "cross_border"] | None = None
    notice_key: str | None = Field(None, max_length=80)
    notice_version: int | None = Field(None, ge=1, le=2**31)
    language: str | None = Field(None, max_length=10)
    jurisdiction: str | None = Field(None, max_length=20)
    guardian_id: str | None = Field(None, max_length=32, description="The verified guardian giving a child's consent.")
    expires_at: datetime | None = None
    at: datetime | None = Field(None, description="When the person acted (default: now).")
    evidence: dict[str, Any] | None = Field(None, max_length=50)


class RecordOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    seq: int
    subject_id: str | None
    visitor_id: str | None
    purpose: str
    categories: list[str]
    legal_basis: str
    separate_kind: str | None
    event: str
    at: datetime
    recorded_at: datetime
    expires_at: datetime | None
    notice_key: str | None
    notice_version: int | None
    language: str | None
    method: str
    jurisdiction: str | None
    guardian_id: str | None


class StateOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    holder: str
    purpose: str
    event: str
    legal_basis: str
    separate_kind: str | None
    categories: list[str]
    notice_version: int | None
    guardian_id: str | None
    at: datetime
    expires_at: datetime | None
    record_seq: int


class SubjectConsentOut(BaseModel):
    subject_id: str
    states: list[StateOut]
    history: list[RecordOut]
    channels: dict[str, Any]


class LookupIn(_In):
    identity: IdentityIn


class VerifyIn(_In):
    receipt: dict[str, Any]


class VerifyOut(BaseModel):
    valid: bool
    reason: str


class RebuildOut(BaseModel):
    rows: int


class ConsentChange(_In):
    purpose: str = Field(max_length=160)
    event: Literal["given", "refused", "withdrawn"]
    categories: list[Category] | None = Field(None, max_length=200)


class ChannelChange(_In):
    purpose: str = Field(max_length=160)
    channel: Literal["email", "sms", "push"]
    opted_in: bool


class ChannelSetIn(ChannelChange):
    """A person's channel choice recorded by staff or a company service (e.g. an unsubscribe link)."""

    subject_id: str | None = Field(None, max_length=32, description="The subject, or give `identity` instead.")
    identity: IdentityIn | None = Field(None, description="Find the subject by this identity (it must exist).")


class ChannelsOut(BaseModel):
    subject_id: str
    channels: dict[str, Any] = Field(
        description="Per messaging purpose: type, locked (service notices) and each "
        "channel's choice (true, false, or null when none was made)."
    )


class MeIn(_In):
    consents: list[ConsentChange] = Field(default_factory=list, max_length=50)
    channels: list[ChannelChange] = Field(default_factory=list, max_length=50)
    language: str | None = Field(None, max_length=10)
    visitor_id: str | None = Field(
        None, min_length=8, max_length=64, description="The banner cookie's visitor id: its choices become yours."
    )


class PurposeChoice(BaseModel):
    purpose: str
    type: str
    legal_basis: str  # what a consent to it rests on: consent or separate_consent
    state: str | None  # the current event, None before any choice


class MeOut(BaseModel):
    subject_id: str
    purposes: list[PurposeChoice]
    history: list[RecordOut]
    channels: dict[str, Any]


class CookieIn(_In):
    visitor_id: str = Field(min_length=8, max_length=64, description="The id in the banner's first-party cookie.")
    categories: dict[str, bool] = Field(
        max_length=50, description="necessary, preferences, analytics, marketing → chosen"
    )
    notice_version: int | None = Field(None, ge=1, le=2**31)
    language: str | None = Field(None, max_length=10)


class CookieRecordOut(BaseModel):
    category: str
    purpose: str
    event: str
    record_id: str
    gpc_honoured: bool


class CookieOut(BaseModel):
    visitor_id: str
    choice: dict[str, bool]
    gpc: bool
    gpc_honoured: bool
    purposes: dict[str, str | None]
    records: list[CookieRecordOut]


class PublicKeyOut(BaseModel):
    algorithm: str
    public_key: str
    pem: str
