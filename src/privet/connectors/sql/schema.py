"""What the connector knows of a SQL datastore: the plan's tables as reflected (columns, types, nullability,
keys), its foreign keys, and the plan completed with them. Reflected once per datastore URL and plan and kept for
`CACHE_SECONDS`, so a request costs no reflection queries.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
import warnings
from collections import OrderedDict
from dataclasses import dataclass

from sqlalchemy import Column, Connection, MetaData, Table, bindparam, inspect, text
from sqlalchemy.exc import NoSuchTableError

from privet.connectors.base import BELONGS_TO, ConnectorError, DatastorePlan, Edge, TableSpec
from privet.connectors.graph import Ordering, ordering, unreachable
from privet.connectors.sql.values import is_text

log = logging.getLogger(__name__)

CACHE_SECONDS = 300.0
CACHE_ENTRIES = 64
# a partitioned table's partitions (PostgreSQL declarative partitioning, nested levels included)
_PARTITIONS = text("""
    WITH RECURSIVE parts(root_schema, root, schema, name) AS (
        SELECT pn.nspname, p.relname, cn.nspname, c.relname
        FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent JOIN pg_class c ON c.oid = i.inhrelid
        JOIN pg_namespace pn ON pn.oid = p.relnamespace JOIN pg_namespace cn ON cn.oid = c.relnamespace
        WHERE p.relkind = 'p'
      UNION
        SELECT parts.root_schema, parts.root, cn.nspname, c.relname
        FROM parts JOIN pg_namespace pn ON pn.nspname = parts.schema
        JOIN pg_class p ON p.relname = parts.name AND p.relnamespace = pn.oid
        JOIN pg_inherits i ON i.inhparent = p.oid JOIN pg_class c ON c.oid = i.inhrelid
        JOIN pg_namespace cn ON cn.oid = c.relnamespace)
    SELECT root_schema, root, schema, name FROM parts""")


@dataclass(frozen=True)
class TableLayout:
    """One table as the connector uses it."""

    spec: TableSpec
    table: Table  # every reflected column, with its type
    key: tuple[str, ...]  # primary key (declared, else reflected); () when the table has none
    personal: bool  # some declared field has a data category

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
    missing_columns: tuple[tuple[str, str], ...] = ()  # (table, column) declared but not in the database
    triggers: bool = False  # some table of the plan has a trigger (it may copy a row Privet changes elsewhere)

    def check(self) -> None:
        """ConnectorError naming what the data map declares and the database lacks (it changed since the map was
        applied): nothing may run on a guess of where the person's data went."""
        gone = [f"table `{t}`" for t in self.missing] + [f"column `{t}.{c}`" for t, c in self.missing_columns]
        if gone:
            raise SchemaMismatch(
                f"Datastore `{self.plan.datastore}` has no {', '.join(gone[:5])}"
                f"{' and more' if len(gone) > 5 else ''}, which the data map declares: fix the data "
                "map (privet datamap scaffold shows the database as it is now) or the database"
            )

    def down(self, table: str) -> list[Edge]:
        """Edges whose parent is `table` (other tables refer to it), self-references excluded."""
        return [e for e in self.plan.edges if e.parent == table and e.child != table and e.child in self.tables]

    def self_edges(self, table: str) -> list[Edge]:
        """Edges from `table` to itself (`customers.referred_by`): never walked, only named."""
        return [e for e in self.plan.edges if e.parent == table and e.child == table]

    def up(self, table: str) -> list[Edge]:
        """Edges whose child is `table` (it refers to others), self-references excluded."""
        return [e for e in self.plan.edges if e.child == table and e.parent != table and e.parent in self.tables]


class SchemaMismatch(ConnectorError):
    """The database no longer has a table or column the data map declares; retrying cannot help."""

    permanent = True


_CACHE: OrderedDict[tuple[str, str], tuple[float, Layout]] = OrderedDict()
_LOCK = threading.Lock()


def _split(name: str) -> tuple[str | None, str]:
    schema, _, table = name.rpartition(".")
    return (schema or None), table


def reflect_table(conn: Connection, metadata: MetaData, name: str, schema: str | None = None) -> Table:
    """A table as the database has it (foreign keys not followed); NoSuchTableError when it has none. The
    expression indexes identity matches use (`privet.datamap.matching`) are not reflected, and not warned about."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Skipped unsupported reflection of expression-based index")
        return Table(name, metadata, schema=schema, autoload_with=conn, resolve_fks=False)


def partitions(conn: Connection) -> dict[tuple[str | None, str], list[tuple[str, str]]]:
    """PostgreSQL: {(schema, partitioned table): [(schema, partition), ...]} (empty elsewhere). A partitioned
    table is one table to Privet: queries on it reach every partition, and the foreign keys declared on any
    partition are references of the table."""
    if conn.dialect.name != "postgresql":
        return {}
    out: dict[tuple[str | None, str], list[tuple[str, str]]] = {}
    default = conn.dialect.default_schema_name
    for root_schema, root, schema, name in conn.execute(_PARTITIONS):
        out.setdefault((root_schema, root), []).append((schema, name))
        if root_schema == default:
            out.setdefault((None, root), []).append((schema, name))
    return out


def _reflect(conn: Connection, plan: DatastorePlan) -> tuple[dict[str, Table], list[Edge], list[str]]:
    inspector = inspect(conn)
    metadata = MetaData()
    tables: dict[str, Table] = {}
    missing: list[str] = []
    names = {_split(n): n for n in plan.tables}
    parts = partitions(conn)
    owner: dict[tuple[str | None, str], tuple[str | None, str]] = {
        part: root for root, members in parts.items() for part in members
    }
    edges: list[Edge] = []
    for name in plan.tables:
        schema, short = _split(name)
        try:
            tables[name] = reflect_table(conn, metadata, short, schema)
        except NoSuchTableError:
            missing.append(name)
            continue
        sources = [(schema, short), *parts.get((schema, short), ())]
        for where, table in sources:
            for fk in inspector.get_foreign_keys(table, schema=where):
                referred_schema, referred = fk.get("referred_schema"), fk["referred_table"]
                referred_schema, referred = owner.get(
                    (referred_schema or where or conn.dialect.default_schema_name, referred),
                    (referred_schema, referred),
                )
                target = names.get((referred_schema, referred))
                if target is None and referred_schema in (None, schema, where):  # same schema, with or without it
                    target = names.get((schema, referred)) or names.get((None, referred))
                if target and fk["constrained_columns"]:
                    edges.append(
                        Edge(
                            name,
                            tuple(fk["constrained_columns"]),
                            target,
                            tuple(fk["referred_columns"]),
                            declared=False,
                        )
                    )
    if missing:
        log.warning("datastore %s lacks declared tables: %s", plan.datastore, ", ".join(missing))
    return tables, list(dict.fromkeys(edges)), missing


def _pairs(e: Edge) -> set[tuple[str, str, str, str]]:
    return {(e.child, c, e.parent, p) for c, p in zip(e.child_columns, e.parent_columns)}


def _merge(declared: tuple[Edge, ...], reflected: list[Edge]) -> tuple[Edge, ...]:
    """Declared edges plus reflected ones; a declared edge that repeats (part of) a foreign key is dropped, and the
    foreign key takes its relation (a key the data map does not mention is belongs_to)."""
    covered = set().union(*(_pairs(e) for e in reflected)) if reflected else set()
    out = [e for e in declared if not _pairs(e) <= covered]
    for r in reflected:
        said = next((e for e in declared if _pairs(e) <= _pairs(r)), None)
        out.append(dataclasses.replace(r, relation=said.relation if said else BELONGS_TO))
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
    edges = tuple(
        e
        for e in _merge(plan.edges, reflected)
        if e.child in tables
        and e.parent in tables
        and all(c in tables[e.child].c for c in e.child_columns)
        and all(c in tables[e.parent].c for c in e.parent_columns)
    )
    layouts = {
        name: TableLayout(specs[name], table, specs[name].primary_key, any(f.category for f in specs[name].fields))
        for name, table in tables.items()
    }
    gone = tuple((name, f.name) for name, table in tables.items() for f in specs[name].fields if f.name not in table.c)

    def nullable(edge: Edge) -> bool:
        return all(layouts[edge.child].nullable(c) for c in edge.child_columns)

    order = ordering(tables, edges, nullable)
    completed = dataclasses.replace(
        plan, tables=specs, edges=edges, erase_order=order.order, unreachable=unreachable(specs, edges, plan.entries)
    )
    return Layout(completed, layouts, order, tuple(missing), gone, _has_triggers(conn, tables))


def _has_triggers(conn: Connection, tables: dict[str, Table]) -> bool:
    """Whether any of these tables has a trigger of its own (not a foreign key's internal one)."""
    names = sorted({t.name for t in tables.values()})
    if not names:
        return False
    dialect = conn.dialect.name
    if dialect == "postgresql":
        sql = (
            "SELECT 1 FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid WHERE NOT t.tgisinternal "
            "AND c.relname IN :names LIMIT 1"
        )
    elif dialect in ("mysql", "mariadb"):
        sql = (
            "SELECT 1 FROM information_schema.TRIGGERS WHERE EVENT_OBJECT_SCHEMA = DATABASE() "
            "AND EVENT_OBJECT_TABLE IN :names LIMIT 1"
        )
    else:
        sql = "SELECT 1 FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN :names LIMIT 1"
    statement = text(sql).bindparams(bindparam("names", expanding=True))
    return conn.execute(statement, {"names": names}).first() is not None


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
