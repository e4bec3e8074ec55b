"""Erasure of a subject's rows in one transaction: each field's action, in an order that respects foreign keys.

What happens to a row of the subject:
- its table (or a field) says `delete_row` and no field of the table is retained: the row is deleted — unless a
  row that stays still refers to it (a retained order pointing at the customer), then it stays and its personal
  fields are nulled instead (counted as `kept_referenced`);
- otherwise each personal field gets its action: `null`; `mask` (`***`); `hash` (`sha256:` + a keyed hash, so
  the value can't be read back but the same person still counts once); `retain` (left as it is and reported with
  its reason and end date). A column that can't take the action gets the nearest safe one: `null` on a NOT NULL
  text column writes the hash, `mask`/`hash` on a nullable non-text column nulls it, reference columns are nulled
  rather than masked; a NOT NULL non-text column or a primary key stays and is reported as kept, with the reason.
Updates run first, then deletes children-first (`Layout.ordering`). Where a reference cycle has to be cut, the
nullable reference columns of rows about to be deleted are nulled first; a cycle of NOT NULL references is deleted
with checks deferred to commit (SQLite `PRAGMA defer_foreign_keys`, PostgreSQL `SET CONSTRAINTS ALL DEFERRED` —
effective for DEFERRABLE constraints, the only way such rows can exist there — MariaDB/MySQL
`SET FOREIGN_KEY_CHECKS = 0` for the deletes only). A delete another row (outside the subject's rows) blocks is
retried row by row; a row that still cannot go is kept with its personal fields nulled.

Only changed values are written and counted, so erasing again after a committed erasure changes nothing and
reports zero changes — a step repeated after a crash is harmless.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Connection, and_, bindparam, delete, tuple_, update
from sqlalchemy.exc import IntegrityError

from privet.connectors.base import ConnectorError, FieldSpec, StepResult
from privet.connectors.sql.schema import Layout, TableLayout
from privet.connectors.sql.values import hash_value, is_hashed, mask_value
from privet.connectors.sql.walk import BATCH, Found
from privet.kit.durations import Duration

COUNTS = ("found", "deleted", "nulled", "masked", "hashed", "retained")


@dataclass(frozen=True)
class Effect:
    """What erasure does to one column of a row that stays: null, mask, hash, retain or kept (with a reason)."""

    kind: str
    spec: FieldSpec
    reason: str | None = None


def effect(tl: TableLayout, spec: FieldSpec, reference_columns: set[str]) -> Effect | None:
    """The effect of a field's action on a row that is not deleted (None: column untouched)."""
    action, name = spec.action, spec.name
    if action is None or (action == "delete_row" and not spec.category):
        return None
    if action == "retain":
        return Effect("retain", spec)
    if name in tl.key:
        return Effect("kept", spec, "primary key; kept so related records stay consistent")
    nullable, text = tl.nullable(name), tl.text(name)
    if name in reference_columns:  # a masked or hashed reference would point nowhere: empty it or keep it
        return Effect("null", spec) if nullable else Effect("kept", spec, "NOT NULL reference to another record")
    if action in ("null", "delete_row"):
        return Effect("null", spec) if nullable else Effect("hash", spec) if text else \
            Effect("kept", spec, "NOT NULL column that cannot be emptied")
    if text:
        return Effect(action, spec)
    return Effect("null", spec) if nullable else Effect("kept", spec, "NOT NULL non-text column")


@dataclass
class _Table:
    tl: TableLayout
    rows: dict[tuple, dict]
    effects: list[Effect]
    deletes: bool
    doomed: set[tuple] = field(default_factory=set)  # rows to delete
    referenced: set[tuple] = field(default_factory=set)  # rows of a delete table kept because something refers


def _tables(layout: Layout, found: Found) -> dict[str, _Table]:
    out: dict[str, _Table] = {}
    for name, tl in layout.tables.items():
        refs = {c for e in layout.plan.edges if e.child == name for c in e.child_columns}
        specs = [f for f in tl.spec.fields if f.name in tl.table.c]
        effects = [x for x in (effect(tl, f, refs) for f in specs) if x]
        retains = any(f.action == "retain" for f in specs)
        deletes = any(f.action == "delete_row" for f in specs) and not retains
        rows = found.owned_rows(name)
        out[name] = _Table(tl, rows, effects, deletes, set(rows) if deletes else set())
    return out


def _nulled_when_kept(t: _Table) -> set[str]:
    return {x.spec.name for x in t.effects if x.kind == "null"}


def _protect_referenced(layout: Layout, tables: dict[str, _Table], found: Found) -> None:
    """A row to delete that a staying row refers to stays (to a fixpoint: keeping one may keep its parents)."""
    changed = True
    while changed:
        changed = False
        for e in layout.plan.edges:
            parent, child = tables[e.parent], tables[e.child]
            if not parent.doomed:
                continue
            index = {tuple(parent.rows[k][c] for c in e.parent_columns): k for k in parent.doomed}
            cleared = set(e.child_columns) <= _nulled_when_kept(child)
            for key, row in found.rows.get(e.child, {}).items():
                if key in child.doomed or (key in child.rows and cleared):
                    continue
                target = index.get(tuple(row[c] for c in e.child_columns))
                if target is not None and target in parent.doomed:
                    parent.doomed.discard(target)
                    parent.referenced.add(target)
                    changed = True


def _changes(t: _Table, row: dict, hash_key: bytes, counts: dict[str, int]) -> dict[str, object]:
    new: dict[str, object] = {}
    kinds: set[str] = set()
    for x in t.effects:
        name, current = x.spec.name, row[x.spec.name]
        if current is None or x.kind in ("retain", "kept"):
            continue
        col = t.tl.table.c[name]
        length = getattr(col.type, "length", None)
        if x.kind == "null":
            value, kind = None, "nulled"
        elif x.kind == "mask" or (x.kind == "hash" and hash_value(hash_key, current, length) is None):
            value, kind = mask_value(length), "masked"
        elif is_hashed(current):
            continue
        else:
            value, kind = hash_value(hash_key, current, length), "hashed"
        if value != current:
            new[name] = value
            kinds.add(kind)
    for kind in kinds:
        counts[kind] += 1
    return new


def update_rows(conn: Connection, tl: TableLayout, changes: dict[tuple, dict[str, object]]) -> None:
    """Write new values by primary key, one executemany per set of changed columns."""
    if not tl.key and any(changes.values()):  # without a key an UPDATE could not be limited to these rows
        raise ConnectorError(f"Table `{tl.spec.name}` has no primary key, so its rows cannot be changed one by "
                             "one (declare `primary_key` in the data map)")
    groups: dict[tuple[str, ...], list[tuple[tuple, dict]]] = defaultdict(list)
    for key, new in changes.items():
        if new:
            groups[tuple(sorted(new))].append((key, new))
    for columns, items in groups.items():
        where = and_(*(tl.table.c[k] == bindparam(f"_k{i}") for i, k in enumerate(tl.key)))
        stmt = update(tl.table).where(where).values({c: bindparam(f"_v{i}") for i, c in enumerate(columns)})
        params = [{**{f"_k{i}": v for i, v in enumerate(key)}, **{f"_v{i}": new[c] for i, c in enumerate(columns)}}
                  for key, new in items]
        conn.execute(stmt, params)


def _cycle_breaks(layout: Layout, tables: dict[str, _Table]) -> dict[str, dict[tuple, dict[str, object]]]:
    """Null the cut (nullable) cycle references of rows to be deleted that point at other rows to be deleted."""
    out: dict[str, dict[tuple, dict[str, object]]] = defaultdict(dict)
    for e in layout.ordering.broken:
        parent, child = tables[e.parent], tables[e.child]
        targets = {tuple(parent.rows[k][c] for c in e.parent_columns) for k in parent.doomed}
        for key in child.doomed:
            value = tuple(child.rows[key][c] for c in e.child_columns)
            if None not in value and value in targets:
                out[e.child].setdefault(key, {}).update(dict.fromkeys(e.child_columns))
    return out


def _defer_checks(conn: Connection, on: bool) -> None:
    dialect = conn.dialect.name
    if dialect == "sqlite" and on:
        conn.exec_driver_sql("PRAGMA defer_foreign_keys = ON")  # reset by SQLite at commit
    elif dialect == "postgresql" and on:
        conn.exec_driver_sql("SET CONSTRAINTS ALL DEFERRED")
    elif dialect in ("mysql", "mariadb"):
        conn.exec_driver_sql(f"SET FOREIGN_KEY_CHECKS = {0 if on else 1}")


def _delete(conn: Connection, t: _Table, hash_key: bytes, counts: dict[str, int]) -> None:
    keys = sorted(t.doomed, key=repr)
    col = t.tl.table.c
    for start in range(0, len(keys), BATCH):
        chunk = keys[start:start + BATCH]
        if len(t.tl.key) == 1:
            clause = col[t.tl.key[0]].in_([k[0] for k in chunk])
        else:
            clause = tuple_(*(col[c] for c in t.tl.key)).in_(chunk)
        try:
            with conn.begin_nested():
                counts["deleted"] += conn.execute(delete(t.tl.table).where(clause)).rowcount
        except IntegrityError:  # a row outside the subject's refers to one of these: go row by row
            for key in chunk:
                try:
                    with conn.begin_nested():
                        where = and_(*(col[c] == v for c, v in zip(t.tl.key, key)))
                        counts["deleted"] += conn.execute(delete(t.tl.table).where(where)).rowcount
                except IntegrityError:
                    t.doomed.discard(key)
                    t.referenced.add(key)
                    update_rows(conn, t.tl, {key: _changes(t, t.rows[key], hash_key, counts)})


def _retained(t: _Table, name: str, kept: set[tuple], retain_from: date) -> list[dict]:
    out = []
    for x in t.effects:
        if x.kind not in ("retain", "kept"):
            continue
        rows = sum(1 for k in kept if t.rows[k][x.spec.name] is not None)
        if not rows:
            continue
        until = None
        if x.kind == "retain" and x.spec.retain_duration:
            until = Duration.parse(x.spec.retain_duration).after(retain_from).isoformat()
        out.append({"table": name, "field": x.spec.name, "category": x.spec.category,
                    "reason": x.spec.retain_reason if x.kind == "retain" else x.reason, "until": until,
                    "legal_reference": x.spec.legal_reference if x.kind == "retain" else None, "rows": rows})
    return out


def erase(conn: Connection, layout: Layout, found: Found, *, retain_from: date, hash_key: bytes) -> StepResult:
    """Apply the erasure to the subject's rows found on `conn` (inside the caller's transaction)."""
    tables = _tables(layout, found)
    _protect_referenced(layout, tables, found)
    counts = {name: dict.fromkeys(COUNTS, 0) for name in tables}
    for name, t in tables.items():
        counts[name]["found"] = len(t.rows)
        needs_key = t.rows and (t.doomed or t.effects)
        if needs_key and not t.tl.key:
            raise ConnectorError(f"Datastore `{layout.plan.datastore}`: table `{name}` has no primary key "
                                 "(declare `primary_key` in the data map)")
    for name, t in tables.items():  # rows that stay: their fields' actions
        kept = {k: _changes(t, t.rows[k], hash_key, counts[name]) for k in t.rows if k not in t.doomed}
        update_rows(conn, t.tl, kept)
    for name, breaks in _cycle_breaks(layout, tables).items():
        update_rows(conn, tables[name].tl, breaks)
    deferred = any(tables[e.child].doomed for e in layout.ordering.deferred)
    if deferred:
        _defer_checks(conn, True)
    try:
        for name in layout.ordering.order:
            if name in tables and tables[name].doomed:
                _delete(conn, tables[name], hash_key, counts[name])
    finally:
        if deferred:  # MariaDB/MySQL: never hand a connection back to the pool with checks off
            _defer_checks(conn, False)
    result = StepResult()
    for name, t in tables.items():
        if t.referenced:
            counts[name]["kept_referenced"] = len(t.referenced)
        kept = {k for k in t.rows if k not in t.doomed}
        result.retained += _retained(t, name, kept, retain_from)
        counts[name]["retained"] = sum(1 for k in kept if any(
            x.kind in ("retain", "kept") and t.rows[k][x.spec.name] is not None for x in t.effects))
    result.counts = counts
    return result
