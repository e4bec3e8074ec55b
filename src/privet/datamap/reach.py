"""Which tables of a datastore a data-subject request reaches, from the data map alone.

A person's rows are found at the identity fields (the entries), then *down* `belongs_to` references (a row that
belongs to one of the person's rows is theirs: orders of a customer, lines of those orders) and *up* `owns`
references (the row one of their rows owns: their address). Nothing is walked down from an owned row (other rows
pointing at it are other people's), `points_to` is never followed, and a table referring to itself is never walked.
A `belongs_to` reference to an identity field of another datastore makes the referring table an entry for that
identity type. This is the walk `privet.connectors.sql.walk` does, on the declared references only (a connector
adds the foreign keys it reflects when it opens).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from privet.datamap.schemas import Field_, Manifest, Relation, Table


@dataclass(frozen=True)
class Ref:
    """A reference between two tables of one datastore, as declared."""

    dataset: str
    table: str
    field: Field_
    parent: str
    parent_field: str

    @property
    def relation(self) -> Relation:
        return Relation(self.field.relation or Relation.belongs_to)


@dataclass
class StoreMap:
    """One datastore's tables (a table named in several datasets is one table), entries and references."""

    datastore: str
    tables: dict[str, list[tuple[str, Table]]] = field(default_factory=dict)  # name → (dataset key, declaration)
    entries: dict[str, set[str]] = field(default_factory=dict)  # table → identity types a person is found by there
    refs: list[Ref] = field(default_factory=list)

    def reached(self, starts: Iterable[str] | None = None, avoid: str | None = None) -> dict[str, Relation]:
        """Table → how a request reaches it (belongs_to: the person's own rows; owns: rows they own), from
        `starts` (default: every entry), not passing through the table `avoid`."""
        edges = [(r.table, r.parent, r.relation) for r in self.refs if avoid not in (r.table, r.parent)]
        return walk(self.entries if starts is None else starts, edges)


def walk(starts: Iterable[str], edges: Iterable[tuple[str, str, Relation | str]]) -> dict[str, Relation]:
    """Tables reached from `starts` over (child, parent, relation) edges: down belongs_to, then up owns."""
    edges = [(c, p, Relation(r)) for c, p, r in edges if c != p]
    found = dict.fromkeys(starts, Relation.belongs_to)
    grew = True
    while grew:  # the person's own rows: entries and, transitively, the rows belonging to them
        grew = False
        for child, parent, relation in edges:
            if relation == Relation.belongs_to and parent in found and child not in found:
                found[child], grew = Relation.belongs_to, True
    grew = True
    while grew:  # rows those rows own, and rows the owned rows own in turn
        grew = False
        for child, parent, relation in edges:
            if relation == Relation.owns and child in found and parent not in found:
                found[parent], grew = Relation.owns, True
    return found


def _resolve(reference: str, dataset: str) -> tuple[str, str, str] | None:
    parts = reference.split(".")
    if len(parts) == 2:
        return dataset, parts[0], parts[1]
    return (parts[0], parts[1], parts[2]) if len(parts) == 3 else None


def store_maps(manifest: Manifest) -> dict[str, StoreMap]:
    """Datastore key → its map, for every datastore that datasets name (references to unknown fields are left
    out: validation reports them)."""
    maps: dict[str, StoreMap] = {}
    where = {(d.key, t.name, f.name): (d.datastore, f) for d in manifest.datasets for t in d.tables for f in t.fields}
    for d in manifest.datasets:
        store = maps.setdefault(d.datastore, StoreMap(d.datastore))
        for t in d.tables:
            store.tables.setdefault(t.name, []).append((d.key, t))
            for f in t.fields:
                if f.identity:
                    store.entries.setdefault(t.name, set()).add(f.identity)
                target = _resolve(f.references, d.key) if f.references else None
                if target is None or target not in where:
                    continue
                datastore, to = where[target]
                if datastore == d.datastore:
                    store.refs.append(Ref(d.key, t.name, f, target[1], target[2]))
                elif to.identity and (f.relation or Relation.belongs_to) == Relation.belongs_to:
                    store.entries.setdefault(t.name, set()).add(to.identity)
    return maps
