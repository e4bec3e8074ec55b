"""Job rows: the durable record of background work, whichever backend runs it (inline threads or Celery).

A job row is the source of truth: Celery only carries the job id. A worker claims a row by setting a lease;
a row whose lease ran out (the worker was killed) is claimed again, so handlers must be resumable.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from privet.db.base import Base, IdMixin
from privet.kit.clock import utcnow


class Job(IdMixin, Base):
    """One unit of background work: a handler kind and a small JSON payload of ids (never personal data)."""

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_due", "status", "run_at"),)

    kind: Mapped[str] = mapped_column(String(80))
    payload: Mapped[dict] = mapped_column(default=dict)
    dedupe_key: Mapped[str | None] = mapped_column(String(160), unique=True)  # one live job per key
    status: Mapped[str] = mapped_column(String(20), default="queued")  # queued | running | done | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=5)
    run_at: Mapped[datetime] = mapped_column(default=utcnow)  # not before (back-off after a failure)
    lease_until: Mapped[datetime | None]  # a running job whose lease passed is claimed again
    worker: Mapped[str | None] = mapped_column(String(120))
    last_error: Mapped[str | None] = mapped_column(Text)  # a class name and message, never personal data
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
