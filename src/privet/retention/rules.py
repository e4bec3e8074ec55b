"""Retention rules as the applied data map declares them: a table's own `retention:`, the organisation's rules per
category, and the processing activities' `retention:` on the tables holding their categories
(`privet.datamap.activity_retention`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from privet.connectors.base import Edge
from privet.connectors.plan import build_plan
from privet.datamap.models import DatamapDataset, DatamapDatastore, DatamapTable
from privet.kit.durations import Duration
from privet.settings import Settings

SQL_KINDS = ("sqlite", "postgresql", "mysql")


@dataclass(frozen=True)
class Clock:
    """A further trigger a row must also be past (several activities on one table with different triggers)."""

    trigger: str
    column: str
    duration: Duration
    via: tuple[str, str, str] | None = None  # (reference field, referenced table, referenced field)

    def describe(self) -> str:
        where = f"{self.via[0]}→{self.via[1]}.{self.column}" if self.via else self.column or "?"
        return f"{self.trigger} ({where}) + {self.duration}"


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
    name: str = ""  # datastore.table, datastore.table#n for a table's n-th rule, datastore.table:category
    problem: str | None = None  # why this rule cannot be enforced (the plan says it; a run skips it)
    via: tuple[str, str, str] | None = None  # the trigger's moment is `column` of the row this reference names
    also: tuple[Clock, ...] = ()  # further triggers every swept row must be past too
    activities: tuple[str, ...] = ()  # the processing activities the rule comes from (none: a table or category rule)

    @property
    def clocks(self) -> tuple[Clock, ...]:
        """Every trigger of the rule, the one batches are ordered by first."""
        return (Clock(self.trigger, self.column, self.duration, self.via), *self.also)

    def describe(self) -> str:
        """`trigger (column) + duration`, joined by `and` for several."""
        return " and ".join(c.describe() for c in self.clocks)

    @property
    def key(self) -> str:
        return self.name or f"{self.datastore}.{self.table}"

    def cutoff(self, now: datetime, clock: Clock | None = None) -> datetime:
        """Rows whose trigger moment is before this are past retention (the longer of the rule and the law); of
        the first trigger, or of `clock`."""
        # a datetime minus a duration is a datetime (Duration.before is typed for dates too)
        mine = cast(datetime, (clock.duration if clock else self.duration).before(now))
        if self.legal_minimum is None:
            return mine
        return min(mine, cast(datetime, self.legal_minimum.before(now)))

    @property
    def overridden(self) -> bool:
        """Whether a legal minimum keeps rows longer than the rule's own period would."""
        if self.legal_minimum is None:
            return False
        probe = datetime(2000, 1, 1)
        return self.legal_minimum.before(probe) < self.duration.before(probe)


def _rule(
    store: DatamapDatastore,
    dataset: DatamapDataset,
    table: DatamapTable,
    spec: dict,
    *,
    key: str,
    fields: tuple[str, ...] | None = None,
    column: str | None = None,
    problem: str | None = None,
) -> Rule:
    personal = tuple(
        f.name
        for f in table.fields
        if f.category and f.name not in table.primary_key and f.name != spec.get("column") and not f.references
    )
    return Rule(
        datastore=store.key,
        kind=store.kind,
        secret=store.secret,
        dataset=dataset.key,
        table=table.name,
        column=column or spec.get("column") or "",
        trigger=spec["trigger"],
        duration=Duration.parse(spec["duration"]),
        action=spec.get("action", "delete"),
        fields=fields or tuple(spec.get("fields") or personal),
        legal_minimum=Duration.parse(spec["legal_minimum"]) if spec.get("legal_minimum") else None,
        legal_reference=spec.get("legal_reference"),
        primary_key=tuple(table.primary_key),
        identities=tuple((f.name, f.identity) for f in table.fields if f.identity),
        name=key,
        problem=problem,
    )


def _under(key: str | None, root: str) -> bool:
    return bool(key and (key == root or key.startswith(root + ".")))


def load_rules(session: Session) -> list[Rule]:
    """Every rule of the applied data map: the tables' own (one or several each), then the organisation's rules
    per category (and purpose) expanded onto each table holding the category, ordered by datastore and table."""
    from privet.datamap.models import DatamapActivity, DatamapOrganisation

    stores = {d.key: d for d in session.execute(select(DatamapDatastore)).scalars()}
    organisation = session.execute(select(DatamapOrganisation).limit(1)).scalar()
    by_category = list((organisation.retention or []) if organisation else [])
    uses: dict[str, set[str]] = {}  # dataset → purposes of the activities using it
    if by_category:
        for act in session.execute(select(DatamapActivity)).scalars():
            for key in act.datasets or []:
                uses.setdefault(key, set()).add(act.purpose)
    datasets = session.execute(
        select(DatamapDataset).options(selectinload(DatamapDataset.tables).selectinload(DatamapTable.fields))
    ).scalars()
    rules = []
    for dataset in datasets:
        store = stores.get(dataset.datastore_key)
        if store is None:
            continue
        for table in dataset.tables:
            own = table.retention if isinstance(table.retention, list) else [table.retention] if table.retention else []
            base = f"{store.key}.{table.name}"
            for n, spec in enumerate(own):
                rules.append(_rule(store, dataset, table, spec, key=base if len(own) == 1 else f"{base}#{n + 1}"))
            for spec in by_category:
                if spec.get("purpose") and not any(_under(p, spec["purpose"]) for p in uses.get(dataset.key, ())):
                    continue
                fields = tuple(
                    f.name
                    for f in table.fields
                    if _under(f.category, spec["category"]) and f.name not in table.primary_key and not f.references
                )
                if not fields:
                    continue
                column = (table.timestamps or {}).get(spec["trigger"])
                problem = (
                    None
                    if column
                    else (
                        f"table {table.name} declares no `timestamps.{spec['trigger']}` "
                        f"column, so the {spec['category']} rule cannot be enforced there"
                    )
                )
                rules.append(
                    _rule(
                        store,
                        dataset,
                        table,
                        {**spec, "column": column or ""},
                        fields=fields,
                        column=column,
                        key=f"{base}:{spec['category']}",
                        problem=problem,
                    )
                )
    rules += _activity_rules(session, stores)
    return sorted(rules, key=lambda r: (r.datastore, r.table, r.key))


def _activity_rules(session: Session, stores: dict[str, DatamapDatastore]) -> list[Rule]:
    """The processing activities' retention on the tables holding their categories (tables without a rule of their
    own); a table whose trigger has no moment, or a datastore that is not SQL, is listed with the reason."""
    from privet.datamap.activity_retention import activity_rules
    from privet.datamap.service import current

    manifest = current(session)
    if manifest is None:
        return []
    tables = {(d.key, t.name): t for d in manifest.datasets for t in d.tables}
    out = []
    for found in activity_rules(manifest):
        store = stores.get(found.datastore)
        if store is None:
            continue
        table = tables[(found.dataset, found.table)]
        problem = found.problem
        if store.kind not in SQL_KINDS:
            problem = f"datastore {store.key} is {store.kind}: this retention is kept by hand, not by a sweep"
        clocks = [Clock(c.trigger, c.column, Duration.parse(c.duration), c.via) for c in found.clocks] or [
            Clock(found.missing[0].trigger, "", Duration.parse(found.missing[0].duration or "P0D"))
        ]
        first = clocks[0]
        out.append(
            Rule(
                datastore=store.key,
                kind=store.kind,
                secret=store.secret,
                dataset=found.dataset,
                table=found.table,
                column=first.column,
                trigger=first.trigger,
                duration=first.duration,
                action=found.action,
                fields=found.fields,
                legal_minimum=Duration.parse(found.legal_minimum) if found.legal_minimum else None,
                legal_reference=found.legal_reference,
                primary_key=tuple(table.primary_key),
                identities=tuple((f.name, f.identity) for f in table.fields if f.identity),
                name=f"{store.key}.{found.table}",
                problem=problem,
                via=first.via,
                also=tuple(clocks[1:]),
                activities=found.activities,
            )
        )
    return out


def references(session: Session, settings: Settings, rules: list[Rule]) -> dict[str, tuple[Edge, ...]]:
    """Per datastore of the rules, the references its data map declares between its tables (inferred ones and
    every relation alike): a row another row names this way is kept like one a foreign key names."""
    return {key: plan.edges for key, plan in _plans(session, settings, rules).items()}


def _plans(session: Session, settings: Settings, rules: list[Rule]) -> dict:
    stores = sorted({r.datastore for r in rules if r.kind in SQL_KINDS and not r.problem})
    return {key: build_plan(session, settings, key) for key in stores}


def in_sweep_order(
    session: Session, settings: Settings, rules: list[Rule]
) -> tuple[list[Rule], dict[str, tuple[Edge, ...]]]:
    """The rules with referring tables before the tables they refer to (per datastore, the data map's erasure
    order), so a row freed by one rule is swept by the next in the same run; and each datastore's references."""
    plans = _plans(session, settings, rules)
    position = {(key, table): n for key, plan in plans.items() for n, table in enumerate(plan.erase_order)}
    ordered = sorted(
        rules, key=lambda r: (r.datastore, position.get((r.datastore, r.table), len(position)), r.table, r.key)
    )
    return ordered, {key: plan.edges for key, plan in plans.items()}
