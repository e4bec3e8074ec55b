"""Counting and sweeping one table's expired rows on the company's database, in primary-key batches.

A batch is a primary-key range: the key of the `batch`-th expired row after the last checkpoint bounds it,
then one DELETE (or UPDATE) takes the expired rows in that range. Each batch is its own transaction on the
company's database, and the checkpoint (the range's upper key) is what a resumed run starts after, so a kill
costs at most one batch of re-checking and never half a batch (P24, DESIGN: resumable jobs).
Rows another row still refers to are kept and counted (deleting them would fail, cascade into data nobody chose
to delete, or leave orphans): through a foreign key the database declares (on any partition of a partitioned
table) or a reference the data map declares, inferred or not. Rows of subjects under a legal hold are kept and
counted.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    FromClause,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    and_,
    cast,
    delete,
    exists,
    func,
    inspect,
    literal,
    not_,
    or_,
    select,
    update,
)
from sqlalchemy.exc import NoSuchTableError
from sqlalchemy.types import TypeEngine

from privet.connectors.base import Edge
from privet.connectors.sql.schema import partitions, reflect_table
from privet.kit.errors import InvalidInput
from privet.retention.rules import Clock, Rule

ANONYMISED = "anonymised"


Reference = tuple[str, tuple[str, ...], tuple[str, ...]]  # (referring table, its columns, the columns it names)


@dataclass
class Shape:
    """The reflected table and what refers to it."""

    table: Table
    key: tuple[Column, ...]
    # (child, its columns, our columns); the child is the table itself (an alias) for a reference within it
    children: list[tuple[FromClause, tuple[Column, ...], tuple[str, ...]]]
    parents: dict[str, FromClause] = field(default_factory=dict)  # tables a trigger's moment is read from (`via`)


def reflect(conn: Connection, rule: Rule, mapped: Iterable[Edge] = ()) -> Shape:
    """The table as it is in the database, with every table referring to it: the foreign keys the database
    declares and the data map's references (`mapped`: the datastore's edges, inferred ones too, any relation).
    A partitioned table (PostgreSQL) is one table: a foreign key on any of its partitions is a reference of the
    whole table, so rows referred to from a partition that declares no key are kept too. InvalidInput when the
    table, a named column or a referring table or column is missing."""
    meta = MetaData()
    table = _table(conn, meta, rule.table, rule)
    own = [c.via[0] if c.via else c.column for c in rule.clocks]
    missing = [name for name in (*own, *rule.fields, *rule.primary_key) if name not in table.c]
    if missing:
        raise InvalidInput(
            f"Table {rule.key} has no column {', '.join(missing)} (retention trigger or fields)",
            "name an existing timestamp column in `retention.column` and existing `fields`",
        )
    pk = tuple(table.c[name] for name in rule.primary_key) or tuple(table.primary_key.columns)
    if not pk:
        raise InvalidInput(f"Table {rule.key} has no primary key", "declare `primary_key` in the data map")
    if rule.via and len(pk) != 1:
        raise InvalidInput(
            f"Table {rule.key} reads its trigger through a reference and has a composite key",
            "batches of such a rule follow a one-column key: declare the trigger's column on the table",
        )
    parents: dict[str, FromClause] = {}
    for clock in rule.clocks:
        if clock.via is None:
            continue
        _, name, key = clock.via
        parent = table.alias() if name == rule.table else parents.get(name) or _table(conn, meta, name, rule)
        gone = [f"{name}.{c}" for c in (key, clock.column) if c not in parent.c]
        if gone:
            raise InvalidInput(
                f"Retention of {rule.key}: the trigger's moment names a column the database lacks: {', '.join(gone)}",
                "fix the table's `timestamps:` in the data map or the database",
            )
        parents[name] = parent
    references = _declared(conn, rule.table) | {
        (e.child, tuple(e.child_columns), tuple(e.parent_columns)) for e in mapped if e.parent == rule.table
    }
    children: list[tuple[FromClause, tuple[Column, ...], tuple[str, ...]]] = []
    reflected: dict[str, Table] = {}
    for name, cols, ours in sorted(references):
        if name == rule.table and cols == ours:  # a row naming itself keeps nothing
            continue
        gone = [f"{rule.table}.{c}" for c in ours if c not in table.c]
        if name == rule.table:
            child = table.alias()
        else:
            if name not in reflected:
                reflected[name] = _table(conn, meta, name, rule)
            child = reflected[name]
        gone += [f"{name}.{c}" for c in cols if c not in child.c]
        if gone:
            raise InvalidInput(
                f"Retention of {rule.key}: the reference {name}({', '.join(cols)}) → "
                f"{rule.table}({', '.join(ours)}) names a column the database lacks: "
                f"{', '.join(gone)}",
                "fix the data map's `references:` or the database",
            )
        children.append((child, tuple(child.c[c] for c in cols), ours))
    return Shape(table, pk, children, parents)


def _table(conn: Connection, meta: MetaData, name: str, rule: Rule) -> Table:
    schema, _, short = name.rpartition(".")
    try:
        return reflect_table(conn, meta, short, schema or None)
    except NoSuchTableError:
        raise InvalidInput(
            f"Datastore {rule.datastore} has no table {name}", "fix the data map or the database"
        ) from None


def _declared(conn: Connection, table: str) -> set[Reference]:
    """The database's foreign keys into `table` (or into one of its partitions), each as a reference from the
    referring table, a partition's key as one of its partitioned table."""
    default = conn.dialect.default_schema_name
    root = {
        name: parent
        for (schema, parent), members in partitions(conn).items()
        if schema is None
        for where, name in members
        if where == default
    }
    out: set[Reference] = set()
    for (schema, name), keys in inspect(conn).get_multi_foreign_keys().items():
        if schema not in (None, default):
            continue
        for fk in keys:
            referred = fk["referred_table"]
            if (
                fk.get("referred_schema") in (None, default)
                and root.get(referred, referred) == table
                and fk["constrained_columns"]
            ):
                out.add((root.get(name, name), tuple(fk["constrained_columns"]), tuple(fk["referred_columns"])))
    return out


def expired(shape: Shape, rule: Rule, now: datetime, held: dict[str, list[str]]) -> ColumnElement[bool]:
    """Rows past retention, not held (rows still referenced are filtered separately)."""
    table = shape.table
    clause = and_(*(_past(shape, rule, clock, now) for clock in rule.clocks))
    for name, kind in rule.identities:
        values = held.get(kind)
        if values:
            clause = and_(clause, or_(table.c[name].is_(None), table.c[name].not_in(values)))
    if rule.action != "delete":  # rows already anonymised or nulled are done
        clause = and_(clause, or_(*[_not_done(table.c[name], rule.action) for name in rule.fields]))
    return clause


def _past(shape: Shape, rule: Rule, clock: Clock, now: datetime) -> ColumnElement[bool]:
    """The clock's moment is known and before its cut-off: a column of the row, or (`via`) of the row it names."""
    column: ColumnElement[Any]
    if clock.via is None:
        column = shape.table.c[clock.column]
    else:
        ref, parent_name, key = clock.via
        parent = shape.parents[parent_name]
        column = parent.c[clock.column]
    cutoff = rule.cutoff(now, clock)
    cutoff = cutoff.replace(tzinfo=None) if _naive(column) else cutoff
    moment = and_(column.is_not(None), column < cutoff)
    if clock.via is None:
        return moment
    return exists().where(_equal(shape.table.c[ref], parent.c[key]), moment)


def _naive(column: ColumnElement[Any]) -> bool:
    return not getattr(column.type, "timezone", False)


def _not_done(column: Column, action: str) -> ColumnElement[bool]:
    if action == "null" or not isinstance(column.type, (String, Text)):
        return column.is_not(None)
    length = getattr(column.type, "length", None)
    if length and length <= len(ANONYMISED) + 1:  # a short column holds the start of the token: that is done too
        return and_(column.is_not(None), column != f"{ANONYMISED}:"[:length])
    return and_(column.is_not(None), not_(column.like(f"{ANONYMISED}:%")))


def unreferenced(shape: Shape, columns: Iterable[str] | None = None) -> ColumnElement[bool]:
    """No other row refers to this one (through references to any of `columns`; None: to any column): one
    `NOT EXISTS` per referring table, so a batch stays one set-based statement."""
    clauses = []
    for _child, child_cols, ours in shape.children:
        if columns is not None and not set(ours) & set(columns):
            continue
        match = and_(*[_equal(c, shape.table.c[o]) for c, o in zip(child_cols, ours, strict=True)])
        clauses.append(not_(exists().where(match)))
    return and_(*clauses) if clauses else literal(True)


def sweepable(shape: Shape, rule: Rule, now: datetime, held: dict[str, list[str]]) -> ColumnElement[bool]:
    """Rows a run changes: past retention, not held, and not referred to by another row. A delete keeps rows
    anything refers to; an anonymise or null keeps rows referred to through a column it would change."""
    condition = expired(shape, rule, now, held)
    return and_(condition, unreferenced(shape, None if rule.action == "delete" else rule.fields))


def _kind(sa_type: TypeEngine[Any]) -> str:
    if isinstance(sa_type, (Integer, Numeric)):
        return "number"
    if isinstance(sa_type, String):
        return "text"
    try:
        return sa_type.python_type.__name__
    except NotImplementedError:
        return type(sa_type).__name__


def _equal(theirs: ColumnElement[Any], ours: ColumnElement[Any]) -> ColumnElement[bool]:
    """theirs = ours, as text when the two columns hold different kinds of values (a text `customer_ref` naming
    integer keys): the referenced side is cast, so an index on the referring column still serves the lookup."""
    if _kind(theirs.type) == _kind(ours.type):
        return theirs == ours
    as_text = [c if _kind(c.type) == "text" else cast(c, String) for c in (theirs, ours)]
    return as_text[0] == as_text[1]


def count(conn: Connection, shape: Shape, rule: Rule, now: datetime, held: dict[str, list[str]]) -> dict:
    """How many rows are past retention, and how many of those a sweep would keep because others refer to them."""
    base = expired(shape, rule, now, {})
    past = conn.execute(select(func.count()).select_from(shape.table).where(base)).scalar_one()
    chosen = sweepable(shape, rule, now, held)
    taken = conn.execute(select(func.count()).select_from(shape.table).where(chosen)).scalar_one() if past else 0
    held_count = 0
    if past and any(held.get(kind) for _, kind in rule.identities):
        held_count = (
            past
            - conn.execute(
                select(func.count()).select_from(shape.table).where(expired(shape, rule, now, held))
            ).scalar_one()
        )
    return {
        "expired": past,
        "would_sweep": taken,
        "kept_held": held_count,
        "kept_referenced": past - taken - held_count,
    }


def batches(
    engine_connect: Callable[[], Connection],
    shape: Shape,
    rule: Rule,
    now: datetime,
    held: dict[str, list[str]],
    *,
    after: str | None,
    size: int,
) -> Iterator[tuple[int, str]]:
    """Sweep batch by batch in the order of the trigger column; yields (rows changed, checkpoint) after each
    committed batch. A batch is every sweepable row up to the trigger moment of the `size`-th one, so it is a
    range scan on the trigger column's index, like a plain `DELETE ... WHERE column < cutoff` over a slice."""
    column = shape.key[0] if rule.via else shape.table.c[rule.column]  # a trigger read elsewhere: key order
    condition = sweepable(shape, rule, now, held)
    low = _checkpoint(after, rule)
    while True:
        with engine_connect() as conn, conn.begin():
            window = condition if low is None else and_(condition, column > low)
            high = conn.execute(select(column).where(window).order_by(column).offset(size - 1).limit(1)).scalar()
            last = high is None
            if last:  # the last, partial batch
                high = conn.execute(select(func.max(column)).where(window)).scalar()
                if high is None:
                    return
            chosen = and_(window, column <= high)
            if rule.action == "delete":
                changed = conn.execute(delete(shape.table).where(chosen)).rowcount
            else:
                changed = conn.execute(
                    update(shape.table).where(chosen).values(_new_values(shape.table, rule))
                ).rowcount
        assert high is not None  # the batch's upper bound: a row was found
        low = high
        yield changed, json.dumps(high) if rule.via else high.isoformat()
        if last:
            return


def _checkpoint(text: str | None, rule: Rule) -> Any:  # a key value (JSON), a moment, a day or None
    """Where a resumed run starts: the key (rules whose trigger is read through a reference) or the moment."""
    if not text:
        return None
    if rule.via:
        return json.loads(text)
    moment = datetime.fromisoformat(text)
    return moment.date() if len(text) == 10 else moment  # a DATE trigger column checkpoints a day


def _new_values(table: Table, rule: Rule) -> dict:
    """null: every listed field NULL. anonymise: text becomes `anonymised:<row key>` (no personal value left,
    still unique where a unique index needs it); other types NULL."""
    first_key = table.c[rule.primary_key[0]] if rule.primary_key else next(iter(table.primary_key.columns))
    values: dict[str, Any] = {}  # a SQL expression or None per column
    for name in rule.fields:
        column = table.c[name]
        if rule.action == "anonymise" and isinstance(column.type, (String, Text)):
            token = literal(f"{ANONYMISED}:") + cast(first_key, String(64))
            length = getattr(column.type, "length", None)  # a short VARCHAR keeps what fits (still no personal data)
            values[name] = func.substr(token, 1, length) if length else token
        else:
            values[name] = None
    return values
