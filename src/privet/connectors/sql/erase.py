"""Erasure of a subject's rows in one transaction: each field's action, in an order that respects references.

What happens to a row of the subject (see `walk` for whose rows are taken):
- a row the subject's rows `own` (their address) that other records also refer to (a staff member, a store, another
  customer) is shared: it is left exactly as it is and reported as kept, "shared with other records";
- its table (or a field) says `delete_row` and no field of the table is retained: the row is deleted — unless a
  row that stays still refers to it (a retained order, another customer's `referred_by`, a row in a partition or a
  table the database declares no foreign key for), then it stays with its personal fields emptied
  (`referenced`);
- otherwise each personal field gets its action: `null`; `mask` (`***`); `hash` (`sha256:` + a keyed hash, so
  the value can't be read back but the same person still counts once); `retain` (left as it is and reported with
  its reason and end date). A column that can't take the action gets the nearest safe one: `null` on a NOT NULL
  text column writes the hash, `mask`/`hash` on a nullable non-text column nulls it, reference columns are nulled
  rather than masked. A NOT NULL non-text column or a primary key cannot be emptied: the row is an exception
  (`cannot_empty`), like a row holding personal fields with no action configured (`no_action`).
Updates run first, then deletes children-first (`Layout.ordering`). Where a reference cycle has to be cut, the
nullable reference columns of rows about to be deleted are nulled first; a cycle of NOT NULL references is deleted
with checks deferred to commit (SQLite `PRAGMA defer_foreign_keys`, PostgreSQL `SET CONSTRAINTS ALL DEFERRED` —
effective for DEFERRABLE constraints, the only way such rows can exist there — MariaDB/MySQL
`SET FOREIGN_KEY_CHECKS = 0` for the deletes only). A delete another row blocks is retried row by row; a row that
still cannot go is kept with its personal fields emptied.

Counts are of rows changed (`deleted`, `updated` and by kind `nulled`/`masked`/`hashed`) and rows kept by reason,
never of rows merely found. Only changed values are written and counted, so erasing again after a committed
erasure changes nothing and reports zero changes. `Expected` is the state the transaction leaves (deleted keys,
new values): written down before the commit, it lets a step interrupted after the commit recover its counts.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import ColumnElement, Connection, and_, bindparam, delete, tuple_, update
from sqlalchemy.exc import IntegrityError

from privet.connectors.base import BELONGS_TO, ConnectorError, Edge, FieldSpec, StepResult
from privet.connectors.sql.schema import Layout, TableLayout
from privet.connectors.sql.values import hash_value, is_hashed, mask_value
from privet.connectors.sql.walk import (
    BATCH,
    OWNER,
    Found,
    _Ask,
    _coerced,
    _query,
    comparable,
    row_key,
    selected_columns,
)
from privet.kit.durations import Duration

COUNTS = (
    "found",
    "deleted",
    "updated",
    "nulled",
    "masked",
    "hashed",
    "retained",
    "shared",
    "referenced",
    "no_action",
    "cannot_empty",
    "copies_removed",
)
COPY_PASSES = 3  # a trigger that copies a copy: bounded
SHARED = "shared with other records"
REFERENCED = "other records refer to it; kept without its personal details"
NO_ACTION = "no erasure action is configured for it in the data map"


@dataclass(frozen=True)
class Effect:
    """What erasure does to one column of a row that stays: null, mask, hash, retain, kept (cannot be emptied,
    with the reason) or none (personal, but no action is configured)."""

    kind: str
    spec: FieldSpec
    reason: str | None = None


def effect(tl: TableLayout, spec: FieldSpec, reference_columns: set[str]) -> Effect | None:
    """The effect of a field's action on a row that is not deleted (None: column untouched, not personal)."""
    action, name = spec.action, spec.name
    if action is None:
        return Effect("none", spec, NO_ACTION) if spec.category else None
    if action == "delete_row" and not spec.category:
        return None
    if action == "retain":
        return Effect("retain", spec)
    if name in tl.key:
        return Effect("kept", spec, "primary key, which cannot be emptied")
    nullable, text = tl.nullable(name), tl.text(name)
    if name in reference_columns:  # a masked or hashed reference would point nowhere: empty it or keep it
        return Effect("null", spec) if nullable else Effect("kept", spec, "NOT NULL reference to another record")
    if action in ("null", "delete_row"):
        return (
            Effect("null", spec)
            if nullable
            else Effect("hash", spec)
            if text
            else Effect("kept", spec, "NOT NULL column that cannot be emptied")
        )
    if text:
        return Effect(action, spec)
    return Effect("null", spec) if nullable else Effect("kept", spec, "NOT NULL non-text column")


@dataclass
class _Table:
    tl: TableLayout
    rows: dict[tuple, dict]  # the subject's rows this erasure may change (shared rows excluded)
    effects: list[Effect]
    deletes: bool
    columns: tuple[str, ...]  # selected columns (a key-less table's rows are matched on all of them)
    doomed: set[tuple] = field(default_factory=set)  # rows to delete
    referenced: set[tuple] = field(default_factory=set)  # rows of a delete table kept because something refers
    shared: set[tuple] = field(default_factory=set)  # owned parent rows other records refer to: untouched


@dataclass
class Expected:
    """The state an erasure's transaction leaves: {table: deleted keys} and {table: {key: {column: value}}}."""

    deleted: dict[str, list[tuple]] = field(default_factory=lambda: defaultdict(list))
    updated: dict[str, dict[tuple, dict]] = field(default_factory=lambda: defaultdict(dict))


def _external(
    conn: Connection, layout: Layout, found: Found, table: str, keys: set[tuple], edges: list[Edge]
) -> set[tuple]:
    """Keys (of `keys`, rows of `table`) that some row other than the subject's refers to through `edges`."""
    rows = found.rows[table]
    out: set[tuple] = set()
    for e in edges:
        by_value: dict[tuple | None, set[tuple]] = defaultdict(set)
        asked: set[tuple] = set()
        for key in keys:
            value = tuple(rows[key][c] for c in e.parent_columns)
            if None not in value:
                asked |= _coerced(layout, e.child, e.child_columns, {value})
                by_value[comparable(layout, e.child, e.child_columns, value)].add(key)
        if not asked:
            continue
        child = layout.tables[e.child]
        mine = found.owned.get(e.child, set())
        for row in _query(conn, layout, e.child, [_Ask(e.child_columns, asked, 0)]):
            if row_key(child, row) not in mine:
                out |= by_value.get(
                    comparable(layout, e.child, e.child_columns, tuple(row[c] for c in e.child_columns)), set()
                )
    return out


def _tables(conn: Connection, layout: Layout, found: Found) -> dict[str, _Table]:
    out: dict[str, _Table] = {}
    for name, tl in layout.tables.items():
        refs = {c for e in layout.plan.edges if e.child == name for c in e.child_columns}
        specs = [f for f in tl.spec.fields if f.name in tl.table.c]
        effects = [x for x in (effect(tl, f, refs) for f in specs) if x]
        retains = any(f.action == "retain" for f in specs)
        deletes = any(f.action == "delete_row" for f in specs) and not retains
        rows = found.owned_rows(name)
        t = _Table(tl, rows, effects, deletes, selected_columns(layout, name))
        parents = found.owned_by_owns(name)
        incoming = [e for e in layout.plan.edges if e.parent == name]
        if parents:  # rows the subject owns through a reference: shared when anything else refers to them
            t.shared = _external(conn, layout, found, name, parents, incoming)
        owners = set(rows) - parents
        if owners and deletes:  # rows only walked up to: their references other than belongs_to were not read
            unwalked = [e for e in incoming if e.relation != BELONGS_TO or e.child == name]
            t.referenced = _external(conn, layout, found, name, owners, unwalked)
        for key in t.shared:
            del t.rows[key]
        t.doomed = (set(t.rows) - t.referenced) if deletes else set()
        out[name] = t
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
            index = {
                comparable(layout, e.parent, e.parent_columns, tuple(parent.rows[k][c] for c in e.parent_columns)): k
                for k in parent.doomed
            }
            cleared = set(e.child_columns) <= _nulled_when_kept(child)
            for key, row in found.rows.get(e.child, {}).items():
                if key in child.doomed or (key in child.rows and cleared):
                    continue
                target = index.get(
                    comparable(layout, e.parent, e.parent_columns, tuple(row[c] for c in e.child_columns))
                )
                if target is not None and target in parent.doomed:
                    parent.doomed.discard(target)
                    parent.referenced.add(target)
                    changed = True


def _changes(t: _Table, row: dict, hash_key: bytes, counts: dict[str, int]) -> dict[str, object]:
    new: dict[str, object] = {}
    kinds: set[str] = set()
    for x in t.effects:
        name, current = x.spec.name, row[x.spec.name]
        if current is None or x.kind in ("retain", "kept", "none"):
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
    if new:
        counts["updated"] += 1
    return new


def _where(tl: TableLayout, columns: tuple[str, ...], key: tuple) -> ColumnElement[bool]:
    """The row with this key (a key-less table: the row with exactly these selected values)."""
    names = tl.key or columns
    return and_(*(tl.table.c[c].is_(None) if v is None else tl.table.c[c] == v for c, v in zip(names, key)))


def update_rows(
    conn: Connection, tl: TableLayout, changes: dict[tuple, dict[str, object]], columns: tuple[str, ...] = ()
) -> int:
    """Write new values by primary key, one executemany per set of changed columns; returns rows changed. A table
    without a primary key is changed row by row, matching all of a row's selected `columns`."""
    if not tl.key:
        if any(changes.values()) and not columns:
            raise ConnectorError(
                f"Table `{tl.spec.name}` has no primary key, so its rows cannot be changed one by "
                "one (declare `primary_key` in the data map)"
            )
        return sum(
            conn.execute(update(tl.table).where(_where(tl, columns, key)).values(new)).rowcount
            for key, new in changes.items()
            if new
        )
    groups: dict[tuple[str, ...], list[tuple[tuple, dict]]] = defaultdict(list)
    for key, new in changes.items():
        if new:
            groups[tuple(sorted(new))].append((key, new))
    for names, items in groups.items():
        where = and_(*(tl.table.c[k] == bindparam(f"_k{i}") for i, k in enumerate(tl.key)))
        stmt = update(tl.table).where(where).values({c: bindparam(f"_v{i}") for i, c in enumerate(names)})
        params = [
            {**{f"_k{i}": v for i, v in enumerate(key)}, **{f"_v{i}": new[c] for i, c in enumerate(names)}}
            for key, new in items
        ]
        conn.execute(stmt, params)
    return sum(len(items) for items in groups.values())


def _cycle_breaks(layout: Layout, tables: dict[str, _Table]) -> dict[str, dict[tuple, dict[str, object]]]:
    """Null the cut (nullable) cycle references of rows to be deleted that point at other rows to be deleted."""
    out: dict[str, dict[tuple, dict[str, object]]] = defaultdict(dict)
    for e in layout.ordering.broken:
        parent, child = tables[e.parent], tables[e.child]
        targets = {
            comparable(layout, e.parent, e.parent_columns, tuple(parent.rows[k][c] for c in e.parent_columns))
            for k in parent.doomed
        }
        for key in child.doomed:
            value = tuple(child.rows[key][c] for c in e.child_columns)
            if None not in value and comparable(layout, e.parent, e.parent_columns, value) in targets:
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


def _delete(conn: Connection, t: _Table, hash_key: bytes, counts: dict[str, int], expected: Expected) -> None:
    keys = sorted(t.doomed, key=repr)
    col = t.tl.table.c
    name = t.tl.spec.name
    if not t.tl.key:  # no key: each row by all its values
        for key in keys:
            counts["deleted"] += conn.execute(delete(t.tl.table).where(_where(t.tl, t.columns, key))).rowcount
            expected.deleted[name].append(key)
        return
    for start in range(0, len(keys), BATCH):
        chunk = keys[start : start + BATCH]
        if len(t.tl.key) == 1:
            clause = col[t.tl.key[0]].in_([k[0] for k in chunk])
        else:
            clause = tuple_(*(col[c] for c in t.tl.key)).in_(chunk)
        try:
            with conn.begin_nested():
                counts["deleted"] += conn.execute(delete(t.tl.table).where(clause)).rowcount
            expected.deleted[name].extend(chunk)
        except IntegrityError:  # a row outside the subject's refers to one of these: go row by row
            for key in chunk:
                try:
                    with conn.begin_nested():
                        where = and_(*(col[c] == v for c, v in zip(t.tl.key, key)))
                        counts["deleted"] += conn.execute(delete(t.tl.table).where(where)).rowcount
                    expected.deleted[name].append(key)
                except IntegrityError:
                    t.doomed.discard(key)
                    t.referenced.add(key)
                    new = _changes(t, t.rows[key], hash_key, counts)
                    update_rows(conn, t.tl, {key: new}, t.columns)
                    if new:
                        expected.updated[name][key] = new


def _until(spec: FieldSpec, retain_from: date) -> str | None:
    if not spec.retain_duration:
        return None
    return Duration.parse(spec.retain_duration).after(retain_from).isoformat()


def _report(name: str, t: _Table, counts: dict[str, int], retain_from: date, result: StepResult) -> None:
    """Rows kept, by reason, and the exceptions (personal data left without a reason to keep it)."""
    kept = [k for k in t.rows if k not in t.doomed]
    holding = {
        x.spec.name: sum(1 for k in kept if t.rows[k][x.spec.name] is not None)
        for x in t.effects
        if x.kind in ("retain", "kept", "none")
    }
    for x in t.effects:
        rows = holding.get(x.spec.name, 0)
        if not rows or x.kind not in ("retain", "kept"):
            continue
        result.retained.append(
            {
                "table": name,
                "field": x.spec.name,
                "category": x.spec.category,
                "reason": x.spec.retain_reason if x.kind == "retain" else x.reason,
                "until": _until(x.spec, retain_from) if x.kind == "retain" else None,
                "legal_reference": x.spec.legal_reference if x.kind == "retain" else None,
                "rows": rows,
                "kind": "retained" if x.kind == "retain" else "cannot_empty",
            }
        )
    for kind in ("retain", "kept", "none"):
        names = [x.spec.name for x in t.effects if x.kind == kind and holding.get(x.spec.name)]
        rows = sum(1 for k in kept if any(t.rows[k][n] is not None for n in names))
        counts[{"retain": "retained", "kept": "cannot_empty", "none": "no_action"}[kind]] = rows
        if rows and kind != "retain":
            reason = "no_action" if kind == "none" else "cannot_empty"
            detail = (
                NO_ACTION
                if kind == "none"
                else "; ".join(sorted({x.reason for x in t.effects if x.kind == "kept" and x.reason}))
            )
            result.exceptions.append({"table": name, "fields": names, "rows": rows, "reason": reason, "detail": detail})
    counts["shared"], counts["referenced"] = len(t.shared), len(t.referenced)
    if t.shared:
        result.retained.append(
            {
                "table": name,
                "field": None,
                "category": None,
                "reason": SHARED,
                "until": None,
                "legal_reference": None,
                "rows": len(t.shared),
                "kind": "shared",
            }
        )
    if t.referenced:
        result.retained.append(
            {
                "table": name,
                "field": None,
                "category": None,
                "reason": REFERENCED,
                "until": None,
                "legal_reference": None,
                "rows": len(t.referenced),
                "kind": "referenced",
            }
        )


def erase(
    conn: Connection, layout: Layout, found: Found, *, retain_from: date, hash_key: bytes
) -> tuple[StepResult, Expected]:
    """Apply the erasure to the subject's rows found on `conn` (inside the caller's transaction)."""
    tables = _tables(conn, layout, found)
    _protect_referenced(layout, tables, found)
    counts = {name: dict.fromkeys(COUNTS, 0) for name in tables}
    expected = Expected()
    for name, t in tables.items():
        counts[name]["found"] = len(t.rows) + len(t.shared)
    for name, t in tables.items():  # rows that stay: their fields' actions
        kept = {k: _changes(t, t.rows[k], hash_key, counts[name]) for k in t.rows if k not in t.doomed}
        update_rows(conn, t.tl, kept, t.columns)
        expected.updated[name].update({k: v for k, v in kept.items() if v})
    for name, breaks in _cycle_breaks(layout, tables).items():
        update_rows(conn, tables[name].tl, breaks, tables[name].columns)
    deferred = any(tables[e.child].doomed for e in layout.ordering.deferred)
    if deferred:
        _defer_checks(conn, True)
    try:
        for name in layout.ordering.order:
            if name in tables and tables[name].doomed:
                _delete(conn, tables[name], hash_key, counts[name], expected)
    finally:
        if deferred:  # MariaDB/MySQL: never hand a connection back to the pool with checks off
            _defer_checks(conn, False)
    result = StepResult()
    for name, t in tables.items():
        _report(name, t, counts[name], retain_from, result)
    for name in layout.plan.unreachable:
        result.exceptions.append(
            {
                "table": name,
                "fields": [],
                "rows": None,
                "reason": "unreachable",
                "detail": "no identity of the data map reaches this table, so the person's rows "
                "in it could not be found",
            }
        )
    result.counts = counts
    return result, expected


def absorb_copies(result: StepResult, expected: Expected, more: StepResult, also: Expected) -> None:
    """A later pass's work on rows the database wrote during the erasure (a trigger copying the person's row into
    a history table): removed, and counted as `copies_removed`, not as changes of rows that were there before;
    what could not be removed is an exception like any other."""
    for table, counts in more.counts.items():
        mine = result.counts.setdefault(table, dict.fromkeys(COUNTS, 0))
        mine["copies_removed"] = mine.get("copies_removed", 0) + counts.get("deleted", 0) + counts.get("updated", 0)
    result.exceptions += [x for x in more.exceptions if x["reason"] != "unreachable"]
    result.retained += more.retained
    for table, keys in also.deleted.items():
        expected.deleted[table].extend(keys)
    for table, rows in also.updated.items():
        expected.updated[table].update(rows)


__all__ = ["OWNER", "Expected", "absorb_copies", "effect", "erase", "update_rows"]
