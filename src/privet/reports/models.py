"""Personal information protection impact assessments (PIPL Art 55, 56): drafts, answers, conclusions."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from privet.db.base import Base, IdMixin, TimestampMixin


class ImpactAssessment(IdMixin, TimestampMixin, Base):
    """One assessment of one processing activity; drafted automatically from the data map."""

    __tablename__ = "impact_assessments"

    reference: Mapped[str] = mapped_column(String(20), unique=True)  # e.g. A-7K3M9Q2P
    activity_key: Mapped[str] = mapped_column(String(80), index=True)
    activity_name: Mapped[str] = mapped_column(Text)
    triggers: Mapped[list]  # sensitive_data, processor, sharing, public_disclosure, cross_border
    datamap_version: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="draft")  # draft | concluded | superseded
    answers: Mapped[dict] = mapped_column(default=dict)  # question key -> answer text
    outcome: Mapped[str | None] = mapped_column(String(40))  # acceptable | acceptable_with_measures | not_acceptable
    conclusion: Mapped[str | None] = mapped_column(Text)
    concluded_at: Mapped[datetime | None]
    concluded_by: Mapped[str | None] = mapped_column(String(120))
    retain_until: Mapped[date | None] = mapped_column(Date)  # PIPL Art 56: kept at least three years
