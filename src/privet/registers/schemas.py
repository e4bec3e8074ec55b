"""Request and response bodies of the register routes. Identities go in (POST bodies only); counts come out."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

_KEY = Field(
    max_length=80,
    pattern=r"^[a-z][a-z0-9_]{0,79}$",
    description="Register key: lower-case letters, digits, underscores.",
)
_PURPOSES: list[str] = Field(default_factory=list, max_length=100, description="Taxonomy purpose keys.")
_CATEGORIES: list[str] = Field(default_factory=list, max_length=200, description="Taxonomy data category keys.")
_GROUND = Field(
    None,
    max_length=40,
    description="Legal-ground code (GET /registers/grounds lists them); leave out to rely on each subject's consent.",
)
_REFERENCE = Field(None, max_length=200, description="The law, court order or authority's letter the ground rests on.")


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProcessorIn(_In):
    key: str = _KEY
    name: str = Field(min_length=1, max_length=200, description="The processor's name.")
    agreement_ref: str | None = Field(None, max_length=200, description="Reference of the signed agreement.")
    signed_on: date | None = Field(None, description="When the agreement was signed.")
    expires_on: date | None = Field(None, description="When the agreement expires.")
    purposes: list[str] = _PURPOSES
    categories: list[str] = _CATEGORIES
    regions: list[str] = Field(default_factory=list, max_length=50, description="Where it processes (CN, EU, ...).")
    security_measures: list[str] = Field(
        default_factory=list, max_length=50, description="Measures the agreement requires (encryption, audits, ...)."
    )


class ProcessorOut(BaseModel):
    id: str
    key: str
    name: str
    agreement_ref: str | None
    signed_on: date | None
    expires_on: date | None
    purposes: list[str]
    categories: list[str]
    regions: list[str]
    security_measures: list[str]
    activities: list[str] = Field(default_factory=list, description="Data map activities naming this processor.")
    created_at: datetime
    updated_at: datetime

    model_config = ConfigDict(from_attributes=True)

    def with_activities(self, uses: dict[str, list[tuple]]) -> ProcessorOut:
        """The same, with the activities of `privet.registers.processors.activities_by_processor`."""
        return self.model_copy(update={"activities": [u[0] for u in uses.get(self.key, [])]})


class AlertOut(BaseModel):
    kind: str = Field(
        description="unregistered, no_agreement, expired, expiring, out_of_scope or ground_not_in_policy."
    )
    entry: Literal["processor", "recipient"] = Field(description="Whether the key is a processor's or a recipient's.")
    key: str = Field(description="The processor's or recipient's key.")
    processor: str | None = Field(description="The processor's key (processor alerts only).")
    message: str
    activities: list[str]
    expires_on: date | None
    days_left: int | None


class RecipientIn(_In):
    key: str = _KEY
    name: str = Field(min_length=1, max_length=200, description="The recipient (another controller).")
    kind: Literal["affiliate", "partner", "third_party", "authority"] = Field(
        "third_party", description="affiliate, partner, third_party or authority."
    )
    purposes: list[str] = _PURPOSES
    categories: list[str] = _CATEGORIES
    region: str | None = Field(None, max_length=10, description="Where the recipient is (CN, HK, EU, ...).")
    legal_grounds: list[str] = Field(
        default_factory=list,
        max_length=20,
        description="Codes of the grounds of the company's policy its shares may rest on without consent.",
    )
    agreement_ref: str | None = Field(
        None,
        max_length=200,
        description="Reference of the confidentiality or "
        "data-sharing agreement binding it (affiliates, partners, third parties).",
    )
    signed_on: date | None = Field(None, description="When the agreement was signed.")
    expires_on: date | None = Field(None, description="When the agreement expires.")


class RecipientUpdateIn(RecipientIn):
    reason: str | None = Field(
        None, max_length=500, description="Why its purposes changed, when they did (no personal data)."
    )


class PurposeChangeIn(_In):
    purposes: list[str] = Field(min_length=1, max_length=100, description="The recipient's new purposes.")
    reason: str | None = Field(None, max_length=500, description="Why the purpose changed (no personal data).")


class RecipientOut(BaseModel):
    id: str
    key: str
    name: str
    kind: str
    purposes: list[str]
    categories: list[str]
    region: str | None
    legal_grounds: list[str]
    agreement_ref: str | None
    signed_on: date | None
    expires_on: date | None
    reconsent_since: datetime | None
    purpose_changes: list[dict]
    created_at: datetime

    model_config = ConfigDict(from_attributes=True)


class IdentityIn(_In):
    type: str = Field(max_length=60, description="email, phone, user_id, device_serial, ...")
    value: str = Field(max_length=400, description="The identity value.")


class ShareIn(_In):
    recipient: str = Field(max_length=80, description="The registered recipient's key.")
    purpose: str | None = Field(
        None, max_length=160, description="One of the recipient's purposes (default: its first)."
    )
    categories: list[str] = Field(
        default_factory=list, max_length=200, description="What is shared (default: the recipient's categories)."
    )
    subject_ids: list[str] = Field(default_factory=list, max_length=100_000, description="Subjects to share.")
    identities: list[IdentityIn] = Field(default_factory=list, max_length=100_000, description="Or their identities.")
    legal_ground: str | None = _GROUND
    reference: str | None = _REFERENCE
    note: str | None = Field(None, max_length=1000, description="A note (no personal data).")


class EventOut(BaseModel):
    id: str
    purpose: str
    categories: list[str]
    basis: str
    legal_ground: str | None
    reference: str | None
    requested: int
    filtered_out: int
    reasons: dict[str, int]
    at: datetime
    actor: str

    model_config = ConfigDict(from_attributes=True)


class SharingEventOut(EventOut):
    recipient: str
    shared: int
    note: str | None


class ShareResultOut(BaseModel):
    event: SharingEventOut
    allowed_subject_ids: list[str] = Field(description="Who may be shared.")
    allowed_positions: list[int] = Field(description="Their positions in the request (subject_ids, then identities).")


class DisclosureIn(_In):
    title: str = Field(max_length=200, description="What is published (no personal data).")
    categories: list[str] = Field(min_length=1, max_length=200, description="The categories made public.")
    purpose: str | None = Field(None, max_length=160, description="Default: the data map's disclosure purpose.")
    subject_ids: list[str] = Field(default_factory=list, max_length=100_000)
    identities: list[IdentityIn] = Field(default_factory=list, max_length=100_000)
    legal_ground: str | None = Field(
        None, max_length=40, description="Legal-ground code (default law_required when a reference is given)."
    )
    reference: str | None = _REFERENCE


class DisclosureOut(EventOut):
    title: str
    disclosed: int


class DisclosureResultOut(BaseModel):
    disclosure: DisclosureOut
    allowed_subject_ids: list[str]
    allowed_positions: list[int]


class CorporateTransferIn(_In):
    successor: str = Field(min_length=1, max_length=200, description="The new holder of the data.")
    kind: Literal["merger", "acquisition", "asset_sale", "bankruptcy", "other"] = Field(
        description="merger, acquisition, asset_sale, bankruptcy or other."
    )
    transfer_date: date
    binding_statement: str = Field(max_length=4000, description="How the successor is bound by the privacy policy.")
    bound: bool = Field(True, description="False: the successor is not bound and must seek consent again.")
    categories: list[str] = _CATEGORIES
    subject_count: int | None = Field(
        None, ge=0, le=10**10, description="People whose data passes (default: every active subject)."
    )
    reference: str | None = Field(None, max_length=200, description="The deal or contract reference.")


class CorporateTransferOut(BaseModel):
    id: str
    successor: str
    kind: str
    transfer_date: date
    binding_statement: str
    bound: bool
    categories: list[str]
    subject_count: int
    reference: str | None
    campaign_kind: str
    campaign_status: str
    campaign_subjects: int
    created_at: datetime
    created_by: str

    model_config = ConfigDict(from_attributes=True)


class GroundOut(BaseModel):
    code: str
    policy: str = Field(description="Whose ground it is: law, keptek or zkteco.")
    section: str = Field(description="The section of the policy or law it is written in.")
    reference: str = Field(description="The policy or law and its section, e.g. 'Keptek privacy policy 3(3)2 D'.")
    en: str
    zh_CN: str
    uses: list[str] = Field(description="What it may be used for: share, disclosure.")
    asks: str = Field(description="What a share's or disclosure's reference names for it.")
    declared: bool = Field(description="Whether the company's policy has it (shares on other grounds are refused).")


class PolicyIn(_In):
    name: str = Field(min_length=1, max_length=200, description="The policy (and version) the grounds come from.")
    grounds: list[str] = Field(min_length=1, max_length=100, description="Codes of the grounds it declares.")


class PolicyOut(BaseModel):
    name: str | None = Field(description="The declared policy (null before any declaration).")
    grounds: list[str] = Field(
        description="Codes a share or disclosure may name (the law's until a policy is declared)."
    )
    declared: bool = Field(description="Whether the company declared its policy's grounds.")
    declared_by: str | None
    updated_at: datetime | None
