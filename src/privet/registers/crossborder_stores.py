"""People stored abroad, from the data map (P29): datastores whose region is outside the organisation's home
region, and how many distinct people each holds, for the cross-border threshold tracker.

A datastore's people are counted by its identity columns: per identity type, the distinct values across all its
tables (one `UNION` statement, counted by the database); the datastore's count is the largest of those, since
one person may carry several identity types (an e-mail and a phone on one row). Values are never read out.
Datastores that cannot be counted (not SQL, no connection secret, out of reach) count 0 and say why.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import Connection, func, literal_column, select, union
from sqlalchemy.orm import Session

from privet.settings import Settings

if TYPE_CHECKING:
    from privet.connectors.sql.schema import Layout
    from privet.datamap.schemas import Datastore

SQL_KINDS = ("sqlite", "postgresql", "mysql")


@dataclass(frozen=True)
class StoredAbroad:
    """One datastore outside the home region and the distinct people it holds (0 with `problem` when uncounted)."""

    datastore: str
    region: str
    people: int
    problem: str | None = None

    def as_dict(self) -> dict:
        return {"datastore": self.datastore, "region": self.region, "people": self.people, "problem": self.problem}


def _people(conn: Connection, layout: Layout) -> int:
    by_type: dict[str, list] = {}
    for _name, tl in layout.tables.items():
        for f in tl.spec.fields:
            column = tl.table.c.get(f.name)
            if f.identity and column is not None:
                by_type.setdefault(f.identity, []).append(select(column.label("v")).where(column.is_not(None)))
    best = 0
    for selects in by_type.values():
        values = union(*selects).subquery() if len(selects) > 1 else selects[0].subquery()
        best = max(best, conn.execute(select(func.count(literal_column("v"))).select_from(values)).scalar_one())
    return best


def stored_abroad(session: Session, settings: Settings) -> list[StoredAbroad]:
    """Each datastore of the applied data map outside the organisation's region, with its people counted."""
    from privet.datamap.service import current
    from privet.db.memo import per_transaction

    manifest = current(session)
    if manifest is None or manifest.organisation is None or manifest.organisation.region == "GLOBAL":
        return []
    home = manifest.organisation.region
    abroad = [s for s in manifest.datastores if s.region not in (home, "GLOBAL")]
    return per_transaction(
        session,
        "registers.stored_abroad",
        lambda: [_count(session, settings, s) for s in sorted(abroad, key=lambda s: s.key)],
    )


def _count(session: Session, settings: Settings, store: Datastore) -> StoredAbroad:
    from privet.connectors.plan import build_plan
    from privet.connectors.sql.engines import engine_for
    from privet.connectors.sql.schema import layout_for
    from privet.datamap.secrets import resolve_secret

    kind = store.kind.value
    if kind not in SQL_KINDS or not store.secret:
        return StoredAbroad(
            store.key,
            store.region,
            0,
            f"a {kind} datastore: its people are not counted automatically (record its transfers by hand)",
        )
    try:
        url = resolve_secret(settings, store.secret)
        plan = build_plan(session, settings, store.key)
        with engine_for(url).connect() as conn:
            people = _people(conn, layout_for(conn, url, plan))
            conn.rollback()
    except Exception:  # noqa: BLE001 - out of reach or not configured: said by key, never with the error text
        return StoredAbroad(store.key, store.region, 0, "the datastore could not be reached")
    return StoredAbroad(store.key, store.region, people)
