"""Counting and sweeping one table's expired rows on the company's database, in primary-key batches.

A batch is a primary-key range: the key of the `batch`-th expired row after the last checkpoint bounds it,
then one DELETE (or UPDATE) takes the expired rows in that range. Each batch is its own transaction on the
company's database, and the checkpoint (the range's upper key) is what a resumed run starts after, so a kill
costs at most one batch of re-checking and never half a batch (P24, DESIGN: resumable jobs).
Rows still referenced by another table's foreign key are kept and counted (deleting them would fail or
cascade into data nobody chose to delete). Rows of subjects under a legal hold are kept and counted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (Column, Connection, MetaData, String, Table, Text, and_, cast, delete, exists, func,
                        inspect, literal, not_, or_, select, update)
from sqlalchemy.exc import NoSuchTableError

from privet.kit.errors import InvalidInput
from privet.retention.rules import Rule

ANONYMISED = "anonymised"


@dataclass
class Shape:
    """The reflected table and what refers to it."""

    table: Table
    key: tuple[Column, ...]
    children: list[tuple[Table, tuple[Column, ...], tuple[str, ...]]]  # (child, its columns, our columns)


def reflect(conn: Connection, rule: Rule) -> Shape:
    """The table as it is in the database; InvalidInput when the table or a named column is missing."""
    meta = MetaData()
    try:
        table = Table(rule.table, meta, autoload_with=conn)
    except NoSuchTableError:
        raise InvalidInput(f"Datastore {rule.datastore} has no table {rule.table}",
                           "fix the data map or the database") from None
    missing = [name for name in (rule.column, *rule.fields, *rule.primary_key) if name not in table.c]
    if missing:
        raise InvalidInput(f"Table {rule.key} has no column {', '.join(missing)} (retention trigger or fields)",
                           "name an existing timestamp column in `retention.column` and existing `fields`")
    pk = tuple(table.c[name] for name in rule.primary_key) or tuple(table.primary_key.columns)
    if not pk:
        raise InvalidInput(f"Table {rule.key} has no primary key", "declare `primary_key` in the data map")
    children = []
    inspector = inspect(conn)
    for name in inspector.get_table_names():
        for fk in inspector.get_foreign_keys(name):
            if fk["referred_table"] == rule.table and name != rule.table or (
                    fk["referred_table"] == rule.table and name == rule.table
                    and fk["constrained_columns"] != fk["referred_columns"]):
                child = table if name == rule.table else Table(name, meta, autoload_with=conn)
                children.append((child.alias() if child is table else child,
                                 tuple(fk["constrained_columns"]), tuple(fk["referred_columns"])))
    return Shape(table, pk, [(c, tuple(c.c[n] for n in cols), ours) for c, cols, ours in children])


def expired(shape: Shape, rule: Rule, now: datetime, held: dict[str, list[str]]):  # noqa: ANN201 - a clause
    """Rows past retention, not held (rows still referenced are filtered separately)."""
    table = shape.table
    cutoff = rule.cutoff(now).replace(tzinfo=None) if _naive(table.c[rule.column]) else rule.cutoff(now)
    clause = and_(table.c[rule.column].is_not(None), table.c[rule.column] < cutoff)
    for field, kind in rule.identities:
        values = held.get(kind)
        if values:
            clause = and_(clause, or_(table.c[field].is_(None), table.c[field].not_in(values)))
    if rule.action != "delete":  # rows already anonymised or nulled are done
        clause = and_(clause, or_(*[_not_done(table.c[name], rule.action) for name in rule.fields]))
    return clause


def _naive(column: Column) -> bool:
    return not getattr(column.type, "timezone", False)


def _not_done(column: Column, action: str):  # noqa: ANN202
    if action == "null" or not isinstance(column.type, (String, Text)):
        return column.is_not(None)
    return and_(column.is_not(None), not_(column.like(f"{ANONYMISED}:%")))


def unreferenced(shape: Shape):  # noqa: ANN201 - a clause: no other row points at this one
    clauses = []
    for child, child_cols, ours in shape.children:
        match = and_(*[c == shape.table.c[o] for c, o in zip(child_cols, ours, strict=True)])
        clauses.append(not_(exists().where(match)))
    return and_(*clauses) if clauses else literal(True)


def count(conn: Connection, shape: Shape, rule: Rule, now: datetime, held: dict[str, list[str]]) -> dict:
    """How many rows are past retention, and how many of those a sweep would keep because others refer to them."""
    base = expired(shape, rule, now, {})
    past = conn.execute(select(func.count()).select_from(shape.table).where(base)).scalar_one()
    sweepable = expired(shape, rule, now, held)
    if rule.action == "delete":
        sweepable = and_(sweepable, unreferenced(shape))
    taken = conn.execute(select(func.count()).select_from(shape.table).where(sweepable)).scalar_one() if past else 0
    held_count = 0
    if past and any(held.get(kind) for _, kind in rule.identities):
        held_count = past - conn.execute(select(func.count()).select_from(shape.table)
                                         .where(expired(shape, rule, now, held))).scalar_one()
    return {"expired": past, "would_sweep": taken, "kept_held": held_count,
            "kept_referenced": past - taken - held_count}


def batches(engine_connect: Callable[[], Connection], shape: Shape, rule: Rule, now: datetime,
            held: dict[str, list[str]], *, after: str | None, size: int) -> Iterator[tuple[int, str]]:
    """Sweep batch by batch in the order of the trigger column; yields (rows changed, checkpoint) after each
    committed batch. A batch is every sweepable row up to the trigger moment of the `size`-th one, so it is a
    range scan on the trigger column's index, like a plain `DELETE ... WHERE column < cutoff` over a slice."""
    column = shape.table.c[rule.column]
    condition = expired(shape, rule, now, held)
    if rule.action == "delete":
        condition = and_(condition, unreferenced(shape))
    low = _moment(after)
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
                changed = conn.execute(update(shape.table).where(chosen)
                                       .values(_new_values(shape.table, rule))).rowcount
        low = high
        yield changed, high.isoformat()
        if last:
            return


def _moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _new_values(table: Table, rule: Rule) -> dict:
    """null: every listed field NULL. anonymise: text becomes `anonymised:<row key>` (no personal value left,
    still unique where a unique index needs it); other types NULL."""
    first_key = table.c[rule.primary_key[0]] if rule.primary_key else list(table.primary_key.columns)[0]
    values = {}
    for name in rule.fields:
        column = table.c[name]
        if rule.action == "anonymise" and isinstance(column.type, (String, Text)):
            token = literal(f"{ANONYMISED}:") + cast(first_key, String(64))
            length = getattr(column.type, "length", None)  # a short VARCHAR keeps what fits (still no personal data)
            values[name] = func.substr(token, 1, length) if length else token
        else:
            values[name] = None
    return values
