"""Searching the applied data map: systems, datastores, datasets, fields and activities by key, name or category."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import QueryableAttribute, Session, selectinload

from privet.datamap import rows
from privet.datamap.models import (
    DatamapActivity,
    DatamapDataset,
    DatamapDatastore,
    DatamapField,
    DatamapSystem,
    DatamapTable,
)
from privet.datamap.schemas import Dataset, Datastore, ProcessingActivity, System

LIMIT = 500


class FieldOut(BaseModel):
    """One field of the data map with where it lives."""

    dataset: str
    table: str
    name: str
    category: str | None = None
    identity: str | None = None
    references: str | None = None
    indexed: bool | None = None
    erasure_action: str | None = None


def _like(q: str | None, *columns: QueryableAttribute[Any]) -> ColumnElement[bool]:
    """`column ILIKE %q%` over any of `columns` (portable: SQLAlchemy lowers both sides where needed)."""
    pattern = f"%{(q or '').strip()}%"
    return or_(*(c.ilike(pattern) for c in columns))


def systems(session: Session, q: str | None = None) -> list[System]:
    """Systems whose key or name contains `q`."""
    stmt = select(DatamapSystem).where(_like(q, DatamapSystem.key, DatamapSystem.name)).order_by(DatamapSystem.key)
    return [rows.to_schema("systems", r) for r in session.scalars(stmt.limit(LIMIT))]


def datastores(session: Session, q: str | None = None) -> list[Datastore]:
    """Datastores whose key, system, kind or region contains `q`."""
    d = DatamapDatastore
    stmt = select(d).where(_like(q, d.key, d.system_key, d.kind, d.region)).order_by(d.key)
    return [rows.to_schema("datastores", r) for r in session.scalars(stmt.limit(LIMIT))]


def datasets(session: Session, q: str | None = None) -> list[Dataset]:
    """Datasets whose key or datastore contains `q`, or holding a field whose category contains it."""
    d, f = DatamapDataset, DatamapField
    by_category = select(f.dataset_key).where(_like(q, f.category))
    stmt = (
        select(d)
        .where(or_(_like(q, d.key, d.datastore_key), d.key.in_(by_category)))
        .order_by(d.key)
        .options(selectinload(d.tables).selectinload(DatamapTable.fields))
    )  # 3 queries, not 1 per table
    return [rows.to_schema("datasets", r) for r in session.scalars(stmt.limit(LIMIT))]


def fields(session: Session, q: str | None = None) -> list[FieldOut]:
    """Fields whose name, category, identity type, table or dataset contains `q`."""
    f = DatamapField
    stmt = (
        select(f)
        .where(_like(q, f.name, f.category, f.identity, f.table_name, f.dataset_key))
        .order_by(f.dataset_key, f.table_name, f.position)
        .limit(LIMIT)
    )
    return [
        FieldOut(
            dataset=r.dataset_key,
            table=r.table_name,
            name=r.name,
            category=r.category,
            identity=r.identity,
            references=r.references,
            indexed=r.indexed,
            erasure_action=r.erasure_action,
        )
        for r in session.scalars(stmt)
    ]


def activities(session: Session, q: str | None = None) -> list[ProcessingActivity]:
    """Activities whose key, name, purpose, legal basis or declared categories contain `q`."""
    needle = (q or "").strip().lower()
    found = []
    for row in session.scalars(select(DatamapActivity).order_by(DatamapActivity.key)):
        # categories are JSON lists, searched here rather than with dialect-specific JSON operators
        haystack = [row.key, row.name, row.purpose, row.legal_basis, *row.required_categories, *row.optional_categories]
        if any(needle in str(text).lower() for text in haystack):
            found.append(rows.to_schema("processing_activities", row))
    return found[:LIMIT]
