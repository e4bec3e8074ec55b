"""Reading a database's tables as one draft sees them: partitions folded into their parent, every index's lead.

- PostgreSQL declarative partitioning: the inspector lists each partition as a table. A request reads and erases
  through the partitioned parent, so the draft lists only the parent (its columns, key and indexes), and the
  foreign keys declared on any of its partitions (some partitions may have them, others not) are the parent's.
  A foreign key to a partition is a foreign key to its root. MariaDB partitions are one table already.
- Indexes: an identity is looked up as it is matched (`matching`), so what counts is what each index leads with,
  a column or an expression. PostgreSQL reports expressions; SQLAlchemy skips SQLite's expression indexes (with a
  warning), so their SQL is read from `sqlite_master`. Partial indexes serve only some rows and do not count.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

import sqlalchemy as sa

from privet.datamap import matching
from privet.datamap.schemas import Match
from privet.kit.errors import InvalidInput

TableName = tuple[str | None, str]  # (schema, table)


@dataclass(frozen=True)
class Lead:
    """What an index (or the primary key, or a unique constraint) is ordered by first."""

    column: str | None = None
    expression: str | None = None


@dataclass
class Reflected:
    name: str
    columns: list[dict]
    primary_key: list[str]
    foreign_keys: list[dict]
    leads: list[Lead]
    partitions: list[str] = field(default_factory=list)

    def serves(self, column: str, mode: Match, dialect: str) -> bool:
        """Whether an index serves lookups of `column` as matched in `mode` (MariaDB cannot index expressions)."""
        if mode == Match.exact:
            return any(lead.column == column for lead in self.leads)
        return dialect != "mariadb" and any(
            lead.expression and matching.serves(lead.expression, column, mode) for lead in self.leads
        )


def reflect(conn: sa.Connection, dialect: str, schema: str | None, include: list[str] | None) -> list[Reflected]:
    """The tables of `schema` (partitions folded into their parents), filtered by the `include` globs."""
    insp = sa.inspect(conn)
    if schema is not None and schema not in insp.get_schema_names():
        raise InvalidInput(f"No schema {schema!r} in the database", "check --schema (or leave it out)")
    home = schema or insp.default_schema_name
    parent_of = _pg_partitions(conn) if dialect == "postgresql" else {}
    root = _rooter(parent_of)
    names = [n for n in insp.get_table_names(schema=schema) if (home, n) not in parent_of]
    names = _selected(names, include)
    if not names:
        raise InvalidInput("No tables found to scaffold", "check --schema and --table, or create the tables first")
    members = {n: sorted(p for p in parent_of if root(p) == (home, n)) for n in names}  # parent's keys first
    with warnings.catch_warnings():  # read from sqlite_master below instead
        warnings.filterwarnings("ignore", message="Skipped unsupported reflection of expression-based index")
        readers: dict[str, Callable[..., dict[TableName, Any]]] = {
            "columns": insp.get_multi_columns,
            "pk": insp.get_multi_pk_constraint,
            "fks": insp.get_multi_foreign_keys,
            "indexes": insp.get_multi_indexes,
            "uniques": insp.get_multi_unique_constraints,
        }
        got = {
            what: {k[1]: v for k, v in call(schema=schema, filter_names=names).items()}
            for what, call in readers.items()
        }
    expressions = _sqlite_expressions(conn, schema) if dialect == "sqlite" else {}
    nearby = [p for n in names for s, p in members[n] if s == home]  # partitions beside their parent: one query
    part_fks = (
        {k[1]: v for k, v in insp.get_multi_foreign_keys(schema=schema, filter_names=nearby).items()} if nearby else {}
    )
    out = []
    for name in names:
        pk = list((got["pk"].get(name) or {}).get("constrained_columns") or [])
        fks = list(got["fks"].get(name) or [])
        for part_schema, part in members[name]:
            fks += part_fks.get(part, []) if part_schema == home else insp.get_foreign_keys(part, schema=part_schema)
        fks = _rooted(fks, home, insp.default_schema_name, root)
        leads: list[Lead | None] = [Lead(column=pk[0])] if pk else []
        leads += [Lead(column=u["column_names"][0]) for u in got["uniques"].get(name) or [] if u["column_names"]]
        leads += [_lead(i) for i in got["indexes"].get(name) or [] if not _partial(i)]
        leads += [Lead(expression=e) for e in expressions.get(name, [])]
        out.append(
            Reflected(
                name,
                list(got["columns"].get(name) or []),
                pk,
                fks,
                [x for x in leads if x],
                sorted(p for _s, p in members[name]),
            )
        )
    return out


def _selected(names: list[str], include: list[str] | None) -> list[str]:
    if not include:
        return sorted(names)
    missing = [p for p in include if not any(fnmatchcase(n, p) for n in names)]
    if missing:
        raise InvalidInput(f"No table matches {', '.join(missing)}", "check the --table names (globs like order* work)")
    return sorted(n for n in names if any(fnmatchcase(n, p) for p in include))


def _pg_partitions(conn: sa.Connection) -> dict[TableName, TableName]:
    """(schema, partition) → (schema, its direct parent), for declarative partitions only (not INHERITS)."""
    rows = conn.execute(
        sa.text(
            "SELECT cn.nspname, c.relname, pn.nspname, p.relname FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_namespace cn ON cn.oid = c.relnamespace "
            "JOIN pg_class p ON p.oid = i.inhparent JOIN pg_namespace pn ON pn.oid = p.relnamespace "
            "WHERE c.relispartition AND c.relkind IN ('r', 'p', 'f')"
        )
    )
    return {(cs, c): (ps, p) for cs, c, ps, p in rows}


def _rooter(parent_of: dict[TableName, TableName]) -> Callable[[TableName], TableName]:
    def root(table: TableName) -> TableName:
        seen = set()
        while table in parent_of and table not in seen:  # sub-partitions: walk up to the partitioned root
            seen.add(table)
            table = parent_of[table]
        return table

    return root


def _rooted(
    fks: list[dict], home: str | None, default: str | None, root: Callable[[TableName], TableName]
) -> list[dict]:
    """Foreign keys with partitions replaced by their roots, each (columns → target) once."""
    out, seen = [], set()
    for fk in fks:
        schema, table = root((fk.get("referred_schema") or default or home, fk["referred_table"]))
        fk = {**fk, "referred_schema": None if schema == home else schema, "referred_table": table}
        key = (tuple(fk["constrained_columns"]), fk["referred_schema"], table, tuple(fk["referred_columns"]))
        if key not in seen:
            seen.add(key)
            out.append(fk)
    return out


def _partial(index: dict) -> bool:
    options = index.get("dialect_options") or {}
    return any(k.endswith("_where") and v is not None for k, v in options.items())


def _lead(index: dict) -> Lead | None:
    columns = index.get("column_names") or []
    if columns and columns[0]:
        return Lead(column=columns[0])
    expressions = index.get("expressions") or []
    return Lead(expression=str(expressions[0])) if expressions else None


def _sqlite_expressions(conn: sa.Connection, schema: str | None) -> dict[str, list[str]]:
    """Table → leading expressions of its expression indexes (partial ones left out), from their SQL."""
    master = f'"{schema}".sqlite_master' if schema else "sqlite_master"
    out: dict[str, list[str]] = {}
    for table, sql in conn.exec_driver_sql(
        f"SELECT tbl_name, sql FROM {master} WHERE type = 'index' AND sql IS NOT NULL"
    ):
        lead = _first_expression(sql)
        if lead:
            out.setdefault(table, []).append(lead)
    return out


def _first_expression(sql: str) -> str | None:
    """`CREATE INDEX i ON t (lower(trim("Email")), x)` → `lower(trim("Email"))`; None for a plain column."""
    start = re.search(r"\bON\s+(\"[^\"]+\"|`[^`]+`|\[[^\]]+\]|[\w.]+)\s*\(", sql, re.IGNORECASE)
    if not start:
        return None
    depth, i, parts, begin = 1, start.end(), [], start.end()
    while i < len(sql) and depth:
        ch = sql[i]
        if ch in "'\"`":  # skip quoted text, which may hold parentheses or commas
            i = sql.index(ch, i + 1) if ch in sql[i + 1 :] else len(sql)
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 1:
            parts.append(sql[begin:i])
            begin = i + 1
        i += 1
    parts.append(sql[begin : i - 1])
    if re.search(r"\bWHERE\b", sql[i:], re.IGNORECASE):
        return None
    first = re.sub(r"\s+(COLLATE\s+\w+|ASC|DESC)\s*$", "", parts[0].strip(), flags=re.IGNORECASE)
    if re.fullmatch(r"\"[^\"]+\"|`[^`]+`|\[[^\]]+\]|\w+", first):
        return None  # a plain column, reported by the inspector already
    return first
