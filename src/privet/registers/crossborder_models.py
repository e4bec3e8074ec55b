"""Cross-border transfer register tables (P29), imported by `incidents_models` so `privet.tables` sees them.

A transfer row holds counts, categories and keys only; the subjects of a transfer (when known) are Privet
subject ids in `crossborder_transfer_subjects`, which is what lets the yearly counts be of distinct people.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from privet.db.base import Base, IdMixin, TimestampMixin
from privet.kit.clock import utcnow


class CrossBorderTransfer(IdMixin, TimestampMixin, Base):
    """One transfer of personal information out of its origin region."""

    __tablename__ = "crossborder_transfers"

    reference: Mapped[str] = mapped_column(String(20), unique=True)  # shown to officers, e.g. X-7K3M9Q2P
    transferred_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    origin: Mapped[str] = mapped_column(String(10), index=True)  # region the data leaves (CN for PIPL counts)
    destination: Mapped[str] = mapped_column(String(10))
    mechanism: Mapped[str] = mapped_column(String(40))  # standard_contract, certification, security_assessment...
    mechanism_reference: Mapped[str | None] = mapped_column(Text)  # filing number, certificate, approval
    recipient: Mapped[str] = mapped_column(String(160))  # recipient key or name (an organisation, not a person)
    activity_key: Mapped[str | None] = mapped_column(String(80))
    purpose: Mapped[str | None] = mapped_column(String(160))
    categories: Mapped[list]
    subject_count: Mapped[int] = mapped_column(Integer)
    sensitive_subject_count: Mapped[int] = mapped_column(Integer, default=0)
    subjects_known: Mapped[bool] = mapped_column(Boolean, default=False)  # subject ids stored: distinct counting
    filtered_out: Mapped[dict] = mapped_column(default=dict)  # decision reason -> subjects left out (no consent)
    important_data: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(120))
    subjects: Mapped[list[CrossBorderTransferSubject]] = relationship(
        back_populates="transfer", cascade="all, delete-orphan"
    )


class CrossBorderTransferSubject(IdMixin, Base):
    """One subject whose data went with a transfer (after the consent filter)."""

    __tablename__ = "crossborder_transfer_subjects"
    __table_args__ = (UniqueConstraint("transfer_id", "subject_id"),)

    transfer_id: Mapped[str] = mapped_column(ForeignKey("crossborder_transfers.id", ondelete="CASCADE"), index=True)
    subject_id: Mapped[str] = mapped_column(String(32), index=True)
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False)
    transfer: Mapped[CrossBorderTransfer] = relationship(back_populates="subjects")
