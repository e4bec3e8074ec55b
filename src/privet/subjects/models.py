"""Data subjects, their identities (encrypted, blind-indexed), guardianship and verification challenges."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from privet.db.base import Base, IdMixin, TimestampMixin


class Subject(IdMixin, TimestampMixin, Base):
    """A person Privet knows about. Holds no plaintext personal data; identities hang off it."""

    __tablename__ = "subjects"

    subject_type: Mapped[str | None] = mapped_column(String(60))  # taxonomy subject type, e.g. customer
    status: Mapped[str] = mapped_column(String(20), default="active")  # active | closed | merged
    merged_into_id: Mapped[str | None] = mapped_column(ForeignKey("subjects.id"))
    # The organisation the person acts for (P6: a representative of an "authorised entity"), as the company refers
    # to it (its name or account reference): from a trusted token's `organisation` claim or a request filed for it.
    organisation_ref: Mapped[str | None] = mapped_column(String(120))
    # Where the person is (P41): ISO 3166 code (CN, DE, US-CA), EU or EEA, and the law whose deadlines, refusal
    # grounds and complaint routes their requests get (pipl | gdpr | ccpa; None: the organisation's profile).
    # Source: declared (by the person, at filing) | token (a trusted token's `region` claim) | datastore (the
    # region of the datastore their identity was found in). See `privet.subjects.jurisdiction`.
    region: Mapped[str | None] = mapped_column(String(10))
    jurisdiction: Mapped[str | None] = mapped_column(String(10))
    jurisdiction_source: Mapped[str | None] = mapped_column(String(20))
    # Age: the birth date is encrypted; the two derived dates answer "is a child / a minor at time t" fast.
    birth_date_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    age_attested_at: Mapped[datetime | None]
    age_source: Mapped[str | None] = mapped_column(String(40))  # birth_date | attestation | guardian
    child_until: Mapped[date | None] = mapped_column(Date)  # first day no longer a child (profile threshold)
    minor_until: Mapped[date | None] = mapped_column(Date)  # first day aged 18
    # Adults-only profiles refuse minors and flag them; the retention sweep deletes flagged subjects.
    deletion_flagged_at: Mapped[datetime | None] = mapped_column(index=True)
    deletion_reason: Mapped[str | None] = mapped_column(String(60))
    # Subject sessions issued before this moment are over (an erasure or account closure ends every session, P45)
    sessions_valid_from: Mapped[datetime | None]

    identities: Mapped[list[Identity]] = relationship(back_populates="subject", cascade="all, delete-orphan")


class Identity(IdMixin, Base):
    """One identifier of a subject (email, phone, user_id, device_serial, wechat_openid, custom)."""

    __tablename__ = "subject_identities"
    __table_args__ = (UniqueConstraint("blind_index", name="uq_subject_identities_blind_index"),)

    subject_id: Mapped[str] = mapped_column(ForeignKey("subjects.id", ondelete="CASCADE"), index=True)
    type: Mapped[str] = mapped_column(String(60))
    blind_index: Mapped[str] = mapped_column(String(64))  # Keyring.blind_index(type, normalised value)
    value_enc: Mapped[bytes] = mapped_column(LargeBinary)  # Keyring.encrypt(value, context=f"identity:{type}")
    verified_at: Mapped[datetime | None]
    created_at: Mapped[datetime]

    subject: Mapped[Subject] = relationship(back_populates="identities")


class GuardianLink(IdMixin, Base):
    """A guardian acting for a child, with the relationship attested and how the guardian was verified."""

    __tablename__ = "guardian_links"
    __table_args__ = (Index("ix_guardian_links_child", "child_id", "revoked_at"),)

    guardian_id: Mapped[str] = mapped_column(ForeignKey("subjects.id", ondelete="CASCADE"))
    child_id: Mapped[str] = mapped_column(ForeignKey("subjects.id", ondelete="CASCADE"))
    relationship: Mapped[str] = mapped_column(String(30))  # parent | legal_guardian
    attested_at: Mapped[datetime]
    verified_at: Mapped[datetime | None]  # when the guardian's identity was verified (code or token)
    verification_method: Mapped[str | None] = mapped_column(String(30))
    evidence: Mapped[dict] = mapped_column(default=dict)  # hashed client address, notice version, no plaintext
    revoked_at: Mapped[datetime | None]


class VerificationChallenge(IdMixin, Base):
    """A one-time code sent to an identity. The code is stored hashed."""

    __tablename__ = "verification_challenges"
    __table_args__ = (
        Index("ix_verification_challenges_target", "blind_index", "created_at"),
        Index("ix_verification_challenges_client", "client_hash", "created_at"),
    )

    blind_index: Mapped[str] = mapped_column(String(64))
    identity_type: Mapped[str] = mapped_column(String(60))
    channel: Mapped[str] = mapped_column(String(10))  # email | sms
    purpose: Mapped[str] = mapped_column(String(40), default="verify")  # verify | request | guardian
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    locked_at: Mapped[datetime | None]
    consumed_at: Mapped[datetime | None]
    client_hash: Mapped[str | None] = mapped_column(String(32))
    # The identity value, encrypted, kept only until the challenge is used, locked or expired: a correct code
    # then finds or creates the subject without the caller sending the value again.
    value_enc: Mapped[bytes | None] = mapped_column(LargeBinary)


class UsedToken(Base):
    """Trusted subject tokens already accepted (by `jti`), kept until they expire, so replays are refused."""

    __tablename__ = "used_subject_tokens"

    jti_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)
