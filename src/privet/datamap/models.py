"""Data map tables: the applied manifest, normalised so officers can query it and later code can read it.

Objects are identified by their manifest key (unique per section); rows are rewritten by `service.apply`.
Fields repeat their dataset key and table name so connectors and registers can query them directly.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from privet.db.base import Base, IdMixin, TimestampMixin


class ErasureColumns:
    """The erasure action of a table (default) or of a field (override)."""

    erasure_action: Mapped[str | None] = mapped_column(String(20))
    erasure_reason: Mapped[str | None] = mapped_column(Text)
    erasure_duration: Mapped[str | None] = mapped_column(String(40))
    erasure_legal_reference: Mapped[str | None] = mapped_column(Text)


class DatamapOrganisation(IdMixin, TimestampMixin, Base):
    """The organisation profile (at most one row)."""

    __tablename__ = "datamap_organisation"

    key: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(Text)
    profile: Mapped[str] = mapped_column(String(10))
    region: Mapped[str] = mapped_column(String(10))
    child_age: Mapped[int] = mapped_column(Integer)
    adults_only: Mapped[bool]
    responsible: Mapped[dict]
    contacts: Mapped[list | None] = mapped_column(default=list)  # responsible contact per region (P41)
    languages: Mapped[list]
    retention: Mapped[list | None] = mapped_column(default=list)  # category rules (schemas.CategoryRetention)


class DatamapSystem(IdMixin, TimestampMixin, Base):
    __tablename__ = "datamap_systems"

    key: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    owner: Mapped[str | None] = mapped_column(Text)


class DatamapDatastore(IdMixin, TimestampMixin, Base):
    __tablename__ = "datamap_datastores"

    key: Mapped[str] = mapped_column(String(80), unique=True)
    system_key: Mapped[str] = mapped_column(String(80), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    region: Mapped[str] = mapped_column(String(10))
    secret: Mapped[str | None] = mapped_column(String(80))
    description: Mapped[str | None] = mapped_column(Text)


class DatamapDataset(IdMixin, TimestampMixin, Base):
    __tablename__ = "datamap_datasets"

    key: Mapped[str] = mapped_column(String(80), unique=True)
    datastore_key: Mapped[str] = mapped_column(String(80), index=True)
    description: Mapped[str | None] = mapped_column(Text)
    sources: Mapped[list]  # keys, or objects with categories, third party and legal basis (schemas.Source)
    tables: Mapped[list[DatamapTable]] = relationship(
        back_populates="dataset", cascade="all, delete-orphan", order_by="DatamapTable.position"
    )


class DatamapTable(ErasureColumns, IdMixin, Base):
    __tablename__ = "datamap_tables"
    __table_args__ = (UniqueConstraint("dataset_id", "name"),)

    dataset_id: Mapped[str] = mapped_column(ForeignKey("datamap_datasets.id", ondelete="CASCADE"))
    dataset_key: Mapped[str] = mapped_column(String(80), index=True)
    name: Mapped[str] = mapped_column(String(128))
    position: Mapped[int] = mapped_column(Integer)
    description: Mapped[str | None] = mapped_column(Text)
    primary_key: Mapped[list]
    retention: Mapped[dict | list | None] = mapped_column(JSON)  # the table's retention rule(s), read whole
    timestamps: Mapped[dict | None]  # trigger → timestamp column, for category rules
    dataset: Mapped[DatamapDataset] = relationship(back_populates="tables")
    fields: Mapped[list[DatamapField]] = relationship(
        back_populates="table", cascade="all, delete-orphan", order_by="DatamapField.position"
    )


class DatamapField(ErasureColumns, IdMixin, Base):
    __tablename__ = "datamap_fields"
    __table_args__ = (UniqueConstraint("table_id", "name"),)

    table_id: Mapped[str] = mapped_column(ForeignKey("datamap_tables.id", ondelete="CASCADE"))
    dataset_key: Mapped[str] = mapped_column(String(80), index=True)
    table_name: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(128))
    position: Mapped[int] = mapped_column(Integer)
    category: Mapped[str | None] = mapped_column(String(160), index=True)
    identity: Mapped[str | None] = mapped_column(String(80), index=True)
    references: Mapped[str | None] = mapped_column(String(400))
    relation: Mapped[str | None] = mapped_column(String(20))  # belongs_to | owns | points_to (None: belongs_to)
    inferred: Mapped[bool | None]  # reference guessed by scaffold, awaiting review
    match: Mapped[str | None] = mapped_column(String(20))  # exact | casefold | phone (None: the type's default)
    part: Mapped[str | None] = mapped_column(String(80))  # part of a structured value (address line1, postcode…)
    indexed: Mapped[bool | None]
    description: Mapped[str | None] = mapped_column(Text)
    table: Mapped[DatamapTable] = relationship(back_populates="fields")


class DatamapActivity(IdMixin, TimestampMixin, Base):
    """A processing activity; list-valued attributes are JSON (they are read whole, never joined)."""

    __tablename__ = "datamap_activities"

    key: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(Text)
    purpose: Mapped[str] = mapped_column(String(160), index=True)
    legal_basis: Mapped[str] = mapped_column(String(80))
    required_categories: Mapped[list]
    optional_categories: Mapped[list]
    subject_types: Mapped[list]
    datasets: Mapped[list]
    retention: Mapped[dict | None]
    recipients: Mapped[list]
    processors: Mapped[list]
    storage_locations: Mapped[list]
    transfers: Mapped[list]
    description: Mapped[str | None] = mapped_column(Text)


class DatamapVersion(Base):
    """One applied, changed data map: the full canonical document and what changed."""

    __tablename__ = "datamap_versions"

    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    applied_at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(120))
    sha256: Mapped[str] = mapped_column(String(64))
    document: Mapped[dict]
    summary: Mapped[dict]
