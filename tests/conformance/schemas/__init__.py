"""Company databases Privet did not design, one module per family of shapes in FOREIGN-SCHEMAS.md.

Each module describes its tables once (SQLAlchemy Core, plus dialect-specific DDL where the shape needs it) and
exposes what the conformance harness asks of it:

- `create(url) -> list[Person]`: make the tables on SQLite, PostgreSQL or MariaDB and fill them with generated
  people (Faker, seeded), some sharing parent rows;
- `edits(draft) -> dict`: the few changes a person makes to the scaffold draft after reading it (each with why);
- `truth(conn, person)`: hand-written SQL giving the person's own rows, `{table: {row key}}`;
- `kept(conn, person)`: the rows of theirs an erasure must keep, with the reason (`SHARED`, `RETAINED` or
  `REFERENCED`);
- `PERSONAL`, `CREDENTIALS`: the columns holding personal data and secrets, per table (the truth's own notion,
  independent of what scaffold guessed); `ROW_ID`: the columns the checks identify a row by where that is not
  the primary key (a table without one; a partitioned table whose key includes the partition column).

Row keys are tuples of strings (`key()`), so rows read by SQL, by SQLAlchemy and from a package's JSON compare.
Hand-written SQL quotes names with double quotes: the harness runs it with ANSI_QUOTES on MariaDB.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from types import ModuleType

import sqlalchemy as sa

NAMES = ("rental", "music", "trading", "accounts", "helpdesk")
# why a row of the person's is kept by an erasure: shared (left exactly as it is), retained (kept as it is, for the
# reason the data map gives), referenced (a row that stays refers to it: kept, its personal values emptied)
SHARED, RETAINED, REFERENCED = "shared", "retained", "referenced"


@dataclass(frozen=True)
class Person:
    """A generated person: a label for reports, identities as they would type them, and the ids truth SQL needs."""

    label: str
    identities: dict[str, str]
    ids: dict[str, object] = field(default_factory=dict)


def load(name: str) -> ModuleType:
    """The schema module `name`."""
    return importlib.import_module(f"{__name__}.{name}")


def dialect(url_or_conn: str | sa.Connection | sa.Engine) -> str:
    """sqlite, postgresql or mariadb."""
    if isinstance(url_or_conn, str):
        name = sa.engine.make_url(url_or_conn).get_backend_name()
    else:
        name = url_or_conn.dialect.name
    return "mariadb" if name in ("mysql", "mariadb") else name


def norm(value: object) -> str | None:
    """A value as the checks compare it: text, dates in ISO form, numbers without type."""
    if value is None:
        return None
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value.normalize()) if value == value.to_integral() else str(value)
    if isinstance(value, bytes):
        return value.hex()
    return str(value).rstrip() if isinstance(value, str) else str(value)


def key(*values: object) -> tuple:
    """A row key as the checks compare it."""
    return tuple(norm(v) for v in values)


def keys(conn: sa.Connection, sql: str, **params: object) -> set[tuple]:
    """The rows of a hand-written query, as row keys (a list parameter fills an `IN :name`)."""
    statement = sa.text(sql).bindparams(*(sa.bindparam(k, expanding=True) for k, v in params.items()
                                          if isinstance(v, (list, tuple))))
    return {key(*row) for row in conn.execute(statement, params)}


# ---- editing a scaffold draft ---------------------------------------------------------------------------------
def dataset(draft: dict) -> dict:
    return draft["datasets"][0]


def table(draft: dict, name: str) -> dict:
    """The draft's table `name` (KeyError naming it when scaffold did not draft it)."""
    for t in dataset(draft)["tables"]:
        if t["name"] == name:
            return t
    raise KeyError(f"scaffold drafted no table {name!r}")


def column(draft: dict, table_name: str, name: str) -> dict:
    """The draft's field `table.name`."""
    for f in table(draft, table_name)["fields"]:
        if f["name"] == name:
            return f
    raise KeyError(f"scaffold drafted no field {table_name}.{name}")


def erase(draft: dict, table_name: str, action: str, **extra: str) -> None:
    """Give a table its erasure action (scaffold never drafts one: what to do is the company's decision)."""
    table(draft, table_name)["erasure"] = {"action": action, **extra}


def retain(reason: str, duration: str, legal_reference: str | None = None) -> dict:
    out = {"action": "retain", "reason": reason, "duration": duration}
    if legal_reference:
        out["legal_reference"] = legal_reference
    return out
