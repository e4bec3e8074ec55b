"""The state an erasure or rectification is about to commit, and whether a database holds it.

A step writes `expected_json` to Privet's store before the company's transaction commits. If the worker dies and the
step is resumed, `observed` tells whether that commit happened: every deleted key gone and every changed row holding
its new values. Then the recorded counts are the ones of the interrupted attempt (a second run would find nothing
left to change and report zeros); otherwise the step simply runs again. Keys and values travel as JSON and are
converted back with each column's type; undisclosed values never appear (new values are NULL, masks or keyed
hashes).
"""

from __future__ import annotations

from sqlalchemy import Connection

from privet.connectors.sql.erase import Expected
from privet.connectors.sql.schema import Layout, TableLayout
from privet.connectors.sql.values import coerce, jsonable
from privet.connectors.sql.walk import _Ask, _query, row_key, selected_columns


def _key_columns(layout: Layout, table: str) -> tuple[str, ...]:
    tl = layout.tables[table]
    return tl.key or selected_columns(layout, table)


def _after(layout: Layout, table: str, key: tuple, new: dict) -> tuple:
    """A changed row's key afterwards: a key-less table's rows are known by all their values, which changed."""
    if layout.tables[table].key:
        return key
    return tuple(new.get(c, old) for c, old in zip(_key_columns(layout, table), key))


def expected_json(layout: Layout, expected: Expected) -> dict:
    """The expected state as JSON-safe data."""
    return {
        "deleted": {t: [[jsonable(v) for v in key] for key in keys] for t, keys in expected.deleted.items() if keys},
        "updated": {
            t: [
                [[jsonable(v) for v in _after(layout, t, key, new)], {c: jsonable(v) for c, v in new.items()}]
                for key, new in rows.items()
            ]
            for t, rows in expected.updated.items()
            if rows
        },
    }


def _typed(tl: TableLayout, columns: tuple[str, ...], key: list) -> tuple | None:
    try:
        return tuple(coerce(v, tl.table.c[c].type) for c, v in zip(columns, key))
    except (ValueError, TypeError, ArithmeticError):
        return None


def _same(stored: object, wanted: object) -> bool:
    stored = jsonable(stored)
    if isinstance(stored, str) and isinstance(wanted, str):
        return stored.rstrip() == wanted.rstrip()  # CHAR columns pad what they return
    return stored == wanted


def _present(conn: Connection, layout: Layout, table: str, keys: list[list]) -> dict[tuple, dict] | None:
    tl = layout.tables.get(table)
    if tl is None:
        return None
    columns = _key_columns(layout, table)
    typed: set[tuple] = set()
    for key in keys:
        one = _typed(tl, columns, key)
        if one is None:
            return None
        typed.add(one)
    return {
        row_key(tl, row) if tl.key else tuple(row[c] for c in columns): row
        for row in _query(conn, layout, table, [_Ask(columns, typed, 0)])
    }


def observed(conn: Connection, layout: Layout, expected: dict) -> bool:
    """Whether every expected change is in the database (False as soon as one is not)."""
    for table, keys in (expected.get("deleted") or {}).items():
        present = _present(conn, layout, table, keys)
        if present is None or present:
            return False
    for table, items in (expected.get("updated") or {}).items():
        present = _present(conn, layout, table, [key for key, _new in items])
        if present is None:
            return False
        tl = layout.tables[table]
        columns = _key_columns(layout, table)
        for key, new in items:
            typed = _typed(tl, columns, key)
            row = present.get(typed) if typed is not None else None
            if row is None or not all(_same(row.get(c), v) for c, v in new.items()):
                return False
    return True
