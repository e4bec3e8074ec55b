"""Retention runs: what a sweep did, table by table, so a killed run resumes and its record stays as proof."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from privet.db.base import Base, IdMixin
from privet.kit.clock import utcnow


class RetentionRun(IdMixin, Base):
    """One sweep. `now` is fixed when it starts, so a resumed run uses the same cut-offs."""

    __tablename__ = "retention_runs"

    status: Mapped[str] = mapped_column(
        String(20), default="running", index=True
    )  # running | done | failed; dry_running | dry_done
    now: Mapped[datetime]  # the moment the cut-offs are computed from
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    actor: Mapped[str] = mapped_column(String(120))
    datamap_version: Mapped[int | None]
    # "datastore.table" → {"action", "cutoff", "deleted", "updated", "kept_referenced", "kept_held", "done"}
    progress: Mapped[dict] = mapped_column(default=dict)
    error: Mapped[str | None] = mapped_column(Text)  # which datastore/table failed and why, no personal data
