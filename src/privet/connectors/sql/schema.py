"""What the connector knows of a SQL datastore: the plan's tables as reflected (columns, types, nullability,
keys), its foreign keys, and the plan completed with them. Reflected once per datastore URL and plan and kept for
`CACHE_SECONDS`, so a request costs no reflection queries.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from sqlalchemy import Column, Connection, MetaData, Table, inspect
from sqlalchemy.exc import NoSuchTableError

from privet.connectors.base import DatastorePlan, Edge, TableSpec
from privet.connectors.graph import Ordering, ordering
from privet.connectors.sql.values import is_text

log = logging.getLogger(__name__)

CACHE_SECONDS = 300.0
CACHE_ENTRIES = 64
_LOWER_INDEX = re.compile(r'^lower\(\(?"?(\w+)"?\)?(::[\w ]+)?\)$', re.IGNORECASE)


@dataclass(frozen=True)
class TableLayout:
    """One table as the connector uses it."""

    spec: TableSpec
    table: Table  # every reflected column, with its type
    key: tuple[str, ...]  # primary key (declared, else reflected); () when the table has none
    personal: bool  # some declared field has a data category
    folded: frozenset[str] = frozenset()  # columns with an index on lower(column): case-blind lookups are cheap

    def column(self, name: str) -> Column | None:
        return self.table.c.get(name)

    @property
    def declared(self) -> tuple[str, ...]:
        """Declared fields that exist in the database."""
        return tuple(f.name for f in self.spec.fields if f.name in self.table.c)

    def nullable(self, name: str) -> bool:
        col = self.table.c.get(name)
        return bool(col is not None and col.nullable and name not in self.key)

    def text(self, name: str) -> bool:
        col = self.table.c.get(name)
        return col is not None and is_text(col.type)


@dataclass(frozen=True)
class Layout:
    """The completed plan of a datastore with its tables as reflected and its erasure ordering."""

    plan: DatastorePlan
    tables: dict[str, TableLayout]
    ordering: Ordering
    missing: tuple[str, ...]  # declared tables the database does not have

    def down(self, table: str) -> list[Edge]:
        """Edges whose parent is `table` (other tables refer to it), self-references excluded."""
        return [e for e in self.plan.edges if e.parent == table and e.child != table and e.child in self.tables]

    def up(self, table: str) -> list[Edge]:
        """Edges whose child is `table` (it refers to others), self-references excluded."""
        return [e for e in self.plan.edges if e.child == table and e.parent != table and e.parent in self.tables]


_CACHE: OrderedDict[tuple[str, str], tuple[float, Layout]] = OrderedDict()
_LOCK = threading.Lock()


def _split(name: str) -> tuple[str | None, str]:
    schema, _, table = name.rpartition(".")
    return (schema or None), table


def _folded(inspector, name: str, schema: str | None) -> frozenset[str]:  # noqa: ANN001
    """Columns indexed as `lower(column)` (PostgreSQL expression indexes)."""
    out = set()
    for index in inspector.get_indexes(name, schema=schema):
        for expression in index.get("expressions") or ():
            match = _LOWER_INDEX.match(expression or "")
            if match:
                out.add(match.group(1))
    return frozenset(out)


def _reflect(conn: Connection, plan: DatastorePlan) -> tuple[dict[str, Table], list[Edge], list[str]]:
    inspector = inspect(conn)
    metadata = MetaData()
    tables: dict[str, Table] = {}
    missing: list[str] = []
    names = {_split(n): n for n in plan.tables}
    edges: list[Edge] = []
    for name in plan.tables:
        schema, short = _split(name)
        try:
            tables[name] = Table(short, metadata, schema=schema, autoload_with=conn, resolve_fks=False)
        except NoSuchTableError:
            missing.append(name)
            continue
        for fk in inspector.get_foreign_keys(short, schema=schema):
            referred_schema, referred = fk.get("referred_schema"), fk["referred_table"]
            target = names.get((referred_schema, referred))
            if target is None and referred_schema in (None, schema):  # same schema, named with or without it
                target = names.get((schema, referred)) or names.get((None, referred))
            if target and fk["constrained_columns"]:
                edges.append(Edge(name, tuple(fk["constrained_columns"]), target, tuple(fk["referred_columns"]),
                                  declared=False))
    if missing:
        log.warning("datastore %s lacks declared tables: %s", plan.datastore, ", ".join(missing))
    return tables, edges, missing


def _folds(conn: Connection, tables: dict[str, Table]) -> dict[str, frozenset[str]]:
    if conn.dialect.name != "postgresql":
        return {}  # MySQL collations already ignore case; SQLite columns declared NOCASE compare that way
    inspector = inspect(conn)
    return {name: _folded(inspector, t.name, t.schema) for name, t in tables.items()}


def _merge(declared: tuple[Edge, ...], reflected: list[Edge]) -> tuple[Edge, ...]:
    """Declared edges plus reflected ones; a declared edge that repeats (part of) a foreign key is dropped."""
    covered = {(e.child, c, e.parent, p) for e in reflected for c, p in zip(e.child_columns, e.parent_columns)}
    out = [e for e in declared
           if not all((e.child, c, e.parent, p) in covered for c, p in zip(e.child_columns, e.parent_columns))]
    out.extend(reflected)
    return tuple(dict.fromkeys(out))


def complete_plan(conn: Connection, plan: DatastorePlan) -> Layout:
    """Reflect the plan's tables and return the plan with foreign keys, keys and erasure order filled in."""
    tables, reflected, missing = _reflect(conn, plan)
    specs: dict[str, TableSpec] = {}
    for name, spec in plan.tables.items():
        table = tables.get(name)
        if table is not None and not spec.primary_key:
            spec = dataclasses.replace(spec, primary_key=tuple(c.name for c in table.primary_key.columns))
        specs[name] = spec
    edges = tuple(e for e in _merge(plan.edges, reflected) if e.child in tables and e.parent in tables
                  and all(c in tables[e.child].c for c in e.child_columns)
                  and all(c in tables[e.parent].c for c in e.parent_columns))
    folds = _folds(conn, tables)
    layouts = {name: TableLayout(specs[name], table, specs[name].primary_key,
                                 any(f.category for f in specs[name].fields), folds.get(name, frozenset()))
               for name, table in tables.items()}

    def nullable(edge: Edge) -> bool:
        return all(layouts[edge.child].nullable(c) for c in edge.child_columns)

    order = ordering(tables, edges, nullable)
    completed = dataclasses.replace(plan, tables=specs, edges=edges, erase_order=order.order)
    return Layout(completed, layouts, order, tuple(missing))


def layout_for(conn: Connection, url: str, plan: DatastorePlan) -> Layout:
    """The cached layout of `plan` on the datastore at `url`, reflected when missing or older than the TTL."""
    cache_key = (url, repr(plan))
    now = time.monotonic()
    with _LOCK:
        hit = _CACHE.get(cache_key)
        if hit and now - hit[0] < CACHE_SECONDS:
            _CACHE.move_to_end(cache_key)
            return hit[1]
    layout = complete_plan(conn, plan)
    with _LOCK:
        _CACHE[cache_key] = (now, layout)
        while len(_CACHE) > CACHE_ENTRIES:
            _CACHE.popitem(last=False)
    return layout


def forget(url: str | None = None) -> None:
    """Drop cached layouts (of one URL, or all): the next request reflects again."""
    with _LOCK:
        for key in [k for k in _CACHE if url is None or k[0] == url]:
            del _CACHE[key]
