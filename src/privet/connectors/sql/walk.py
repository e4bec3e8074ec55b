"""Finding a subject's rows in one datastore: start at the identity columns, then follow references level by level.

Rows the subject owns are those matched by an identity and, transitively, rows that refer to an owned row
(parent → children: orders of a customer, lines of those orders). Rows an owned row refers to are shown too when
their table holds personal data (the address an order ships to, the organisation a customer belongs to), but
nothing is followed down from them: the organisation's other members are other people. A table referring to
itself (`customers.referred_by`) is not followed either way, for the same reason; cycles between tables end
because every row is visited once.

Each level issues one query per table (more only past `BATCH` values), with parameterised `IN` lists
(`(a, b) IN ((…), (…))` for composite keys); rows are streamed where that costs no extra round trips.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlalchemy import Connection, func, or_, select, tuple_

from privet.connectors.sql.schema import Layout, TableLayout
from privet.connectors.sql.values import coerce_all, identity_variants

BATCH = 500
YIELD_PER = 1000
# MySQL/MariaDB stream rows (unbuffered cursor) at no cost and SQLite cursors step lazily anyway; PostgreSQL's
# server-side cursors were measured to cost four extra round trips per query, more than a single subject's rows
# are worth, so each (≤ BATCH keys) statement's rows arrive at once there.
STREAMED = ("mysql", "mariadb")


@dataclass
class Found:
    """Rows found per table (selected columns only), and which of them the subject owns."""

    rows: dict[str, dict[tuple, dict]] = field(default_factory=lambda: defaultdict(dict))
    owned: dict[str, set[tuple]] = field(default_factory=lambda: defaultdict(set))

    def owned_rows(self, table: str) -> dict[tuple, dict]:
        """The subject's own rows of `table`, by key."""
        rows = self.rows.get(table, {})
        return {k: rows[k] for k in self.owned.get(table, ())}


@dataclass
class _Ask:
    columns: tuple[str, ...]
    values: set[tuple]
    owned: bool
    fold: bool = False  # compare lower(column) (an index on it exists)


def selected_columns(layout: Layout, name: str) -> tuple[str, ...]:
    """Key, declared fields and reference columns of a table (never undeclared data columns)."""
    tl = layout.tables[name]
    cols = list(tl.key) + list(tl.declared)
    for e in layout.plan.edges:
        if e.child == name:
            cols += e.child_columns
        if e.parent == name:
            cols += e.parent_columns
    return tuple(c for c in dict.fromkeys(cols) if c in tl.table.c)


def row_key(tl: TableLayout, row: dict) -> tuple:
    """The primary key of a row (all selected values when the table has none)."""
    return tuple(row[c] for c in tl.key) if tl.key else tuple(row.values())


def _clause(tl: TableLayout, ask: _Ask, values: list[tuple]):  # noqa: ANN202
    columns = ask.columns
    if ask.fold:
        return func.lower(tl.table.c[columns[0]]).in_([v[0] for v in values])
    if len(columns) == 1:
        return tl.table.c[columns[0]].in_([v[0] for v in values])
    return tuple_(*(tl.table.c[c] for c in columns)).in_(values)


def _query(conn: Connection, layout: Layout, name: str, asks: list[_Ask]) -> Iterator[dict]:
    """Rows of `name` matching any ask, in statements of at most BATCH values."""
    tl = layout.tables[name]
    cols = selected_columns(layout, name)
    pending: list = []
    size = 0

    def run(clauses: list) -> Iterator[dict]:
        stmt = select(*(tl.table.c[c] for c in cols)).where(or_(*clauses))
        options = {"yield_per": YIELD_PER} if conn.dialect.name in STREAMED else {}
        for row in conn.execute(stmt, execution_options=options).mappings():
            yield dict(row)

    for ask in asks:
        values = sorted(ask.values, key=repr)
        for start in range(0, len(values), BATCH):
            chunk = values[start:start + BATCH]
            if size + len(chunk) > BATCH and pending:
                yield from run(pending)
                pending, size = [], 0
            pending.append(_clause(tl, ask, chunk))
            size += len(chunk)
    if pending:
        yield from run(pending)


def _entry_asks(layout: Layout, identities: dict[str, list[str]]) -> dict[str, list[_Ask]]:
    asks: dict[str, list[_Ask]] = defaultdict(list)
    for table, column, kind in layout.plan.entries:
        tl = layout.tables.get(table)
        col = tl.column(column) if tl else None
        if col is None or not identities.get(kind):
            continue
        values = coerce_all(identity_variants(kind, identities[kind], layout.plan.region), col.type)
        fold = kind == "email" and column in tl.folded
        if fold:
            values = list({v.lower() for v in values if isinstance(v, str)})
        if values:
            asks[table].append(_Ask((column,), {(v,) for v in values}, True, fold))
    return asks


def _next_asks(layout: Layout, found: Found, new_owned: dict[str, set[tuple]],
               new_related: dict[str, set[tuple]]) -> dict[str, list[_Ask]]:
    asks: dict[str, list[_Ask]] = defaultdict(list)
    for name, keys in new_owned.items():
        rows = found.rows[name]
        for e in layout.down(name):
            values = {tuple(rows[k][c] for c in e.parent_columns) for k in keys}
            values = {v for v in values if None not in v}
            if values:
                asks[e.child].append(_Ask(e.child_columns, values, True))
    for name in set(new_owned) | set(new_related):
        rows = found.rows[name]
        keys = new_owned.get(name, set()) | new_related.get(name, set())
        for e in layout.up(name):
            parent = layout.tables[e.parent]
            if not parent.personal:
                continue  # a shared catalogue (products) is nobody's personal data
            values = {tuple(rows[k][c] for c in e.child_columns) for k in keys}
            values = {v for v in values if None not in v}
            if e.parent_columns == parent.key:  # known rows need no second look
                values -= set(found.rows[e.parent])
            if values:
                asks[e.parent].append(_Ask(e.parent_columns, values, False))
    return asks


def _absorb(found: Found, tl: TableLayout, name: str, rows: Iterator[dict], asks: list[_Ask],
            new_owned: dict[str, set[tuple]], new_related: dict[str, set[tuple]]) -> None:
    owning = [a for a in asks if a.owned]
    mixed = bool(owning) and len(owning) < len(asks)
    for row in rows:
        key = row_key(tl, row)
        owned = bool(owning) and (not mixed or any(tuple(row[c] for c in a.columns) in a.values for a in owning))
        if key not in found.rows[name]:
            found.rows[name][key] = row
            if owned:
                found.owned[name].add(key)
                new_owned[name].add(key)
            else:
                new_related[name].add(key)
        elif owned and key not in found.owned[name]:  # seen as someone's parent, now reached as the subject's
            found.owned[name].add(key)
            new_owned[name].add(key)


def find(conn: Connection, layout: Layout, identities: dict[str, list[str]]) -> Found:
    """Every row of the subject (and the personal parent rows they refer to) in this datastore."""
    found = Found()
    asks = _entry_asks(layout, identities)
    while asks:
        new_owned: dict[str, set[tuple]] = defaultdict(set)
        new_related: dict[str, set[tuple]] = defaultdict(set)
        for name in sorted(asks):
            _absorb(found, layout.tables[name], name, _query(conn, layout, name, asks[name]), asks[name],
                    new_owned, new_related)
        asks = _next_asks(layout, found, new_owned, new_related)
    return found
