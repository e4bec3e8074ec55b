"""Policy documents and notices, each with numbered versions in several languages."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from privet.db.base import Base, IdMixin


class Notice(IdMixin, Base):
    """A notice: the main privacy policy, a product-specific notice or a just-in-time notice (P31)."""

    __tablename__ = "notices"

    key: Mapped[str] = mapped_column(String(80), unique=True)
    kind: Mapped[str] = mapped_column(String(20))  # policy | product | just_in_time
    product: Mapped[str | None] = mapped_column(String(80))
    title: Mapped[dict] = mapped_column(default=dict)  # lang -> title
    created_at: Mapped[datetime]


class NoticeVersion(IdMixin, Base):
    """One published version. `content` holds per-language text and its recognised sections."""

    __tablename__ = "notice_versions"
    __table_args__ = (UniqueConstraint("notice_id", "version", name="uq_notice_versions_notice_version"),)

    notice_id: Mapped[str] = mapped_column(ForeignKey("notices.id", ondelete="CASCADE"), index=True)
    version: Mapped[int]
    effective_date: Mapped[date] = mapped_column(Date)
    content_hash: Mapped[str] = mapped_column(String(64))  # sha256 over the canonical content of all languages
    # {lang: {"title", "text", "format", "preamble", "sections": [{"number", "title", "text", "level"}]}}
    content: Mapped[dict]
    purposes: Mapped[list] = mapped_column(default=list)  # purpose keys this version covers
    material_purposes: Mapped[list] = mapped_column(default=list)  # purposes whose change is material here
    # {"previous_version", "datamap_version" (judged against), "material": {purpose: [reasons]},
    #  "sections": {lang: {"added", "removed", "changed"}}}
    change_summary: Mapped[dict] = mapped_column(default=dict)
    published_at: Mapped[datetime]
    published_by: Mapped[str] = mapped_column(String(120))
