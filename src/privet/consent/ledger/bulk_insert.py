"""Fast bulk inserts for imports: PostgreSQL COPY, SQLite executemany, in the session's own transaction.

SQLAlchemy's executemany processes every bound value through its type (about 10,000 rows/s here); imports need
five times that, so rows are converted once per column kind (timestamps, JSON) and handed to the driver directly.
Only for trusted, already-validated rows of Privet's own tables.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import JSON, Table
from sqlalchemy.orm import Session

from privet.db.base import UTCDateTime


def _sqlite_time(value: datetime | None) -> str | None:
    # the format SQLAlchemy's SQLite DATETIME stores: naive UTC with microseconds (so text order = time order)
    if value is None:
        return None
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.isoformat(" ", "microseconds")[:26]  # drop the "+00:00"


def _json_memo() -> Callable[[Any], str | None]:
    # imports share one categories list / evidence dict across many rows: serialise each object once
    memo: dict[int, tuple[Any, str]] = {}

    def dump(value: Any) -> str | None:
        if value is None:
            return None
        found = memo.get(id(value))
        if found is None or found[0] is not value:
            found = memo[id(value)] = (value, json.dumps(value, ensure_ascii=False))
        return found[1]

    return dump


def _repeating(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    # a column often repeats one object (an import's recorded_at): convert it once, not once per row
    last: list = [_NOTHING, None]

    def once(value: Any) -> Any:
        if value is not last[0]:
            last[0], last[1] = value, convert(value)
        return last[1]

    return once


_NOTHING = object()


def _converters(table: Table, columns: Sequence[str], dialect: str) -> list[Callable[[Any], Any] | None]:
    out: list[Callable[[Any], Any] | None] = []
    for name in columns:
        kind = table.c[name].type
        if isinstance(kind, JSON):
            out.append(_json_memo())
        elif isinstance(kind, UTCDateTime) and dialect == "sqlite":
            out.append(_repeating(_sqlite_time))
        else:
            out.append(None)
    return out


def bulk_insert(session: Session, table: Table, rows: Sequence[dict], columns: Sequence[str] | None = None) -> int:
    """Insert `rows` (dicts keyed by column name) into `table` inside the session's transaction; returns the count."""
    if not rows:
        return 0
    columns = list(columns or rows[0].keys())
    tuples = list(map(itemgetter(*columns), rows)) if len(columns) > 1 else [(row[columns[0]],) for row in rows]
    return insert_tuples(session, table, columns, tuples)


def insert_tuples(session: Session, table: Table, columns: Sequence[str], tuples: Sequence[tuple]) -> int:
    """Insert rows given as tuples in the order of `columns`; returns the count."""
    if not tuples:
        return 0
    connection = session.connection()
    dialect = connection.dialect.name
    converters = [(i, fn) for i, fn in enumerate(_converters(table, columns, dialect)) if fn]
    if converters:  # column-wise with map/zip: far cheaper than a Python loop over every value
        values = list(zip(*tuples))
        for i, fn in converters:
            values[i] = tuple(map(fn, values[i]))
        tuples = list(zip(*values))
    names = ", ".join(columns)
    if dialect == "postgresql":
        driver = connection.connection.driver_connection
        assert driver is not None  # a connection checked out of the pool has its driver's
        cursor = driver.cursor()
        with cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
            for row in tuples:
                copy.write_row(row)
    else:
        marks = ", ".join("?" if dialect == "sqlite" else "%s" for _ in columns)
        connection.exec_driver_sql(f"INSERT INTO {table.name} ({names}) VALUES ({marks})", tuples)
    return len(tuples)
