"""Incident register tables (P26); also imports the cross-border transfer tables (P29) so the metadata has them.

No personal data here: an incident holds categories, counts, times and the officer's description of what
happened (checked for things that look like e-mail addresses, phone or ID numbers when recorded).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from privet.db.base import Base, IdMixin, TimestampMixin
from privet.registers.crossborder_models import CrossBorderTransfer, CrossBorderTransferSubject  # noqa: F401

SEVERITIES = ("general", "relatively_major", "major", "especially_major")  # the PRC levels, lowest first


class Incident(IdMixin, TimestampMixin, Base):
    """A personal information security incident and the notification clocks it starts."""

    __tablename__ = "incidents"

    reference: Mapped[str] = mapped_column(String(20), unique=True)  # e.g. I-7K3M9Q2P
    title: Mapped[str] = mapped_column(String(200))
    severity: Mapped[str] = mapped_column(String(20))
    occurred_at: Mapped[datetime | None]
    discovered_at: Mapped[datetime] = mapped_column(index=True)
    categories: Mapped[list]
    subjects_affected: Mapped[int] = mapped_column(Integer)
    ciio: Mapped[bool] = mapped_column(Boolean, default=False)  # a critical information infrastructure operator
    high_risk: Mapped[bool] = mapped_column(Boolean, default=False)  # likely high risk to people: tell them
    regimes: Mapped[list]  # "prc", "gdpr": which sets of clocks apply
    facts: Mapped[dict]  # what_happened / consequences / measures / advice -> {language: text}
    notified: Mapped[dict] = mapped_column(default=dict)  # clock key -> ISO time the notice went out
    status: Mapped[str] = mapped_column(String(20), default="open")  # open | closed
    recorded_by: Mapped[str] = mapped_column(String(120))
