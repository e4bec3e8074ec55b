"""The one short abstract class every connector implements, and the plan types they share.

A `DatastorePlan` is computed from the data map (and, for SQL, the foreign keys reflected from the database) by
`privet.connectors.plan.build_plan`; connectors receive it with the subject's identity values and do one
datastore's part of a request. Results carry counts and field names, never personal values, except `fetch`,
whose rows go (encrypted) into the access package.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import date
from typing import ClassVar, Iterator


@dataclass(frozen=True)
class FieldSpec:
    """A column as the data map declares it, with its effective erasure action (field override, else table's)."""

    name: str
    category: str | None = None  # taxonomy data category; None: not personal
    identity: str | None = None  # identity type when this column identifies the person
    action: str | None = None  # delete_row | null | mask | hash | retain | None (not touched)
    retain_reason: str | None = None
    retain_duration: str | None = None  # ISO 8601, e.g. P5Y
    legal_reference: str | None = None


@dataclass(frozen=True)
class TableSpec:
    """A table of the datastore with its primary key and declared fields."""

    dataset: str
    name: str
    primary_key: tuple[str, ...]
    fields: tuple[FieldSpec, ...]

    def field(self, name: str) -> FieldSpec | None:
        return next((f for f in self.fields if f.name == name), None)


@dataclass(frozen=True)
class Edge:
    """`child(child_columns)` refers to `parent(parent_columns)`: a declared reference or a reflected foreign key."""

    child: str
    child_columns: tuple[str, ...]
    parent: str
    parent_columns: tuple[str, ...]
    declared: bool = True  # False: reflected from the database's foreign keys


@dataclass(frozen=True)
class DatastorePlan:
    """One datastore's part: where to start (identity columns), how rows relate, and the order erasure needs."""

    datastore: str
    kind: str  # sqlite | postgresql | mysql | http | manual
    region: str
    tables: dict[str, TableSpec]
    edges: tuple[Edge, ...]
    entries: tuple[tuple[str, str, str], ...]  # (table, column, identity type) to start from
    erase_order: tuple[str, ...] = ()  # children before parents, computed from edges (SQL datastores)


@dataclass
class StepResult:
    """What a connector did: per-table counts, retained fields, and whether an outside party still has to answer."""

    counts: dict[str, dict[str, int]] = field(default_factory=dict)  # {table: {"found": n, "deleted": n, ...}}
    retained: list[dict] = field(default_factory=list)  # [{table, field, category, reason, until, legal_reference}]
    rows: dict[str, list[dict]] = field(default_factory=dict)  # fetch only: {table: [row, ...]} for the package
    pending: bool = False  # True: waiting for a callback (http) or a person (manual)


class ConnectorError(Exception):
    """A datastore could not be reached or refused the work; the message names the datastore, no values."""


class Connector(ABC):
    """A datastore's connector. Identities map an identity type to the subject's plain values, e.g.
    {"email": ["a@example.com"], "phone": ["+8613800000000"]}; they are used as query parameters only."""

    kind: ClassVar[str]

    def __init__(self, plan: DatastorePlan, secret: str | None) -> None:
        self.plan, self.secret = plan, secret

    @abstractmethod
    def test_connection(self) -> None:
        """Raise ConnectorError when the datastore cannot be reached."""

    @abstractmethod
    def fetch(self, identities: dict[str, list[str]]) -> StepResult:
        """Every row reachable from the identities, per table (counts as `found`)."""

    @abstractmethod
    def erase(self, identities: dict[str, list[str]], *, retain_from: date) -> StepResult:
        """Apply each field's erasure action in one transaction; retained fields reported with their end date
        (`retain_from` + duration)."""

    @abstractmethod
    def rectify(self, identities: dict[str, list[str]], changes: dict[str, str]) -> StepResult:
        """Set every field of each category in `changes` ({category: new value}) on the subject's rows."""

    def close(self) -> None:  # noqa: B027 - optional
        """Release connections."""

    def __enter__(self) -> Connector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


REGISTRY: dict[str, type[Connector]] = {}


def register(cls: type[Connector]) -> type[Connector]:
    """Class decorator: make a connector available for datastores of its kind."""
    REGISTRY[cls.kind] = cls
    return cls
