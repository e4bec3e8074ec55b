"""Scanning a database: reflect its tables (and name its views), sample each table, classify each column.

One read-only connection; each table in its own transaction, rolled back (a failed statement on PostgreSQL
aborts its transaction, and the next table must not inherit that). A table that cannot be read, has no rows or
holds only binary data is named with the reason and the scan goes on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from privet.datamap.discover.classify import Recognizer, classify_column
from privet.datamap.discover.connect import connect, open_readonly
from privet.datamap.discover.report import column_entry, table_entry
from privet.datamap.discover.sample import TableSkipped, sample_table, unreadable
from privet.datamap.scaffold.reflect import Reflected, reflect
from privet.kit.errors import InvalidInput

VIEW = "a view: its rows are read through the tables it selects from"


@dataclass
class Scan:
    """What a scan found: the dialect, the report's tables in name order and the tables reflected (for drafts)."""

    dialect: str
    tables: list[dict] = field(default_factory=list)
    reflected: dict[str, Reflected] = field(default_factory=dict)
    sampled_now: int = 0  # tables read by this run (a resumed scan reads only the rest)


def scan(
    url: str,
    *,
    sample: int,
    timeout: float,
    include: Sequence[str] | None = None,
    schema: str | None = None,
    custom: Sequence[Recognizer] = (),
    done: dict[str, dict] | None = None,
    on_start: Callable[[int], None] = lambda _n: None,
    on_table: Callable[[dict, bool], None] = lambda _e, _new: None,
) -> Scan:
    """Sample and classify every selected table; `done` holds tables a previous run finished (not read again)."""
    done = done or {}
    engine = open_readonly(url, timeout)
    try:
        with connect(engine, url) as conn:
            dialect = "mariadb" if getattr(conn.dialect, "is_mariadb", False) else conn.dialect.name
            tables, views = _selection(conn, dialect, schema, include)
            conn.rollback()
            result = Scan(dialect, reflected={t.name: t for t in tables})
            on_start(len(tables) + len(views))
            for name in views:
                entry = table_entry(name, skipped=VIEW, kind="view")
                result.tables.append(entry)
                on_table(entry, False)
            for table in tables:
                cached = done.get(table.name)
                if cached is None:
                    entry, new = _table(conn, dialect, schema, table, sample, custom), True
                    result.sampled_now += 1
                else:
                    entry, new = cached, False
                result.tables.append(entry)
                on_table(entry, new)
    finally:
        engine.dispose()
    result.tables.sort(key=lambda t: t["name"])
    return result


def _selection(
    conn: sa.Connection, dialect: str, schema: str | None, include: Sequence[str] | None
) -> tuple[list[Reflected], list[str]]:
    """The reflected tables and the names of the views matching the `include` globs (all when none)."""
    insp = sa.inspect(conn)
    names, views = insp.get_table_names(schema=schema), sorted(insp.get_view_names(schema=schema))
    globs = list(include or [])
    missing = [g for g in globs if not any(fnmatchcase(n, g) for n in [*names, *views])]
    if missing:
        raise InvalidInput(
            f"No table matches {', '.join(missing)}",
            "check the --tables names (globs like order* work; separate several with commas)",
        )
    views = [v for v in views if not globs or any(fnmatchcase(v, g) for g in globs)]
    table_globs = [g for g in globs if any(fnmatchcase(n, g) for n in names)]
    if globs and not table_globs:
        return [], views
    try:
        return reflect(conn, dialect, schema, table_globs or None), views
    except InvalidInput:
        if views:
            return [], views
        raise InvalidInput("The database has no tables to scan", "check the datastore's connection secret") from None


def _table(
    conn: sa.Connection, dialect: str, schema: str | None, table: Reflected, size: int, custom: Sequence[Recognizer]
) -> dict:
    try:
        try:
            got = sample_table(conn, dialect, schema, table, size)
        finally:
            conn.rollback()
    except TableSkipped as exc:
        return table_entry(table.name, skipped=str(exc))
    except DBAPIError as exc:  # the connection itself failed under this table (a timeout killing the session…)
        return table_entry(table.name, skipped=unreadable(exc))
    columns = []
    for name, sql_type in got.types.items():
        if name in got.skipped:
            columns.append(
                column_entry(name, sql_type, skipped=got.skipped[name], invalid_json=got.invalid_json.get(name, 0))
            )
            continue
        values = got.values.get(name, [])
        verdict = classify_column(values, name=name, sql_type=sql_type, custom=custom)
        if not values and not verdict.skipped:
            columns.append(column_entry(name, sql_type, skipped="every sampled row is empty (NULL) here"))
            continue
        columns.append(column_entry(name, sql_type, verdict, invalid_json=got.invalid_json.get(name, 0)))
    return table_entry(table.name, columns, rows=got.fetched, method=got.method)
