"""Finding a subject's rows in one datastore: start at the identity columns, then follow references level by level.

Whose a row is follows the references' relations (`Edge.relation`):
- a row matched by an identity is the subject's (`OWNER`), and so, transitively, is every row that `belongs_to` one
  of those rows (orders of a customer, lines of those orders): the walk goes *down* belongs_to references;
- a row that one of the subject's rows `owns` (their own address) is the subject's too (`OWNED`): the walk goes
  *up* owns references. Nothing is walked down from such a row: other rows pointing at the same address are other
  people's (erasure checks whether the row is shared before touching it);
- any other row the subject's rows point at (`points_to`, or up a belongs_to reference: the staff member on a
  rental, the customer who bought an order the subject only received) is someone else's or shared. When its table
  holds personal data it is only *named* (`Found.links`: table and key), never read; a non-personal row (a film, a
  store, a product) is read as reference data for access packages.
A table referring to itself (`customers.referred_by`) is never walked; such a reference is named as a link.

Identity columns are compared as the data map says (`privet.datamap.matching`: exact, casefold, phone digits), and
values crossing a reference are converted to the referenced column's type (a text `customer_ref` holding integer
keys). Each level issues one query per table (more only past `BATCH` values), with parameterised `IN` lists
(`(a, b) IN ((…), (…))` for composite keys); rows are streamed where that costs no extra round trips.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Column, ColumnElement, Connection, literal, or_, select, tuple_

from privet.connectors.base import BELONGS_TO, OWNS, Edge
from privet.connectors.sql.schema import Layout, TableLayout
from privet.connectors.sql.values import coerce_all, identity_variants, is_text
from privet.datamap import matching
from privet.datamap.schemas import Match

BATCH = 500
YIELD_PER = 1000
# MySQL/MariaDB stream rows (unbuffered cursor) at no cost and SQLite cursors step lazily anyway; PostgreSQL's
# server-side cursors were measured to cost four extra round trips per query, more than a single subject's rows
# are worth, so each (≤ BATCH keys) statement's rows arrive at once there.
STREAMED = ("mysql", "mariadb")

# How a row was reached, strongest first: matched by an identity or belonging to such a row; owned by one of the
# subject's rows; non-personal reference data pointed at (access only).
OWNER, OWNED, REFERENCE = 3, 2, 1


@dataclass
class Found:
    """Rows found per table (selected columns only), how each was reached, and the other people's rows named."""

    rows: dict[str, dict[tuple, dict]] = field(default_factory=lambda: defaultdict(dict))
    kind: dict[str, dict[tuple, int]] = field(default_factory=lambda: defaultdict(dict))
    links: dict[Edge, set[tuple]] = field(default_factory=lambda: defaultdict(set))  # values of child columns

    def owned_rows(self, table: str) -> dict[tuple, dict]:
        """The subject's own rows of `table` (matched, belonging or owned), by key."""
        rows = self.rows.get(table, {})
        return {k: rows[k] for k, how in self.kind.get(table, {}).items() if how >= OWNED}

    def owned_by_owns(self, table: str) -> set[tuple]:
        """Keys of the subject's rows of `table` reached only as a row the subject's rows own (maybe shared)."""
        return {k for k, how in self.kind.get(table, {}).items() if how == OWNED}

    def reference_rows(self, table: str) -> dict[tuple, dict]:
        """Non-personal rows of `table` the subject's rows point at."""
        rows = self.rows.get(table, {})
        return {k: rows[k] for k, how in self.kind.get(table, {}).items() if how == REFERENCE}

    def fresh(self, earlier: Found) -> Found:
        """The subject's rows found now that `earlier` did not hold (rows written meanwhile, e.g. by a trigger)."""
        out = Found()
        for table, kinds in self.kind.items():
            for key, how in kinds.items():
                if how >= OWNED and key not in earlier.kind.get(table, {}):
                    out.rows[table][key] = self.rows[table][key]
                    out.kind[table][key] = how
        return out

    def absorbed(self, other: Found) -> None:
        """Take `other`'s rows in (as found by a later pass)."""
        for table, kinds in other.kind.items():
            for key, how in kinds.items():
                self.rows[table].setdefault(key, other.rows[table][key])
                self.kind[table][key] = max(how, self.kind[table].get(key, 0))

    @property
    def owned(self) -> dict[str, set[tuple]]:
        """{table: keys of the subject's rows}."""
        return {t: {k for k, how in kinds.items() if how >= OWNED} for t, kinds in self.kind.items()}


@dataclass
class _Ask:
    columns: tuple[str, ...]
    values: set[tuple]
    kind: int
    mode: Match = Match.exact  # entry asks of casefold/phone fields compare an expression of the column


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


def _clause(tl: TableLayout, ask: _Ask, values: list[tuple]) -> ColumnElement[bool]:
    columns = ask.columns
    if ask.mode == Match.contains:  # values are (kind, needle): candidates, refined by `_answers`
        return or_(*(matching.contains_clause(tl.table.c[columns[0]], needle) for needle in values))
    if len(columns) == 1:
        return matching.expression(tl.table.c[columns[0]], ask.mode).in_([v[0] for v in values])
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
            chunk = values[start : start + BATCH]
            if size + len(chunk) > BATCH and pending:
                yield from run(pending)
                pending, size = [], 0
            pending.append(_clause(tl, ask, chunk))
            size += len(chunk)
    if pending:
        yield from run(pending)


def _entry_values(kind: str, mode: Match, given: list[str], col: Column[Any], region: str) -> list:
    if mode != Match.exact:
        return matching.values(mode, given, region=region)
    return coerce_all(identity_variants(kind, given, region), col.type)


def _entry_asks(layout: Layout, identities: dict[str, list[str]]) -> dict[str, list[_Ask]]:
    asks: dict[str, list[_Ask]] = defaultdict(list)
    for table, column, kind in layout.plan.entries:
        tl = layout.tables.get(table)
        col = tl.column(column) if tl else None
        spec = tl.spec.field(column) if tl else None
        contains = spec is not None and spec.match == Match.contains.value
        if col is None or not (identities.get(kind) or contains):
            continue
        mode = Match(spec.match) if spec and spec.match else Match.exact
        if mode == Match.contains:  # free text or JSON: any of the person's e-mails and phones may be in it
            needles = set().union(
                *(
                    matching.needles(k, identities.get(k, []), region=layout.plan.region)
                    for k in matching.CONTAINS_KINDS
                )
            )
            if needles:
                asks[table].append(_Ask((column,), needles, OWNER, mode))
            continue
        if mode != Match.exact and not is_text(col.type):
            mode = Match.exact  # a number column holds no case or punctuation
        values = _entry_values(kind, mode, identities[kind], col, layout.plan.region)
        if values:
            asks[table].append(_Ask((column,), {(v,) for v in values}, OWNER, mode))
    return asks


def _fits(value: object, col: Column[Any]) -> list:
    """A value read from one column as another column may hold it: converted to its type ('17' and 17 alike), and
    for text also without the blanks a CHAR column pads with (PostgreSQL returns CHAR(8) 'ABCDE' as 'ABCDE   ')."""
    fitted = coerce_all([value], col.type)
    if fitted and isinstance(fitted[0], str) and fitted[0] != fitted[0].rstrip(" "):
        fitted.append(fitted[0].rstrip(" "))
    return fitted


def _coerced(layout: Layout, table: str, columns: tuple[str, ...], values: set[tuple]) -> set[tuple]:
    """Values read from one table, converted for the columns of another (a text column may hold integer keys);
    values that cannot be converted cannot match and are dropped."""
    cols = [layout.tables[table].table.c[c] for c in columns]
    out: set[tuple] = set()
    for value in values:
        combos: list[tuple] = [()]
        for item, col in zip(value, cols):
            combos = [(*c, f) for c in combos for f in _fits(item, col)]
        out.update(combos)
    return out


def comparable(layout: Layout, table: str, columns: tuple[str, ...], value: tuple) -> tuple | None:
    """A value as `table.columns` hold it, for comparing in Python: a text '1007' and an integer 1007 alike, CHAR
    padding ignored (None when it cannot be such a value)."""
    out = []
    for item, name in zip(value, columns):
        fitted = coerce_all([item], layout.tables[table].table.c[name].type)
        if not fitted:
            return None
        out.append(fitted[0].rstrip(" ") if isinstance(fitted[0], str) else fitted[0])
    return tuple(out)


def _next_asks(layout: Layout, found: Found, new: dict[str, dict[tuple, int]], access: bool) -> dict[str, list[_Ask]]:
    asks: dict[str, list[_Ask]] = defaultdict(list)
    for name, keys in new.items():
        rows = found.rows[name]
        owners = [k for k, how in keys.items() if how == OWNER]
        mine = [k for k, how in keys.items() if how >= OWNED]
        for e in layout.down(name):
            if e.relation != BELONGS_TO or not owners:
                continue
            values = {tuple(rows[k][c] for c in e.parent_columns) for k in owners}
            values = _coerced(layout, e.child, e.child_columns, {v for v in values if None not in v})
            if values:
                asks[e.child].append(_Ask(e.child_columns, values, OWNER))
        for e in [*layout.up(name), *layout.self_edges(name)]:
            values = {tuple(rows[k][c] for c in e.child_columns) for k in mine}
            values = {v for v in values if None not in v}
            if not values:
                continue
            parent = layout.tables[e.parent]
            if e.relation == OWNS and e.parent != name:
                kind = OWNED
            elif not parent.personal and access and e.parent != name:
                kind = REFERENCE
            else:  # someone else's (or a shared) row: named, never read
                found.links[e] |= values
                continue
            values = _coerced(layout, e.parent, e.parent_columns, values)
            if e.parent_columns == parent.key:  # rows already known as well as this need no second look
                values = {v for v in values if found.kind[e.parent].get(v, 0) < kind}
            if values:
                asks[e.parent].append(_Ask(e.parent_columns, values, kind))
    return asks


def _answers(row: dict, ask: _Ask) -> bool:
    if ask.mode == Match.exact:
        return tuple(row[c] for c in ask.columns) in ask.values
    if ask.mode == Match.contains:
        return any(matching.mentions(row[ask.columns[0]], needle) for needle in ask.values)
    return (matching.fold(ask.mode, row[ask.columns[0]]),) in ask.values


def _absorb(
    found: Found, tl: TableLayout, name: str, rows: Iterator[dict], asks: list[_Ask], new: dict[str, dict[tuple, int]]
) -> None:
    kinds = {a.kind for a in asks}
    refine = any(a.mode == Match.contains for a in asks)  # a text search only finds candidates
    for row in rows:
        key = row_key(tl, row)
        if refine and not any(_answers(row, a) for a in asks):
            continue
        if len(kinds) == 1:
            kind = next(iter(kinds))
        else:  # asked for as the subject's and as something else at once: the strongest ask the row answers
            answered = [a.kind for a in asks if _answers(row, a)]
            # none answered in Python: the database's own comparison matched (an identity's case folding)
            kind = max(answered) if answered else OWNER if any(a.mode != Match.exact for a in asks) else min(kinds)
        if kind > found.kind[name].get(key, 0):
            found.rows[name].setdefault(key, row)
            found.kind[name][key] = kind
            new[name][key] = kind


def _drop_links_to_own(layout: Layout, found: Found) -> None:
    """A link to a row that turned out to be the subject's own is no link to anyone else."""
    for e, values in list(found.links.items()):
        own = {
            comparable(layout, e.parent, e.parent_columns, tuple(r[c] for c in e.parent_columns))
            for r in found.owned_rows(e.parent).values()
        }
        values -= {v for v in values if comparable(layout, e.parent, e.parent_columns, v) in own}
        if not values:
            del found.links[e]


def holds_any(conn: Connection, layout: Layout, identities: dict[str, list[str]]) -> bool:
    """Whether a row of an identity column names the person (exact, casefold or phone matches; free-text columns
    are not searched): where a person is, without reading their rows. One `LIMIT 1` query per batch of values."""
    layout.check()
    for name, asks in sorted(_entry_asks(layout, identities).items()):
        tl = layout.tables[name]
        for ask in asks:
            if ask.mode == Match.contains:
                continue
            values = sorted(ask.values, key=repr)
            for start in range(0, len(values), BATCH):
                clause = _clause(tl, ask, values[start : start + BATCH])
                if conn.execute(select(literal(1)).select_from(tl.table).where(clause).limit(1)).first():
                    return True
    return False


def find(conn: Connection, layout: Layout, identities: dict[str, list[str]], *, access: bool = False) -> Found:
    """Every row of the subject in this datastore; with `access`, also the non-personal rows they point at."""
    layout.check()
    found = Found()
    asks = _entry_asks(layout, identities)
    while asks:
        new: dict[str, dict[tuple, int]] = defaultdict(dict)
        for name in sorted(asks):
            _absorb(found, layout.tables[name], name, _query(conn, layout, name, asks[name]), asks[name], new)
        asks = _next_asks(layout, found, new, access)
    _drop_links_to_own(layout, found)
    return found
