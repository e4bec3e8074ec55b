"""Rectification of a subject's rows: every field of a corrected category gets its new value, in one transaction.

A column declared as one part of a structured value (`part: postcode`) gets that part only; a column holding the
whole value gets the parts joined (`privet.connectors.changes`). Values are validated and converted for each column
before the first statement — when the request is filed, through `SqlConnector.check_changes`, and again before
writing — so a value that does not fit (too long, not a date) is refused naming the table and column and changes
nothing. Key and reference columns are not rectified: changing them would re-link rows rather than correct a value.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import Connection

from privet.connectors.base import StepResult
from privet.connectors.changes import check_parts, check_value, identity_kind, joined, parts_of
from privet.connectors.sql.erase import Expected, update_rows
from privet.connectors.sql.schema import Layout
from privet.connectors.sql.values import coerce
from privet.connectors.sql.walk import Found, selected_columns
from privet.kit.errors import InvalidInput, Problem


def _column_value(value: str | dict[str, str], part: str | None) -> str | None:
    """What one column gets: its part, the whole (parts joined), or None (a part the person did not give)."""
    if isinstance(value, dict):
        return value.get(part) if part else joined(value)
    return value


def prepare(layout: Layout, changes: Mapping[str, object]) -> dict[str, dict[str, object]]:
    """{table: {column: value}} for the categories this datastore holds; InvalidInput when a value can't fit.

    Categories no field of this datastore holds are skipped (another datastore may hold them; see
    `privet.connectors.changes.check_changes` for the check across all datastores)."""
    if not isinstance(changes, dict) or not changes:
        raise InvalidInput("Nothing to rectify", "send `changes` as {category: new value}")
    plan = layout.plan
    values = {
        c: check_value(c, v, identity_kind(c, [plan]), plan.region)
        for c, v in changes.items()
        if any(f.category == c for t in plan.tables.values() for f in t.fields)
    }
    for category, given in values.items():
        check_parts(category, given, parts_of(category, [plan]))
    out: dict[str, dict[str, object]] = {}
    for name, tl in layout.tables.items():
        links = {
            c
            for e in plan.edges
            if name in (e.child, e.parent)
            for c in (e.child_columns if e.child == name else e.parent_columns)
        }
        for f in tl.spec.fields:
            if f.category not in values or f.name not in tl.table.c:
                continue
            where = f"changes.{f.category}" + (f".{f.part}" if f.part else "")
            if f.name in tl.key or f.name in links:
                raise InvalidInput(
                    "A key column cannot be rectified",
                    f"`{name}.{f.name}` links records; correct it in the application that owns it",
                    [Problem("key column", where)],
                )
            value = _column_value(values[f.category], f.part)
            if value is None:
                continue
            try:
                out.setdefault(name, {})[f.name] = coerce(value, tl.table.c[f.name].type)
            except (ValueError, TypeError, ArithmeticError) as exc:
                hint = f"`{name}.{f.name}` needs {exc}"
                raise InvalidInput(
                    f"The new value does not fit column {name}.{f.name}", hint, [Problem("does not fit", where, hint)]
                ) from None
    return out


def rectify(
    conn: Connection, layout: Layout, found: Found, updates: dict[str, dict[str, object]]
) -> tuple[StepResult, Expected]:
    """Write the prepared values on the subject's own rows (only where they differ); counts are rows changed."""
    result, expected = StepResult(), Expected()
    for name in layout.tables:
        rows = found.owned_rows(name)
        columns = updates.get(name, {})
        changes = {k: {c: v for c, v in columns.items() if row[c] != v} for k, row in rows.items()}
        changed = {k: v for k, v in changes.items() if v}
        if changed:
            update_rows(conn, layout.tables[name], changed, selected_columns(layout, name))
            expected.updated[name].update(changed)
        result.counts[name] = {"found": len(rows), "rectified": len(changed)}
    return result, expected
