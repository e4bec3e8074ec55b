"""The one short abstract class every connector implements, and the plan types they share.

A `DatastorePlan` is computed from the data map (and, for SQL, the foreign keys reflected from the database) by
`privet.connectors.plan.build_plan`; connectors receive it with the subject's identity values and do one
datastore's part of a request. Results carry counts and field names, never personal values, except `fetch`,
whose rows go (encrypted) into the access package.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import ClassVar


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
    match: str | None = None  # identity fields: exact | casefold | phone (privet.datamap.matching)
    disclose: bool = True  # False (credentials): an access package lists the field as held, never its values
    part: str | None = None  # the part of a structured value this column holds (address: postcode, city, …)


@dataclass(frozen=True)
class TableSpec:
    """A table of the datastore with its primary key and declared fields."""

    dataset: str
    name: str
    primary_key: tuple[str, ...]
    fields: tuple[FieldSpec, ...]

    def field(self, name: str) -> FieldSpec | None:
        return next((f for f in self.fields if f.name == name), None)


BELONGS_TO, OWNS, POINTS_TO = "belongs_to", "owns", "points_to"


@dataclass(frozen=True)
class Edge:
    """`child(child_columns)` refers to `parent(parent_columns)`: a declared reference or a reflected foreign key.

    `relation` says whose the rows are: belongs_to (the child row is the parent row's person's: a request walks
    down it), owns (the parent row is the child row's person's own: a request walks up it), points_to (the parent
    row is someone else's or shared: named in a package, never taken)."""

    child: str
    child_columns: tuple[str, ...]
    parent: str
    parent_columns: tuple[str, ...]
    declared: bool = True  # False: reflected from the database's foreign keys
    relation: str = BELONGS_TO
    inferred: bool = False  # guessed from names by scaffold; used like a foreign key all the same


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
    unreachable: tuple[str, ...] = ()  # tables with personal fields that no identity reaches (see graph.reachable)


@dataclass
class StepResult:
    """What a connector did: per-table counts, retained fields, and whether an outside party still has to answer.

    Counts are of rows: `found` (the person's rows), and for erasure and rectification the rows *changed* by each
    action (`deleted`, `updated` = changed in place, of which `nulled`/`masked`/`hashed` by kind; `rectified`) and
    the rows kept, by reason (`retained`, `shared`, `referenced`, `no_action`, `cannot_empty`). `exceptions` are
    the person's rows left with personal data and no legal reason to keep it: a request with any is not simply
    "completed"."""

    counts: dict[str, dict[str, int]] = field(default_factory=dict)  # {table: {"found": n, "deleted": n, ...}}
    retained: list[dict] = field(default_factory=list)  # [{table, field, category, reason, until, legal_reference}]
    rows: dict[str, list[dict]] = field(default_factory=dict)  # fetch only: {table: [row, ...]} for the package
    pending: bool = False  # True: waiting for a callback (http) or a person (manual)
    exceptions: list[dict] = field(default_factory=list)  # [{table, fields, rows, reason}] left with personal data
    links: list[dict] = field(default_factory=list)  # fetch: [{table, column, to, keys}] other people's rows named
    withheld: list[dict] = field(default_factory=list)  # fetch: [{table, field, category, rows}] held, not shown
    reference: dict[str, list[dict]] = field(default_factory=dict)  # fetch: non-personal rows pointed at (films…)

    def output(self) -> dict:
        """What an access package needs of a fetch (stored encrypted on the step)."""
        return {"rows": self.rows, "reference": self.reference, "links": self.links, "withheld": self.withheld}


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
        (`retain_from` + duration). Before the transaction commits, `self.before_commit` (when set) receives the
        result and the rows' expected state: a crash after the commit can then be recognised (`confirm`)."""

    @abstractmethod
    def rectify(self, identities: dict[str, list[str]], changes: Mapping[str, str | dict[str, str]]) -> StepResult:
        """Set every field of each category in `changes` ({category: new value or {part: value}}) on the subject's
        rows."""

    before_commit: Callable[[StepResult, dict], None] | None = None

    def confirm(self, expected: dict) -> bool | None:
        """Whether the company's database holds the state an interrupted step was about to commit (`expected`, as
        given to `before_commit`): True committed, False not; None when this connector cannot tell."""
        return None

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
