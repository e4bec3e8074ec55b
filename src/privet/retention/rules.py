"""Retention rules as the applied data map declares them (`retention:` on a dataset's table)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from privet.datamap.models import DatamapDataset, DatamapDatastore, DatamapTable
from privet.kit.durations import Duration

SQL_KINDS = ("sqlite", "postgresql", "mysql")


@dataclass(frozen=True)
class Rule:
    """One table's rule, with what the sweep needs to know about the table."""

    datastore: str
    kind: str
    secret: str | None
    dataset: str
    table: str
    column: str
    trigger: str
    duration: Duration
    action: str  # delete | anonymise | null
    fields: tuple[str, ...]  # fields an anonymise/null rule changes
    legal_minimum: Duration | None
    legal_reference: str | None
    primary_key: tuple[str, ...]
    identities: tuple[tuple[str, str], ...]  # (field, identity type): used to spare subjects under a legal hold

    @property
    def key(self) -> str:
        return f"{self.datastore}.{self.table}"

    def cutoff(self, now: datetime) -> datetime:
        """Rows whose trigger moment is before this are past retention (the longer of the rule and the law)."""
        mine = self.duration.before(now)
        if self.legal_minimum is None:
            return mine
        return min(mine, self.legal_minimum.before(now))

    @property
    def overridden(self) -> bool:
        """Whether a legal minimum keeps rows longer than the rule's own period would."""
        if self.legal_minimum is None:
            return False
        probe = datetime(2000, 1, 1)
        return self.legal_minimum.before(probe) < self.duration.before(probe)


def load_rules(session: Session) -> list[Rule]:
    """Every table rule of the applied data map, ordered by datastore then table."""
    stores = {d.key: d for d in session.execute(select(DatamapDatastore)).scalars()}
    datasets = session.execute(select(DatamapDataset).options(
        selectinload(DatamapDataset.tables).selectinload(DatamapTable.fields))).scalars()
    rules = []
    for dataset in datasets:
        store = stores.get(dataset.datastore_key)
        for table in dataset.tables:
            spec = table.retention
            if not spec or store is None:
                continue
            personal = tuple(f.name for f in table.fields if f.category and f.name not in table.primary_key
                             and f.name != spec["column"] and not f.references)
            rules.append(Rule(
                datastore=store.key, kind=store.kind, secret=store.secret, dataset=dataset.key, table=table.name,
                column=spec["column"], trigger=spec["trigger"], duration=Duration.parse(spec["duration"]),
                action=spec.get("action", "delete"), fields=tuple(spec.get("fields") or personal),
                legal_minimum=Duration.parse(spec["legal_minimum"]) if spec.get("legal_minimum") else None,
                legal_reference=spec.get("legal_reference"), primary_key=tuple(table.primary_key),
                identities=tuple((f.name, f.identity) for f in table.fields if f.identity)))
    return sorted(rules, key=lambda r: (r.datastore, r.table))
