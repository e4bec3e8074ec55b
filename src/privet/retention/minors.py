"""Minors found where they are (P27, P42): birth dates read from the company's SQL datastores through the data map.

Every table field whose category is a date of birth (`user.demographic.date_of_birth` or below it) is read in
batches (`connectors.sql.scan.batches`); a row under the age limit (the organisation's child age under PIPL, 18 in
an adults-only service) is named by its identities — its own identity columns or those of the row it belongs to —
and the accounts linked to it by `relation: related_account` references (family members, a device's owner) are
named with it. The same person found in several tables or datastores (sharing any identity) is one minor.

Birth dates held as text are read in the usual written forms (2012-03-04, 2012/03/04, 20120304, 04.03.2012); a
value that is none of them is counted as unreadable, never guessed. Nothing read here is logged or shown: callers
get identities to file requests under, and counts.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from privet.connectors.sql.scan import batches, linked, people
from privet.connectors.sql.schema import Layout
from privet.connectors.sql.walk import row_key
from privet.settings import Settings

BIRTH_CATEGORY = "user.demographic.date_of_birth"
RELATED = "related_account"
SQL_KINDS = ("sqlite", "postgresql", "mysql")
BATCH = 500
_FORMATS = (
    (re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})"), (0, 1, 2)),
    (re.compile(r"^(\d{4})(\d{2})(\d{2})$"), (0, 1, 2)),
    (re.compile(r"^(\d{1,2})[./](\d{1,2})[./](\d{4})$"), (2, 1, 0)),
)

Identities = dict[str, list[str]]


@dataclass
class Minor:
    """One person under the age limit: their identities (by type), birth date, when the data was collected (the
    earliest `timestamps.collection` moment found), where, and the identities of their related accounts."""

    identities: Identities
    birth_date: date
    collected_at: datetime | None = None
    places: set[str] = field(default_factory=set)
    related: list[Identities] = field(default_factory=list)

    def pairs(self) -> set[tuple[str, str]]:
        return {(t, v) for t, values in self.identities.items() for v in values}


@dataclass
class Scan:
    """What a scan of the datastores found: the minors, and rows it could not use (counts only)."""

    minors: list[Minor] = field(default_factory=list)
    rows_read: int = 0
    unreadable: int = 0  # birth dates in no known form
    unnamed: int = 0  # minors' rows naming nobody (no identity column on the row or the rows it belongs to)
    unreachable: list[str] = field(default_factory=list)  # datastores that could not be read


def birth_date(value: object) -> date | None:
    """A stored birth date as a date (date, datetime or text in a usual form); None when it is none of them."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        return None
    text = value.strip()
    for pattern, order in _FORMATS:
        m = pattern.match(text)
        if m:
            parts = m.groups()
            try:
                return date(int(parts[order[0]]), int(parts[order[1]]), int(parts[order[2]]))
            except ValueError:
                return None
    return None


def _under(born: date, limit: int, today: date) -> bool:
    from privet.subjects.ages import add_years

    return born <= today and add_years(born, limit) > today


def _aware(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    return None


def birth_fields(session: Session) -> list[tuple[str, str, str, str, str | None]]:
    """(datastore, kind, table, birth column, collection column or None) of every SQL table with a birth date."""
    from privet.datamap.service import current

    manifest = current(session)
    if manifest is None:
        return []
    stores = {s.key: s for s in manifest.datastores}
    out = []
    for dataset in manifest.datasets:
        store = stores.get(dataset.datastore)
        if store is None:
            continue
        for table in dataset.tables:
            collection = (table.timestamps or {}).get("collection")
            if collection and "." in collection:  # read through a reference: not followed here
                collection = None
            for f in table.fields:
                if f.category and (f.category == BIRTH_CATEGORY or f.category.startswith(BIRTH_CATEGORY + ".")):
                    out.append((store.key, store.kind.value, table.name, f.name, collection))
    return out


def _scan_table(
    conn: Connection,
    layout: Layout,
    table: str,
    column: str,
    collection: str | None,
    *,
    limit: int,
    today: date,
    scan: Scan,
    place: str,
) -> Iterator[Minor]:
    tl = layout.tables[table]
    for rows in batches(conn, layout, table, lambda t: t.c[column].is_not(None), size=BATCH):
        scan.rows_read += len(rows)
        young = []
        born_of: dict[tuple, date] = {}
        for row in rows:
            born = birth_date(row.get(column))
            if born is None:
                scan.unreadable += 1 if row.get(column) not in (None, "") else 0
                continue
            if _under(born, limit, today):
                young.append(row)
                born_of[row_key(tl, row)] = born
        if not young:
            continue
        named = people(conn, layout, table, young)
        related = linked(conn, layout, table, young, RELATED)
        for row in young:
            key = row_key(tl, row)
            ids = named.get(key)
            if not ids:
                scan.unnamed += 1
                continue
            others = []
            for other_table, other in related.get(key, []):
                otl = layout.tables[other_table]
                found = people(conn, layout, other_table, [other]).get(row_key(otl, other))
                if found:
                    others.append(found)
            collected = _aware(row.get(collection)) if collection else None
            yield Minor(ids, born_of[key], collected, {place}, others)


def scan(session: Session, settings: Settings, *, limit: int, today: date) -> Scan:
    """Every person under `limit` years on `today` in the company's SQL datastores, merged across tables."""
    from privet.connectors.plan import MappedPlan, build_plan
    from privet.connectors.sql.engines import engine_for
    from privet.connectors.sql.schema import layout_for
    from privet.datamap.secrets import resolve_secret

    out = Scan()
    by_store: dict[str, list[tuple[str, str, str | None]]] = {}
    for store, kind, table, column, collection in birth_fields(session):
        if kind in SQL_KINDS:
            by_store.setdefault(store, []).append((table, column, collection))
    found: list[Minor] = []
    for store, tables in sorted(by_store.items()):
        plan = build_plan(session, settings, store)
        try:
            assert isinstance(
                plan, MappedPlan
            )  # build_plan without `reflect` gives the data map's plan, with its secret
            assert plan.secret is not None  # none: the datastore cannot be reached (said below, like any failure)
            url = resolve_secret(settings, plan.secret)
            with engine_for(url).connect() as conn:
                layout = layout_for(conn, url, plan)
                for table, column, collection in tables:
                    if table in layout.tables:
                        found += _scan_table(
                            conn,
                            layout,
                            table,
                            column,
                            collection,
                            limit=limit,
                            today=today,
                            scan=out,
                            place=f"{store}.{table}",
                        )
                conn.rollback()
        except Exception:  # noqa: BLE001 - a datastore out of reach is reported by key, never with its error text
            out.unreachable.append(store)
    out.minors = merge(found)
    return out


def merge(found: list[Minor]) -> list[Minor]:
    """One Minor per person: entries sharing any identity value are merged (earliest collection, all places)."""
    merged: list[Minor | None] = []  # None: merged into an earlier entry
    owner: dict[tuple[str, str], int] = {}  # always an entry still there: a merged entry's pairs move to its target
    for minor in found:
        hits = sorted({owner[p] for p in minor.pairs() if p in owner})
        if not hits:
            merged.append(minor)
            index, target = len(merged) - 1, minor
        else:
            index = hits[0]
            live = [m for m in (merged[i] for i in hits) if m is not None]  # all of them (see `owner`)
            target = live[0]
            for other in [*live[1:], minor]:
                _absorb(target, other)
            for i in hits[1:]:
                merged[i] = None
        for p in target.pairs():
            owner[p] = index
    return [m for m in merged if m is not None]


def _absorb(target: Minor, other: Minor) -> None:
    for t, values in other.identities.items():
        bucket = target.identities.setdefault(t, [])
        bucket += [v for v in values if v not in bucket]
    if other.collected_at and (target.collected_at is None or other.collected_at < target.collected_at):
        target.collected_at = other.collected_at
    target.places |= other.places
    target.related += [r for r in other.related if r not in target.related]
