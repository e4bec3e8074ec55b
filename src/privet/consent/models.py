"""The consent ledger (append-only), its current-state projection, channel preferences, visitors, webhooks."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from privet.db.append_only import guard
from privet.db.base import Base, IdMixin
from privet.subjects import models as _subjects  # noqa: F401 - defines `subjects`, which our foreign keys name

SeqType = BigInteger().with_variant(Integer, "sqlite")


class ConsentRecord(Base):
    """One consent event for one purpose (ISO/IEC TS 27560 fields). Never updated, never deleted."""

    __tablename__ = "consent_records"
    __table_args__ = (
        # partial: a record names a subject or a visitor, so each insert maintains one of the two (see 0006)
        Index(
            "ix_consent_records_subject",
            "subject_id",
            "purpose",
            "at",
            postgresql_where=text("subject_id IS NOT NULL"),
            sqlite_where=text("subject_id IS NOT NULL"),
        ),
        Index(
            "ix_consent_records_visitor",
            "visitor_id",
            "purpose",
            "at",
            postgresql_where=text("visitor_id IS NOT NULL"),
            sqlite_where=text("visitor_id IS NOT NULL"),
        ),
        # the newest record of a method or a separate-consent kind (the evidence page; see 0014)
        Index("ix_consent_records_method", "method", "seq"),
        Index(
            "ix_consent_records_separate_kind",
            "separate_kind",
            "seq",
            postgresql_where=text("separate_kind IS NOT NULL"),
            sqlite_where=text("separate_kind IS NOT NULL"),
        ),
    )

    seq: Mapped[int] = mapped_column(SeqType, primary_key=True, autoincrement=True)  # change-feed order
    id: Mapped[str] = mapped_column(String(32), unique=True)  # public record id (on receipts)
    subject_id: Mapped[str | None] = mapped_column(ForeignKey("subjects.id"))
    visitor_id: Mapped[str | None] = mapped_column(String(64))  # anonymous banner visitor
    purpose: Mapped[str] = mapped_column(String(160))
    categories: Mapped[list] = mapped_column(default=list)
    legal_basis: Mapped[str] = mapped_column(String(40))  # consent | separate_consent
    separate_kind: Mapped[str | None] = mapped_column(String(20))  # sensitive|third_party|disclosure|cross_border
    # given | refused | withdrawn | expired | renewed, and for non-consent purposes: objected | restricted | lifted
    event: Mapped[str] = mapped_column(String(12))
    at: Mapped[datetime]  # when the person acted (imports keep the original time)
    recorded_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    notice_key: Mapped[str | None] = mapped_column(String(80))
    notice_version: Mapped[int | None]
    language: Mapped[str | None] = mapped_column(String(10))
    method: Mapped[str] = mapped_column(String(20))  # banner | form | api | guardian | import | staff | gpc
    jurisdiction: Mapped[str | None] = mapped_column(String(10))
    guardian_id: Mapped[str | None] = mapped_column(ForeignKey("subjects.id"))  # given by a guardian for a child
    evidence: Mapped[dict] = mapped_column(default=dict)  # client fingerprint, user agent, gpc flag, source ids
    actor: Mapped[str] = mapped_column(String(120))


guard(ConsentRecord.__table__)  # the database refuses UPDATE and DELETE (privet.db.append_only)


class ConsentState(Base):
    """Current state per holder and purpose, maintained with each record and rebuildable from the ledger."""

    __tablename__ = "consent_state"

    holder: Mapped[str] = mapped_column(String(80), primary_key=True)  # "s:<subject id>" or "v:<visitor id>"
    purpose: Mapped[str] = mapped_column(String(160), primary_key=True)
    event: Mapped[str] = mapped_column(String(12))  # the last event
    record_seq: Mapped[int] = mapped_column(SeqType)
    legal_basis: Mapped[str] = mapped_column(String(40))
    separate_kind: Mapped[str | None] = mapped_column(String(20))
    categories: Mapped[list] = mapped_column(default=list)
    notice_version: Mapped[int | None]
    guardian_id: Mapped[str | None] = mapped_column(String(32))
    at: Mapped[datetime]
    expires_at: Mapped[datetime | None]


class ChannelPreference(Base):
    """Whether a subject wants messages for a purpose on a channel (e-mail, SMS, push)."""

    __tablename__ = "channel_preferences"

    subject_id: Mapped[str] = mapped_column(ForeignKey("subjects.id", ondelete="CASCADE"), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(160), primary_key=True)
    channel: Mapped[str] = mapped_column(String(10), primary_key=True)
    opted_in: Mapped[bool]
    at: Mapped[datetime]


class VisitorLink(Base):
    """An anonymous visitor id that signed in as a subject: their banner choices belong to that subject."""

    __tablename__ = "visitor_links"

    visitor_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    subject_id: Mapped[str] = mapped_column(ForeignKey("subjects.id", ondelete="CASCADE"), index=True)
    linked_at: Mapped[datetime]


class WebhookEndpoint(IdMixin, Base):
    """A company endpoint that receives consent changes, signed with its own secret."""

    __tablename__ = "webhook_endpoints"

    url: Mapped[str] = mapped_column(String(500))
    secret_enc: Mapped[bytes] = mapped_column(LargeBinary)
    events: Mapped[list] = mapped_column(default=list)  # e.g. ["consent.changed"]
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]


class WebhookDelivery(IdMixin, Base):
    """One delivery of one change to one endpoint: retried with back-off; failures stay visible."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),)

    endpoint_id: Mapped[str] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict]  # ids, purposes and events only: no identity values
    status: Mapped[str] = mapped_column(String(12), default="pending")  # pending | delivered | failed
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    last_status_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(String(200))
    delivered_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class Campaign(IdMixin, Base):
    """A material change's re-consent campaign (P30): the people whose consent covers a changed purpose are told."""

    __tablename__ = "consent_campaigns"
    __table_args__ = (UniqueConstraint("notice_key", "notice_version", name="uq_consent_campaigns_notice_version"),)

    notice_key: Mapped[str] = mapped_column(String(80))
    notice_version: Mapped[int]
    purposes: Mapped[list] = mapped_column(default=list)  # the version's material purposes
    moment: Mapped[datetime]  # when the change takes hold: consent given before it must be given again
    created_at: Mapped[datetime]


class CampaignMessage(IdMixin, Base):
    """One message of a campaign to one person: queued, then sent (the sender accepted it) or failed (retried until
    the job's attempts ran out), or no_address. Holds no address: it is read from the subject when sending."""

    __tablename__ = "consent_campaign_messages"
    __table_args__ = (
        UniqueConstraint("campaign_id", "subject_id", name="uq_consent_campaign_messages_subject"),
        Index("ix_consent_campaign_messages_status", "campaign_id", "status"),
    )

    campaign_id: Mapped[str] = mapped_column(ForeignKey("consent_campaigns.id", ondelete="CASCADE"))
    subject_id: Mapped[str] = mapped_column(ForeignKey("subjects.id", ondelete="CASCADE"), index=True)
    purposes: Mapped[list] = mapped_column(default=list)  # the purposes this person had consented to, now changed
    channel: Mapped[str | None] = mapped_column(String(10))  # email | sms (None: no address)
    language: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(12))  # queued | sent | failed | no_address
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(String(200))  # the error's class and message: no address
    sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
