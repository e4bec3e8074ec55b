"""Converting manifest objects to table rows and back (the store side of apply/current)."""

from __future__ import annotations

from typing import Any, Literal, overload

from privet.datamap import schemas as s
from privet.datamap.models import (
    DatamapActivity,
    DatamapDataset,
    DatamapDatastore,
    DatamapField,
    DatamapOrganisation,
    DatamapSystem,
    DatamapTable,
)

# the mapped class of each section; Any: their only common base is Base, and the code reads their `key` (and a
# dataset's `tables`) columns
ROW_CLASSES: dict[str, Any] = {
    "organisation": DatamapOrganisation,
    "systems": DatamapSystem,
    "datastores": DatamapDatastore,
    "datasets": DatamapDataset,
    "processing_activities": DatamapActivity,
}
_SCHEMAS: dict[str, type[s.Strict]] = {
    "organisation": s.Organisation,
    "systems": s.System,
    "datastores": s.Datastore,
    "datasets": s.Dataset,
    "processing_activities": s.ProcessingActivity,
}
_RENAMES = {"datastores": {"system": "system_key"}, "datasets": {"datastore": "datastore_key"}}


def values(section: str, obj: s.Strict) -> dict[str, Any]:
    """Column values for a top-level object (datasets: without their tables)."""
    data = obj.model_dump(mode="json", exclude={"tables", "names"})  # names by language: in the version document
    renames = _RENAMES.get(section, {})
    return {renames.get(k, k): v for k, v in data.items()}


@overload
def to_schema(section: Literal["organisation"], row: Any) -> s.Organisation: ...
@overload
def to_schema(section: Literal["systems"], row: Any) -> s.System: ...
@overload
def to_schema(section: Literal["datastores"], row: Any) -> s.Datastore: ...
@overload
def to_schema(section: Literal["datasets"], row: Any) -> s.Dataset: ...
@overload
def to_schema(section: Literal["processing_activities"], row: Any) -> s.ProcessingActivity: ...
@overload
def to_schema(section: str, row: Any) -> s.Strict: ...
def to_schema(section: str, row: Any) -> s.Strict:
    """Rebuild the manifest object from its row."""
    schema = _SCHEMAS[section]
    renames = _RENAMES.get(section, {})
    data = {
        name: getattr(row, renames.get(name, name)) for name in schema.model_fields if name not in ("tables", "names")
    }
    if section == "datasets":
        data["tables"] = [_table_schema(t) for t in row.tables]
    return schema.model_validate(_drop_none(data))


def _drop_none(data: dict) -> dict:
    return {k: v for k, v in data.items() if v is not None}


def _erasure_values(erasure: s.Erasure | None) -> dict[str, Any]:
    e = erasure.model_dump(mode="json") if erasure else {}
    return {f"erasure_{k}": e.get(k) for k in ("action", "reason", "duration", "legal_reference")}


def _erasure_schema(row: Any) -> dict | None:
    if not row.erasure_action:
        return None
    return _drop_none({k: getattr(row, f"erasure_{k}") for k in ("action", "reason", "duration", "legal_reference")})


def _table_schema(row: DatamapTable) -> s.Table:
    return s.Table.model_validate(
        _drop_none(
            {
                "name": row.name,
                "description": row.description,
                "primary_key": row.primary_key,
                "erasure": _erasure_schema(row),
                "retention": row.retention,
                "timestamps": row.timestamps or None,
                "fields": [
                    _drop_none(
                        {
                            "name": f.name,
                            "category": f.category,
                            "identity": f.identity,
                            "references": f.references,
                            "relation": f.relation,
                            "inferred": f.inferred,
                            "match": f.match,
                            "part": f.part,
                            "erasure": _erasure_schema(f),
                            "indexed": f.indexed,
                            "description": f.description,
                        }
                    )
                    for f in row.fields
                ],
            }
        )
    )


def sync_tables(dataset: DatamapDataset, tables: list[s.Table]) -> None:
    """Make the dataset's table and field rows match `tables`, updating rows in place (ids stay stable)."""
    existing = {t.name: t for t in dataset.tables}
    wanted = []
    for position, table in enumerate(tables):
        row = existing.pop(table.name, None) or DatamapTable(name=table.name, fields=[])
        row.dataset_key, row.position, row.description = dataset.key, position, table.description
        row.primary_key = list(table.primary_key)
        rules = table.retention
        row.retention = (
            [r.model_dump(mode="json", exclude_none=True) for r in rules]
            if isinstance(rules, list)
            else rules.model_dump(mode="json", exclude_none=True)
            if rules
            else None
        )
        row.timestamps = dict(table.timestamps) or None
        for column, value in _erasure_values(table.erasure).items():
            setattr(row, column, value)
        _sync_fields(row, table.fields)
        wanted.append(row)
    dataset.tables = wanted  # delete-orphan removes the tables (and their fields) left in `existing`


def _sync_fields(table: DatamapTable, fields: list[s.Field_]) -> None:
    existing = {f.name: f for f in table.fields}
    wanted = []
    for position, field in enumerate(fields):
        row = existing.pop(field.name, None) or DatamapField(name=field.name)
        row.dataset_key, row.table_name, row.position = table.dataset_key, table.name, position
        row.category, row.identity, row.references = field.category, field.identity, field.references
        row.relation = field.relation.value if field.relation else None
        row.match = field.match.value if field.match else None
        row.inferred, row.part = field.inferred, field.part
        row.indexed, row.description = field.indexed, field.description
        for column, value in _erasure_values(field.erasure).items():
            setattr(row, column, value)
        wanted.append(row)
    table.fields = wanted  # delete-orphan removes the fields left in `existing`
