"""Data-subject requests: the request, its per-datastore steps, manual tasks, access packages, legal holds.

No plaintext personal data in these rows: the requester's identity, rectification values, complaint text and
fetched rows are encrypted with the keyring (context strings in `privet.requests.crypto`).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from privet.db.base import Base, IdMixin, TimestampMixin
from privet.kit.clock import utcnow
from privet.subjects import models as _subjects  # noqa: F401 - defines `subjects`, which our foreign keys name

# Request types (the list) and statuses; kept as plain strings in the store.
TYPES = (
    "access",
    "portability",
    "rectification",
    "erasure",
    "closure",
    "withdrawal",
    "restriction",
    "explanation",
    "complaint",
)
STATUSES = (
    "unverified",  # filed, identity not yet proven: nothing runs, the deadline clock waits
    "pending_approval",  # verified; this type needs an officer's approval first
    "fee_due",  # verified; a fee is due (past the free number): nothing runs until it is paid or waived (P18)
    "running",  # approved (or automatic): steps are queued or executing
    "waiting",  # a manual task or an HTTP callback is outstanding
    "completed",  # every step done; result recorded (package ready for access/portability)
    "completed_with_exceptions",  # done, but personal rows were found that could not be erased (result says why)
    "refused",  # refused with a reason code; the requester was told why and where to complain
    "failed",  # a step failed after its retries; the request says which datastore
    "expired",  # never verified within the window; its data purged
)


class DsrRequest(IdMixin, TimestampMixin, Base):
    """One request from (or for) a data subject."""

    __tablename__ = "dsr_requests"
    __table_args__ = (
        Index("ix_dsr_requests_status_due", "status", "due_on"),
        Index("ix_dsr_requests_subject_type", "subject_id", "type", "received_at"),
    )

    reference: Mapped[str] = mapped_column(String(20), unique=True)  # shown to people, e.g. R-7K3M9Q2P
    type: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(30), default="unverified")
    subject_id: Mapped[str | None] = mapped_column(ForeignKey("subjects.id"), index=True)  # set once verified
    identity_type: Mapped[str] = mapped_column(String(60))
    identity_blind_index: Mapped[str] = mapped_column(String(64), index=True)
    identity_enc: Mapped[bytes] = mapped_column(LargeBinary)  # to reach the requester; purged on expiry
    channel: Mapped[str] = mapped_column(String(20))  # api | privacy_centre | staff_phone | staff_email | ...
    filed_by: Mapped[str] = mapped_column(String(120))  # audit actor that filed it (subject:..., user:...)
    agent: Mapped[dict | None]  # authorised agent: {name, organisation, authorisation} (P6)
    language: Mapped[str] = mapped_column(String(10), default="en")  # en | zh_CN
    profile: Mapped[str] = mapped_column(String(10))  # jurisdiction profile: pipl | gdpr | ccpa
    # where the profile came from (P41): organisation | declared | token | datastore (requests.intake.jurisdiction)
    profile_source: Mapped[str | None] = mapped_column(String(20))
    declared_region: Mapped[str | None] = mapped_column(String(10))  # where the person said they live, at filing
    organisation_ref: Mapped[str | None] = mapped_column(String(120))  # filed as an organisation's representative
    details: Mapped[dict] = mapped_column(default=dict)  # purposes, categories: no personal values
    details_enc: Mapped[bytes | None] = mapped_column(LargeBinary)  # rectification values, complaint text
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    verified_at: Mapped[datetime | None]
    verify_by: Mapped[datetime | None]  # unverified past this: expired and purged
    due_on: Mapped[date | None] = mapped_column(Date)  # legal deadline (counted from verification)
    extended_to: Mapped[date | None] = mapped_column(Date)
    extension_reason: Mapped[str | None] = mapped_column(Text)
    acknowledge_by: Mapped[date | None] = mapped_column(Date)  # CCPA: acknowledgement within 10 business days
    repeat_of: Mapped[str | None] = mapped_column(String(32))  # an earlier request of the same kind in the window
    # past the free number: {"amount": "...", "currency": "CNY", "reason": "...", "action": "charge" |
    # "flag_for_officer"}; once settled also "status": "paid" | "waived", "settled_by", "settled_at", "note" (P18)
    fee: Mapped[dict | None]
    approved_by: Mapped[str | None] = mapped_column(String(120))
    approved_at: Mapped[datetime | None]
    assignee: Mapped[str | None] = mapped_column(String(120))
    refusal_code: Mapped[str | None] = mapped_column(String(40))
    refusal_note: Mapped[str | None] = mapped_column(Text)  # the officer's note (no personal data)
    completed_at: Mapped[datetime | None]
    result: Mapped[dict] = mapped_column(default=dict)  # counts per datastore/table, retained fields, backups date
    # erasure/closure: the day the erased data has left every backup (P22), and when the officer was told it must
    backups_clear_by: Mapped[date | None] = mapped_column(Date, index=True)
    backups_reminded_at: Mapped[datetime | None]

    steps: Mapped[list[RequestStep]] = relationship(
        back_populates="request", cascade="all, delete-orphan", order_by="RequestStep.position"
    )


class RequestStep(IdMixin, Base):
    """One datastore's part of a request: fetch, erase or rectify there, run as one job."""

    __tablename__ = "dsr_steps"
    __table_args__ = (UniqueConstraint("request_id", "datastore_key", "action"),)

    request_id: Mapped[str] = mapped_column(ForeignKey("dsr_requests.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    datastore_key: Mapped[str] = mapped_column(String(80))
    connector: Mapped[str] = mapped_column(String(20))  # sqlite | postgresql | mysql | http | manual
    action: Mapped[str] = mapped_column(String(20))  # fetch | erase | rectify | restrict
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending|running|waiting|done|failed|skipped
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)  # no personal data: the datastore and the error class
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    counts: Mapped[dict] = mapped_column(default=dict)  # {table: {"found"|"deleted"|"nulled"|...: n}}
    retained: Mapped[list] = mapped_column(default=list)  # [{table, field, reason, until, legal_reference}]
    output_enc: Mapped[bytes | None] = mapped_column(LargeBinary)  # fetched rows (encrypted JSON) for the package
    # erasure/rectification: what the connector is about to commit on the company's database (counts and the
    # rows' expected state, encrypted), written before that commit so a resumed step can tell whether it happened
    intent_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    callback_token_hash: Mapped[str | None] = mapped_column(String(64))  # HTTP connector's asynchronous answer

    request: Mapped[DsrRequest] = relationship(back_populates="steps")


class ManualTask(IdMixin, TimestampMixin, Base):
    """A person's part of a request (manual connector): assignee, due date, and the upload or confirmation."""

    __tablename__ = "dsr_manual_tasks"

    step_id: Mapped[str] = mapped_column(ForeignKey("dsr_steps.id", ondelete="CASCADE"), unique=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("dsr_requests.id", ondelete="CASCADE"), index=True)
    assignee: Mapped[str | None] = mapped_column(String(120))
    due_on: Mapped[date | None] = mapped_column(Date)
    instructions: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="open")  # open | done
    completed_by: Mapped[str | None] = mapped_column(String(120))
    completed_at: Mapped[datetime | None]
    note: Mapped[str | None] = mapped_column(Text)


class AccessPackage(IdMixin, Base):
    """The zip answering an access/portability/explanation request, encrypted at rest, downloadable a few times."""

    __tablename__ = "dsr_packages"

    request_id: Mapped[str] = mapped_column(ForeignKey("dsr_requests.id", ondelete="CASCADE"), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    max_downloads: Mapped[int] = mapped_column(Integer)
    downloads: Mapped[int] = mapped_column(Integer, default=0)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 of the download token
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))  # of the plaintext zip, for the record
    blob_enc: Mapped[bytes | None] = mapped_column(LargeBinary)  # None once purged after expiry
    purged_at: Mapped[datetime | None]


class LegalHold(IdMixin, Base):
    """A hold on a subject's data: erasure is blocked (and says why) while it is active."""

    __tablename__ = "legal_holds"

    subject_id: Mapped[str] = mapped_column(ForeignKey("subjects.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    reference: Mapped[str | None] = mapped_column(String(200))  # case number, authority's letter
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    released_by: Mapped[str | None] = mapped_column(String(120))
    released_at: Mapped[datetime | None]
