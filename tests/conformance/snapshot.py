"""Every row of every table of a schema, by row key, with a hash of all its values: what changed between two
moments (rows gone, rows whose bytes differ), and the values of given columns."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from types import ModuleType

import sqlalchemy as sa

from tests.conformance.schemas import key, norm


def tables(conn: sa.Connection, schema: ModuleType) -> dict[str, sa.Table]:
    """The schema's tables as the database has them (a partitioned table read through its parent)."""
    metadata = sa.MetaData()
    return {name: sa.Table(name, metadata, autoload_with=conn) for name in schema.TABLES}


def key_columns(schema: ModuleType, table: sa.Table) -> tuple[str, ...]:
    """The columns the checks identify a row of `table` by."""
    chosen = getattr(schema, "ROW_ID", {}).get(table.name) or tuple(c.name for c in table.primary_key.columns)
    if not chosen:
        raise AssertionError(f"table {table.name} has no primary key: give it a ROW_ID in the schema module")
    return chosen


@dataclass
class Snapshot:
    """{table: {row key: (hash of every value, {column: value})}}."""

    rows: dict[str, dict[tuple, tuple[str, dict]]] = field(default_factory=dict)

    def keys(self, name: str) -> set[tuple]:
        return set(self.rows.get(name, {}))

    def row(self, name: str, row_key: tuple) -> dict | None:
        found = self.rows.get(name, {}).get(row_key)
        return found[1] if found else None

    def digest(self, name: str, row_key: tuple) -> str | None:
        found = self.rows.get(name, {}).get(row_key)
        return found[0] if found else None


def take(conn: sa.Connection, schema: ModuleType) -> Snapshot:
    """Read every row of every table of `schema`."""
    out = Snapshot()
    for name, table in tables(conn, schema).items():
        ids = key_columns(schema, table)
        rows: dict[tuple, tuple[str, dict]] = {}
        for row in conn.execute(sa.select(table)).mappings():
            values = {c: norm(v) for c, v in row.items()}
            row_key = key(*(row[c] for c in ids))
            if row_key in rows:
                raise AssertionError(f"two rows of {name} share the row id {row_key}: fix ROW_ID")
            digest = hashlib.sha256(repr(sorted(values.items())).encode()).hexdigest()
            rows[row_key] = (digest, values)
        out.rows[name] = rows
    return out


@dataclass
class Change:
    """One table's difference between two snapshots."""

    deleted: set[tuple]
    updated: set[tuple]
    inserted: set[tuple]

    def __bool__(self) -> bool:
        return bool(self.deleted or self.updated or self.inserted)


def diff(before: Snapshot, after: Snapshot) -> dict[str, Change]:
    """Per table: rows gone, rows whose hash changed, rows that appeared."""
    out = {}
    for name in set(before.rows) | set(after.rows):
        old, new = before.rows.get(name, {}), after.rows.get(name, {})
        out[name] = Change(
            set(old) - set(new), {k for k in set(old) & set(new) if old[k][0] != new[k][0]}, set(new) - set(old)
        )
    return out
