"""Plans from the applied data map: per datastore, its tables and fields with their erasure actions, the identity
columns to start from, and the references between tables (declared in the data map; SQL connectors add the
foreign keys they reflect when they open, see `privet.connectors.sql.schema.complete_plan`).

A field's effective erasure action is its own, else its table's when the field is personal (has a category).
`delete_row` is about the whole row, so a table's `delete_row` also applies to its non-personal columns.
A reference to a field of another datastore cannot be followed by a query; when that field identifies people
(e.g. `crm_accounts.customers.id` with identity `user_id`) and the referring row belongs to that person
(relation belongs_to), the referring column becomes an entry for that identity type instead, so a subject known by
that identifier is found there too.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from privet.connectors.base import BELONGS_TO, DatastorePlan, Edge, FieldSpec, TableSpec
from privet.connectors.graph import ordering, unreachable
from privet.datamap.models import DatamapDataset, DatamapDatastore, DatamapField, DatamapTable, ErasureColumns
from privet.datamap.schemas import default_match
from privet.kit.errors import NotFound
from privet.settings import Settings
from privet.taxonomy.loader import Taxonomy

SQL_KINDS = ("sqlite", "postgresql", "mysql")


@dataclass(frozen=True)
class MappedPlan(DatastorePlan):
    """A plan as built from the data map, with the name of the datastore's connection secret."""

    secret: str | None = None


@dataclass(frozen=True)
class _Target:
    datastore: str
    table: str
    field: str
    identity: str | None


@dataclass(frozen=True)
class _Ref:
    table: str
    column: str
    target: _Target
    relation: str
    inferred: bool


def _field_spec(field: DatamapField, table: DatamapTable, taxonomy: Taxonomy) -> FieldSpec:
    source: ErasureColumns | None = None
    if field.erasure_action:
        source = field
    elif table.erasure_action and (field.category or table.erasure_action == "delete_row"):
        source = table
    return FieldSpec(
        name=field.name,
        category=field.category,
        identity=field.identity,
        action=source.erasure_action if source else None,
        retain_reason=source.erasure_reason if source else None,
        retain_duration=source.erasure_duration if source else None,
        legal_reference=source.erasure_legal_reference if source else None,
        match=(field.match or default_match(field.identity).value) if field.identity else None,
        disclose=_discloses(taxonomy, field.category),
        part=field.part,
    )


def _discloses(taxonomy: Taxonomy, category: str | None) -> bool:
    if not category:
        return True
    try:
        return taxonomy.discloses(category)
    except KeyError:  # a category the taxonomy does not know (validation reports it): shown like any other
        return True


def _load(session: Session) -> tuple[list[DatamapDatastore], list[DatamapDataset]]:
    stores = list(session.scalars(select(DatamapDatastore).order_by(DatamapDatastore.key)))
    datasets = list(
        session.scalars(
            select(DatamapDataset)
            .order_by(DatamapDataset.key)
            .options(selectinload(DatamapDataset.tables).selectinload(DatamapTable.fields))
        )
    )
    return stores, datasets


def _targets(datasets: list[DatamapDataset]) -> dict[tuple[str, str, str], _Target]:
    """(dataset, table, field) → where that field lives, for resolving references."""
    return {
        (d.key, t.name, f.name): _Target(d.datastore_key, t.name, f.name, f.identity)
        for d in datasets
        for t in d.tables
        for f in t.fields
    }


def _resolve(reference: str, dataset_key: str) -> tuple[str, str, str] | None:
    parts = reference.split(".")
    if len(parts) == 2:
        return dataset_key, parts[0], parts[1]
    return (parts[0], parts[1], parts[2]) if len(parts) == 3 else None


def _merge_composites(edges: list[Edge], tables: dict[str, TableSpec]) -> list[Edge]:
    """Single-column references from one table to the columns of another's composite key become one edge."""
    groups: dict[tuple[str, str], list[Edge]] = defaultdict(list)
    for e in edges:
        groups[(e.child, e.parent)].append(e)
    out: list[Edge] = []
    for (child, parent), group in groups.items():
        key = tables[parent].primary_key
        cols = {e.parent_columns[0]: e.child_columns[0] for e in group}
        if len(key) > 1 and set(key) <= set(cols):
            first = next(e for e in group if e.parent_columns[0] in key)
            out.append(
                Edge(
                    child,
                    tuple(cols[k] for k in key),
                    parent,
                    key,
                    relation=first.relation,
                    inferred=any(e.inferred for e in group if e.parent_columns[0] in key),
                )
            )
            out.extend(e for e in group if e.parent_columns[0] not in key)
        else:
            out.extend(group)
    return out


def _plan_for(
    store: DatamapDatastore,
    datasets: list[DatamapDataset],
    targets: dict[tuple[str, str, str], _Target],
    taxonomy: Taxonomy,
) -> DatastorePlan:
    tables: dict[str, TableSpec] = {}
    refs: list[_Ref] = []
    for dataset in (d for d in datasets if d.datastore_key == store.key):
        for table in dataset.tables:
            specs = [_field_spec(f, table, taxonomy) for f in table.fields]
            if table.name in tables:  # two datasets naming one table: one physical table, fields merged
                earlier = tables[table.name]
                names = {f.name for f in earlier.fields}
                specs = [*earlier.fields, *(s for s in specs if s.name not in names)]
                tables[table.name] = TableSpec(
                    earlier.dataset, table.name, earlier.primary_key or tuple(table.primary_key), tuple(specs)
                )
            else:
                tables[table.name] = TableSpec(dataset.key, table.name, tuple(table.primary_key), tuple(specs))
            for f in table.fields:
                where = _resolve(f.references, dataset.key) if f.references else None
                if where and where in targets:
                    refs.append(_Ref(table.name, f.name, targets[where], f.relation or BELONGS_TO, bool(f.inferred)))
    edges: list[Edge] = []
    entries = {(t.name, f.name, f.identity) for t in tables.values() for f in t.fields if f.identity}
    for ref in refs:
        if ref.target.datastore == store.key and ref.target.table in tables:
            edges.append(
                Edge(
                    ref.table,
                    (ref.column,),
                    ref.target.table,
                    (ref.target.field,),
                    relation=ref.relation,
                    inferred=ref.inferred,
                )
            )
        elif ref.target.datastore != store.key and ref.target.identity and ref.relation == BELONGS_TO:
            entries.add((ref.table, ref.column, ref.target.identity))
    unique_edges = list(dict.fromkeys(_merge_composites(edges, tables)))
    return MappedPlan(
        datastore=store.key,
        secret=store.secret,
        kind=store.kind,
        region=store.region,
        tables=tables,
        edges=tuple(unique_edges),
        entries=tuple(sorted(entries)),
        erase_order=ordering(tables, unique_edges).order,
        unreachable=unreachable(tables, unique_edges, entries),
    )


def holds_personal_data(plan: DatastorePlan) -> bool:
    """Whether any table of the plan has a field with a data category."""
    return any(f.category for t in plan.tables.values() for f in t.fields)


def _reflected(plan: DatastorePlan, settings: Settings) -> DatastorePlan:
    """The plan completed with the datastore's foreign keys; unchanged when it cannot be reached now."""
    if plan.kind not in SQL_KINDS:
        return plan
    from privet.connectors.base import ConnectorError
    from privet.connectors.registry import open_connector

    try:
        with open_connector(plan, settings) as connector:
            return connector.layout().plan  # type: ignore[attr-defined]  # a SQL kind opens a SqlConnector
    except ConnectorError:
        return plan  # the connector reflects again (and reports the failure) when it runs


def build_plans(session: Session, settings: Settings, *, reflect: bool = False) -> list[DatastorePlan]:
    """A plan for every datastore of the applied data map that holds personal fields, by datastore key.

    Edges are the data map's references. SQL connectors add the reflected foreign keys (and recompute
    `erase_order` with them) when they open — `connector.plan` is the completed plan; `reflect=True` does that
    here already (reaching every SQL datastore; one that is down keeps its declared plan)."""
    from privet.taxonomy.service import effective

    stores, datasets = _load(session)
    targets = _targets(datasets)
    taxonomy = effective(session)
    plans = [p for p in (_plan_for(store, datasets, targets, taxonomy) for store in stores) if holds_personal_data(p)]
    return [_reflected(p, settings) for p in plans] if reflect else plans


def build_plan(session: Session, settings: Settings, key: str, *, reflect: bool = False) -> DatastorePlan:
    """The plan of one datastore (NotFound when the applied data map has no datastore `key`)."""
    stores, datasets = _load(session)
    store = next((s for s in stores if s.key == key), None)
    if store is None:
        raise NotFound(
            f"There is no datastore `{key}` in the applied data map",
            "see `privet datamap export` for the datastores, or apply the data map first",
        )
    from privet.taxonomy.service import effective

    plan = _plan_for(store, datasets, _targets(datasets), effective(session))
    return _reflected(plan, settings) if reflect else plan
