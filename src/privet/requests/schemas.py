"""Request and response bodies of the request routes. Identities go in; only masked values come out."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from privet.kit.crypto import Keyring
from privet.requests.models import AccessPackage, DsrRequest, LegalHold, ManualTask, RequestStep

if TYPE_CHECKING:
    from privet.subjects.verification import StartResult


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


_TYPE = Field(
    min_length=1,
    max_length=20,
    description="access, portability, rectification, erasure, closure, withdrawal, "
    "restriction, explanation or complaint.",
)
_DETAILS: dict = Field(
    default_factory=dict,
    max_length=20,
    description="withdrawal/restriction: {purposes: [...], mode?: object|"
    "restrict}; rectification: {changes: {category: new value}}; complaint: {text}.",
)


_REGION = Field(
    None,
    max_length=10,
    description="Where the person lives: an ISO 3166 code (CN, DE, US-CA), EU or "
    "EEA. It selects the law the request is handled under (PIPL, GDPR, CCPA) where none is known yet.",
)
_ORGANISATION = Field(
    None,
    max_length=120,
    description="The organisation the person acts for as its representative (P6): its name or account reference.",
)


class AgentIn(_In):
    name: str = Field(max_length=200, description="Who acts for the subject.")
    organisation: str | None = Field(None, max_length=200, description="The agent's organisation, if any.")
    authorisation: str = Field(max_length=200, description="Reference of the mandate or power of attorney.")


class IdentityCheckIn(_In):
    method: str = Field(
        max_length=30, description="id_document, call_back, known_contact, signed_letter, agent_mandate or in_person."
    )
    note: str | None = Field(None, max_length=500, description="What was checked (no personal data).")


class StaffRequestIn(_In):
    type: str = _TYPE
    identity_type: str = Field(min_length=1, max_length=60, description="email, phone, user_id, device_serial, ...")
    identity: str = Field(
        min_length=1, max_length=400, description="The subject's identity value (never put it in a URL)."
    )
    channel: Literal["staff_phone", "staff_email", "staff_letter", "agent", "api"] = Field(
        "staff_email", description="How the request reached the company (P32)."
    )
    language: str = Field("en", max_length=10, description="en or zh_CN: messages to the person.")
    details: dict = _DETAILS
    agent: AgentIn | None = Field(None, description="An authorised agent acting for the subject (P6).")
    region: str | None = _REGION
    organisation: str | None = _ORGANISATION
    identity_check: IdentityCheckIn | None = Field(
        None, description="Record that staff checked the identity now; without it a code is sent to the identity."
    )


class PublicRequestIn(_In):
    type: str = _TYPE
    identity_type: str = Field(
        min_length=1,
        max_length=60,
        description="email or phone (a code is sent to it), or "
        "any type with a subject session or trusted "
        "token proving it.",
    )
    identity: str = Field(min_length=1, max_length=400, description="The identity value.")
    language: str = Field("en", max_length=10, description="en or zh_CN.")
    channel: Literal["privacy_centre", "api"] = Field("privacy_centre", description="Where the request came from.")
    details: dict = _DETAILS
    token: str | None = Field(
        None,
        max_length=8192,
        description="A trusted subject token (JWT from the company's login) proving the identity instead of a code.",
    )
    region: str | None = _REGION
    organisation: str | None = _ORGANISATION


class CodeIn(_In):
    challenge_id: str = Field(max_length=32)
    code: str = Field(max_length=20, description="The six-digit code from the message.")


class RefuseIn(_In):
    code: str = Field(max_length=40, description="A refusal reason code (see GET /api/v1/requests/refusal-codes).")
    note: str | None = Field(None, max_length=500, description="Sent to the person with the reason (no personal data).")


class ReasonIn(_In):
    reason: str = Field(max_length=500, description="Why more time is needed (sent to the person).")


class FeeIn(_In):
    outcome: Literal["paid", "waived"] = Field(description="paid: the fee was received; waived: it is not charged.")
    reason: str | None = Field(
        None,
        max_length=500,
        description="Why it is waived (required then), or the payment's reference (no personal data).",
    )


class AssignIn(_In):
    assignee: str | None = Field(max_length=120, description="The officer's user name; null to unassign.")


class NoteIn(_In):
    note: str | None = Field(None, max_length=500, description="The outcome (sent to the person; no personal data).")


class HoldIn(_In):
    subject_id: str = Field(max_length=32)
    reason: str = Field(max_length=500, description="Why erasure must wait (no personal data).")
    reference: str | None = Field(None, max_length=200, description="Case number or the authority's letter.")


class StepOut(BaseModel):
    id: str
    position: int
    datastore: str
    connector: str
    action: str
    status: str
    attempts: int
    last_error: str | None
    started_at: datetime | None
    finished_at: datetime | None
    counts: dict
    retained: list


class TaskOut(BaseModel):
    id: str
    step_id: str
    assignee: str | None
    due_on: date | None
    status: str
    completed_by: str | None
    completed_at: datetime | None


class PackageOut(BaseModel):
    id: str
    created_at: datetime
    expires_at: datetime
    downloads: int
    max_downloads: int
    size: int
    purged: bool


class EventOut(BaseModel):
    seq: int
    at: datetime
    actor: str
    action: str
    details: dict


class RequestOut(BaseModel):
    id: str
    reference: str
    type: str
    status: str
    channel: str
    language: str
    profile: str
    profile_source: str | None = Field(
        description="Where the profile came from: organisation, declared, token or datastore (P41)."
    )
    declared_region: str | None
    organisation_ref: str | None = Field(description="The organisation the requester acts for (P6).")
    identity_type: str
    identity: str | None = Field(description="Masked; null once purged.")
    subject_id: str | None
    filed_by: str
    agent: dict | None
    details: dict
    received_at: datetime
    verify_by: datetime | None
    verified_at: datetime | None
    due_on: date | None
    extended_to: date | None
    extension_reason: str | None
    acknowledge_by: date | None
    repeat_of: str | None
    fee: dict | None
    approved_by: str | None
    assignee: str | None
    refusal_code: str | None
    refusal_note: str | None
    completed_at: datetime | None
    result: dict
    backups_clear_by: date | None = Field(description="Erasures: the day erased data has left every backup (P22).")
    backups_reminded_at: datetime | None


class RequestDetailOut(RequestOut):
    steps: list[StepOut]
    tasks: list[TaskOut]
    package: PackageOut | None
    trail: list[EventOut]


class RequestPage(BaseModel):
    items: list[RequestOut]
    total: int


class DueOut(BaseModel):
    due_soon: list[RequestOut]
    overdue: list[RequestOut]


class HoldOut(BaseModel):
    id: str
    subject_id: str
    reason: str
    reference: str | None
    created_by: str
    created_at: datetime
    released_by: str | None
    released_at: datetime | None


class RefusalCodeOut(BaseModel):
    code: str
    law: str
    en: str
    zh_CN: str
    applies_to: list[str]
    profiles: list[str]


class BackupOut(BaseModel):
    reference: str
    type: str
    completed_at: datetime | None
    clear_by: date = Field(description="Backups taken before the erasure completed must be gone by this day.")
    state: Literal["upcoming", "due", "told"] = Field(
        description="upcoming: the day is ahead; due: passed, the officer not told yet; told: reminded."
    )
    reminded_at: datetime | None
    datastores: list[str] = Field(description="The datastores whose backups hold what the erasure changed.")


class RunOut(BaseModel):
    reference: str
    status: str
    queued: int


class FiledOut(BaseModel):
    reference: str
    status: str
    verification: str = Field(
        description="verified (a session or token proved the identity), code_sent, or "
        "code_not_sent (ask again: POST .../{reference}/code)."
    )
    challenge_id: str | None = None
    channel: str | None = Field(None, description="Where the code went: email or sms.")
    expires_at: datetime | None = None


class VerifiedOut(BaseModel):
    reference: str
    status: str
    subject_session: str | None = Field(None, description="Send as `Authorization: Subject ...` to follow it.")
    expires_at: datetime | None = None


class PublicStatusOut(BaseModel):
    reference: str
    type: str
    status: str
    received_at: datetime
    verified_at: datetime | None
    due_on: date | None
    completed_at: datetime | None
    refusal_code: str | None
    refusal_reason: str | None
    package_expires_at: datetime | None
    profile: str = Field(description="The law the request is handled under: pipl, gdpr or ccpa.")
    fee: dict | None = Field(
        None, description="While a fee is due: {amount, currency}; nothing runs before it is paid or waived."
    )


def filed_out(request: DsrRequest, sent: StartResult | None = None, *, verified: bool = False) -> FiledOut:
    """The answer to filing (or to asking for a code): verified, the code that went out, or none sent."""
    if verified:
        return FiledOut(reference=request.reference, status=request.status, verification="verified")
    if sent is None:
        return FiledOut(reference=request.reference, status=request.status, verification="code_not_sent")
    return FiledOut(
        reference=request.reference,
        status=request.status,
        verification="code_sent",
        challenge_id=sent.challenge_id,
        channel=sent.channel,
        expires_at=sent.expires_at,
    )


def _masked(keyring: Keyring, request: DsrRequest) -> str | None:
    from privet.requests.service import identity_value
    from privet.subjects.identities import mask

    value = identity_value(keyring, request)
    return mask(request.identity_type, value) if value else None


def request_out(keyring: Keyring, request: DsrRequest) -> RequestOut:
    """The staff view of a request (identity masked)."""
    fields = {name: getattr(request, name) for name in RequestOut.model_fields if name != "identity"}
    return RequestOut(**fields, identity=_masked(keyring, request))


def step_out(step: RequestStep) -> StepOut:
    return StepOut(
        id=step.id,
        position=step.position,
        datastore=step.datastore_key,
        connector=step.connector,
        action=step.action,
        status=step.status,
        attempts=step.attempts,
        last_error=step.last_error,
        started_at=step.started_at,
        finished_at=step.finished_at,
        counts=step.counts or {},
        retained=step.retained or [],
    )


def task_out(task: ManualTask) -> TaskOut:
    return TaskOut.model_validate(task, from_attributes=True)


def package_out(package: AccessPackage | None) -> PackageOut | None:
    if package is None:
        return None
    return PackageOut(
        id=package.id,
        created_at=package.created_at,
        expires_at=package.expires_at,
        downloads=package.downloads,
        max_downloads=package.max_downloads,
        size=package.size,
        purged=package.purged_at is not None,
    )


def hold_out(hold: LegalHold) -> HoldOut:
    return HoldOut.model_validate(hold, from_attributes=True)


def public_status(request: DsrRequest, package: AccessPackage | None) -> PublicStatusOut:
    """What the subject sees of their own request."""
    from privet.requests.law.triage import REFUSAL_CODES
    from privet.requests.service import effective_due

    reason = REFUSAL_CODES.get(request.refusal_code) if request.refusal_code else None
    return PublicStatusOut(
        reference=request.reference,
        type=request.type,
        status=request.status,
        received_at=request.received_at,
        verified_at=request.verified_at,
        due_on=effective_due(request),
        completed_at=request.completed_at,
        refusal_code=request.refusal_code,
        refusal_reason=reason.text(request.language) if reason else None,
        package_expires_at=package.expires_at if package and package.purged_at is None else None,
        profile=request.profile,
        fee={"amount": request.fee.get("amount"), "currency": request.fee.get("currency")}
        if request.status == "fee_due" and request.fee
        else None,
    )


class BackupItem(Protocol):
    """What `backup_out` reads of a `privet.requests.workflow.backups.BackupDue` (workflow builds on this module)."""

    @property
    def reference(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def completed_at(self) -> datetime | None: ...
    @property
    def clear_by(self) -> date: ...
    @property
    def reminded_at(self) -> datetime | None: ...
    @property
    def datastores(self) -> tuple[str, ...]: ...
    def state(self, today: date) -> str: ...


def backup_out(item: BackupItem, today: date) -> BackupOut:
    return BackupOut(
        reference=item.reference,
        type=item.type,
        completed_at=item.completed_at,
        clear_by=item.clear_by,
        state=item.state(today),
        reminded_at=item.reminded_at,
        datastores=list(item.datastores),
    )
