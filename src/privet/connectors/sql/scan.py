"""Reading a table's rows in key order, batch by batch, and the people those rows are about.

For sweeps that start from rows rather than from a person (the children sweep reads birth dates): `batches` reads
one table `size` rows at a time (one statement each: `WHERE key > last … ORDER BY key LIMIT size`), with a
condition the caller builds on the reflected table; `people` says whose each row is — the identity columns of the
row itself or, for a table without any, of the row it belongs to (up `belongs_to` references, the way a request's
walk comes down them); `linked` reads the rows a set of rows names through given references, and the rows naming
them. Lookups reuse the walk's parameterised, batched `IN` queries (`walk._query`), so values are never spliced
into SQL.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from sqlalchemy import Connection, and_, select, tuple_

from privet.connectors.base import BELONGS_TO, Edge
from privet.connectors.sql.schema import Layout, TableLayout
from privet.connectors.sql.walk import OWNER, _Ask, _coerced, _query, comparable, row_key, selected_columns

Identities = dict[str, list[str]]  # identity type → values, as a request takes them
MAX_HOPS = 3  # belongs_to references followed up to the row holding the person's identities


def batches(
    conn: Connection, layout: Layout, table: str, where: Callable | None = None, *, size: int = 500
) -> Iterator[list[dict]]:
    """The table's rows (key, declared fields and reference columns) matching `where(table)`, in key order,
    `size` per statement; a table without a primary key is streamed and cut into batches as it comes."""
    tl = layout.tables[table]
    cols = [tl.table.c[c] for c in selected_columns(layout, table)]
    condition = where(tl.table) if where is not None else None
    key = [tl.table.c[c] for c in tl.key]
    if not key:
        stmt = select(*cols) if condition is None else select(*cols).where(condition)
        result = conn.execution_options(stream_results=True).execute(stmt)
        while chunk := result.mappings().fetchmany(size):
            yield [dict(row) for row in chunk]
        return
    last: tuple | None = None
    while True:
        clauses = [] if condition is None else [condition]
        if last is not None:
            clauses.append(key[0] > last[0] if len(key) == 1 else tuple_(*key) > tuple_(*last))
        stmt = select(*cols).where(and_(*clauses)) if clauses else select(*cols)
        rows = [dict(r) for r in conn.execute(stmt.order_by(*key).limit(size)).mappings()]
        if not rows:
            return
        yield rows
        if len(rows) < size:
            return
        last = row_key(tl, rows[-1])


def identities_of_row(tl: TableLayout, row: dict) -> Identities:
    """The identity values a row holds, by type (empty values left out)."""
    out: Identities = {}
    for f in tl.spec.fields:
        value = row.get(f.name)
        if f.identity and value not in (None, ""):
            out.setdefault(f.identity, [])
            if str(value) not in out[f.identity]:
                out[f.identity].append(str(value))
    return out


def _owner_edges(layout: Layout, table: str) -> list[Edge]:
    return [e for e in layout.up(table) if e.relation == BELONGS_TO]


def people(
    conn: Connection, layout: Layout, table: str, rows: list[dict], hops: int = MAX_HOPS
) -> dict[tuple, Identities]:
    """Row key → the identities of the person the row is about: its own identity columns, else those of the row
    it belongs to (followed up to `hops` references). Rows nobody can be named for are left out."""
    tl = layout.tables[table]
    out: dict[tuple, Identities] = {}
    pending: list[dict] = []
    for row in rows:
        found = identities_of_row(tl, row)
        if found:
            out[row_key(tl, row)] = found
        else:
            pending.append(row)
    if not pending or hops <= 0:
        return out
    for edge in _owner_edges(layout, table):
        values = {tuple(r[c] for c in edge.child_columns) for r in pending}
        parents = read(conn, layout, edge.parent, edge.parent_columns, {v for v in values if None not in v})
        owners = people(conn, layout, edge.parent, list(parents.values()), hops - 1)
        by_value = {
            comparable(layout, edge.parent, edge.parent_columns, tuple(p[c] for c in edge.parent_columns)): owners.get(
                k
            )
            for k, p in parents.items()
        }
        for row in pending:
            value = comparable(layout, edge.parent, edge.parent_columns, tuple(row[c] for c in edge.child_columns))
            key, named = row_key(tl, row), by_value.get(value)
            if key not in out and named:
                out[key] = named
    return out


def read(
    conn: Connection, layout: Layout, table: str, columns: tuple[str, ...], values: set[tuple]
) -> dict[tuple, dict]:
    """Rows of `table` whose `columns` hold one of `values` (converted to the columns' types), by key."""
    values = _coerced(layout, table, columns, values)
    if not values:
        return {}
    tl = layout.tables[table]
    return {row_key(tl, r): r for r in _query(conn, layout, table, [_Ask(columns, values, OWNER)])}


def linked(
    conn: Connection, layout: Layout, table: str, rows: list[dict], relation: str
) -> dict[tuple, list[tuple[str, dict]]]:
    """Row key → (table, row) of the rows linked to it by references of `relation`, either way: the rows it names
    and the rows naming it (a family member's account, the owner of a device it uses)."""
    tl = layout.tables[table]
    out: dict[tuple, list[tuple[str, dict]]] = {}
    for edge in layout.plan.edges:
        if edge.relation != relation or table not in (edge.child, edge.parent):
            continue
        if edge.child not in layout.tables or edge.parent not in layout.tables:
            continue
        directions = []
        if edge.child == table:  # the rows ours name
            directions.append((edge.child_columns, edge.parent, edge.parent_columns))
        if edge.parent == table:  # the rows naming ours
            directions.append((edge.parent_columns, edge.child, edge.child_columns))
        for ours, other, theirs in directions:
            values = {tuple(r[c] for c in ours) for r in rows}
            found = read(conn, layout, other, theirs, {v for v in values if None not in v})
            index: dict[tuple | None, list[dict]] = {}
            for r in found.values():
                index.setdefault(comparable(layout, other, theirs, tuple(r[c] for c in theirs)), []).append(r)
            for r in rows:
                value = comparable(layout, other, theirs, tuple(r[c] for c in ours))
                mine = row_key(tl, r)
                for hit in index.get(value, []):
                    if other == table and row_key(tl, hit) == mine:
                        continue
                    out.setdefault(mine, []).append((other, hit))
    return out
