"""The company's taxonomy extension, stored when a data map is applied (one row)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from privet.db.base import Base
from privet.kit.clock import utcnow


class TaxonomyExtension(Base):
    """The additions a company made to the default taxonomy, as plain JSON, with a digest to detect changes."""

    __tablename__ = "taxonomy_extension"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)  # always 1
    content: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    digest: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str] = mapped_column(String(120))
