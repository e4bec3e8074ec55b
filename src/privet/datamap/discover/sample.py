"""A bounded sample of a table's rows, spread over the whole table, read with a few indexed statements.

The work depends on the sample size, not on the table's size:
- a table keyed by an integer (its primary key, or the first column of a composite one): the key's range (min and
  max come from the index) is cut into `SEGMENTS` slices and each gives its first rows (`k >= a AND k < b ORDER BY
  k LIMIT n`, an index range scan);
- otherwise, on PostgreSQL, the table's pages are cut into slices the same way and each gives its first rows
  (a TID range scan reads only those pages; `TABLESAMPLE SYSTEM` would bunch the sample into a few pages);
- otherwise rows at offsets spread over the table's row count (the estimate where the server keeps one).
Binary columns are not read. Values stay in memory for the classifier and are never written, logged or raised.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from privet.datamap.scaffold.reflect import Reflected

SEGMENTS = 16
MAX_CHARS = 4000  # a longer value is classified by its start (a document body says what it is early)
BINARY = "binary data"


class TableSkipped(Exception):
    """A table that could not be sampled, with the reason (a sentence; never a value)."""


@dataclass
class Sampled:
    """What one table gave: values per column (NULLs left out), columns skipped and why, rows fetched."""

    values: dict[str, list] = field(default_factory=dict)
    types: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    invalid_json: dict[str, int] = field(default_factory=dict)
    fetched: int = 0
    method: str = ""


def sample_table(conn: sa.Connection, dialect: str, schema: str | None, table: Reflected, size: int) -> Sampled:
    """Up to `size` rows of `table`, spread over it; TableSkipped when it is empty or cannot be read."""
    out = Sampled(types={c["name"]: _type_name(c["type"]) for c in table.columns})
    readable = []
    for column in table.columns:
        if isinstance(column["type"], sa.types._Binary):
            out.skipped[column["name"]] = BINARY
        else:
            readable.append(column)
    if not readable:
        raise TableSkipped("every column holds binary data")
    clause = sa.table(table.name, *[sa.column(c["name"], c["type"]) for c in table.columns], schema=schema)
    try:
        rows, out.method = _rows(conn, dialect, schema, table, clause, [c["name"] for c in readable], size)
    except DBAPIError as exc:
        raise TableSkipped(unreadable(exc)) from None
    if not rows:
        raise TableSkipped("the table has no rows")
    out.fetched = len(rows)
    for i, column in enumerate(readable):
        name, is_json = column["name"], isinstance(column["type"], sa.JSON)
        values, bad, binary = [], 0, 0
        for row in rows:
            value = _value(row[i], is_json)
            if value is _INVALID_JSON:
                bad += 1
            elif value is _BINARY:
                binary += 1
            elif value is not None:
                values.append(value)
        if binary and binary * 2 >= binary + len(values):
            out.skipped[name] = BINARY
            continue
        if bad:
            out.invalid_json[name] = bad
            if not values:
                out.skipped[name] = f"none of the {bad} sampled JSON documents is valid JSON"
                continue
        out.values[name] = values
    return out


def unreadable(exc: DBAPIError) -> str:
    """Why a table could not be read, from the driver's error class and code (never its text, which may quote)."""
    orig = exc.orig
    code = orig.args[0] if orig is not None and orig.args and isinstance(orig.args[0], int) else None
    state = getattr(orig, "sqlstate", None) or getattr(getattr(orig, "diag", None), "sqlstate", None)
    text = str(orig).lower()
    if state == "42501" or code in (1142, 1143, 1044, 1045) or "permission denied" in text:
        return "the connection may not read it (permission denied)"
    if state == "57014" or code in (1969, 3024) or "interrupted" in text:
        return "reading the sample took longer than the statement timeout"
    return f"it could not be read ({type(orig).__name__})"


def _rows(
    conn: sa.Connection,
    dialect: str,
    schema: str | None,
    table: Reflected,
    clause: sa.TableClause,
    names: list[str],
    size: int,
) -> tuple[Sequence[sa.Row[Any]], str]:
    selected = _as_stored(clause, names)
    key = table.primary_key[0] if table.primary_key else None
    key_type = next((c["type"] for c in table.columns if c["name"] == key), None)
    if key and isinstance(key_type, sa.Integer):
        return _key_ranges(conn, clause.c[key], selected, size), "key ranges"
    estimate = _estimate(conn, dialect, schema, table.name)
    if dialect == "postgresql" and estimate > 4 * size:
        pages = _page_ranges(conn, schema, table.name, clause, selected, size)
        if pages:
            return pages, "page ranges"
    count: int = (
        estimate if estimate > 10 * size else conn.execute(sa.select(sa.func.count()).select_from(clause)).scalar_one()
    )
    order = [clause.c[k] for k in table.primary_key]
    if count <= size:
        return conn.execute(sa.select(*selected).order_by(*order).limit(size)).all(), "all rows"
    per = math.ceil(size / SEGMENTS)
    rows: list[sa.Row[Any]] = []
    for i in range(SEGMENTS):
        stmt = sa.select(*selected).order_by(*order).limit(per).offset(i * count // SEGMENTS)
        rows += conn.execute(stmt).all()
    return rows[:size], "offsets"


def _key_ranges(
    conn: sa.Connection, key: sa.ColumnClause[Any], selected: list[Any], size: int
) -> Sequence[sa.Row[Any]]:
    low, high = conn.execute(sa.select(sa.func.min(key), sa.func.max(key))).one()
    if low is None:
        return []
    span = int(high) - int(low) + 1
    if span <= size:
        return conn.execute(sa.select(*selected).order_by(key).limit(size)).all()
    per = math.ceil(size / SEGMENTS)
    rows: list[sa.Row[Any]] = []
    bounds = [int(low) + span * i // SEGMENTS for i in range(SEGMENTS + 1)]
    for start, end in itertools.pairwise(bounds):
        stmt = sa.select(*selected).where(key >= start, key < end).order_by(key).limit(per)
        rows += conn.execute(stmt).all()
    return rows[:size]


def _page_ranges(
    conn: sa.Connection, schema: str | None, name: str, clause: sa.TableClause, selected: list[Any], size: int
) -> Sequence[sa.Row[Any]]:
    """PostgreSQL without an integer key: slices of the table's pages, read by TID range scans (PostgreSQL 14+)."""
    pages = (
        conn.execute(
            sa.text(
                "SELECT c.relpages FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE c.relname = :name AND n.nspname = coalesce(:schema, current_schema())"
            ),
            {"name": name, "schema": schema},
        ).scalar()
        or 0
    )
    if pages < SEGMENTS:
        return []
    per = math.ceil(size / SEGMENTS)
    rows: list[sa.Row[Any]] = []
    bounds = [pages * i // SEGMENTS for i in range(SEGMENTS)] + [2**31 - 1]  # the last slice runs to the end
    within = sa.text("ctid >= CAST(:low AS tid) AND ctid < CAST(:high AS tid)")
    for start, end in itertools.pairwise(bounds):
        stmt = sa.select(*selected).select_from(clause).where(within).limit(per)
        rows += conn.execute(stmt, {"low": f"({start},0)", "high": f"({end},0)"}).all()
    return rows[:size]


def _estimate(conn: sa.Connection, dialect: str, schema: str | None, name: str) -> int:
    """The server's row estimate without counting (0 where it keeps none: SQLite, or never analysed)."""
    if dialect == "postgresql":
        found = conn.execute(
            sa.text(
                "SELECT c.reltuples FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE c.relname = :name AND n.nspname = coalesce(:schema, current_schema())"
            ),
            {"name": name, "schema": schema},
        ).scalar()
    elif dialect in ("mysql", "mariadb"):
        found = conn.execute(
            sa.text(
                "SELECT table_rows FROM information_schema.tables "
                "WHERE table_name = :name AND table_schema = coalesce(:schema, database())"
            ),
            {"name": name, "schema": schema},
        ).scalar()
    else:
        return 0
    return max(int(found or 0), 0)


_INVALID_JSON, _BINARY = object(), object()


def _value(value: object, is_json: bool) -> object:
    """A sampled value as the classifier takes it: text, or a parsed document for a JSON column."""
    if isinstance(value, memoryview):
        value = bytes(value)
    if isinstance(value, bytes):
        try:
            value = value.decode("utf-8")
        except UnicodeDecodeError:
            return _BINARY
        if "\x00" in value:
            return _BINARY
    if value is None:
        return None
    if is_json:
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                return _INVALID_JSON
        return value
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)[:MAX_CHARS]
    if isinstance(value, (int, float, Decimal, bool)):
        return str(value)
    return str(value)[:MAX_CHARS]


def _as_stored(source: sa.FromClause, names: list[str]) -> list:
    """The columns read as the driver gives them: SQLAlchemy's own conversions would fail on what a company
    database may hold (an invalid JSON document, a date SQLite stores in another format)."""
    return [sa.type_coerce(source.c[name], sa.Text()).label(f"c{i}") for i, name in enumerate(names)]


def _type_name(kind: sa.types.TypeEngine) -> str:
    try:
        return str(kind)
    except Exception:  # noqa: BLE001 - some reflected types cannot compile without a dialect
        return type(kind).__name__.upper()
