"""The rules about data-subject requests: can a request find every table of personal data, erase what it finds,
find people by an index, and take only the person's rows? Part of `privet datamap evaluate`; the walk a request
does over the map is `privet.datamap.reach`.

Finding people and following references is the SQL connector's work; manual and HTTP datastores are answered by a
person or the company's endpoint, so only the erasure rule applies to them.
"""

from __future__ import annotations

from typing import Any

from privet.datamap.findings import Finding
from privet.datamap.matching import index_statement
from privet.datamap.reach import Ref, StoreMap, store_maps
from privet.datamap.schemas import DatastoreKind, Field_, Manifest, Match, Relation, Table

SQL_KINDS = (DatastoreKind.sqlite, DatastoreKind.postgresql, DatastoreKind.mysql)
ERASURE_FIX = (
    "set `erasure:` on the table (delete_row, null, mask or hash), or `action: retain` with `reason` and "
    "`duration`; a field's own `erasure:` overrides the table's"
)
OWN = "their address; their organisation when it holds no one else's personal data"


def request_findings(manifest: Manifest, taxonomy: Any) -> list[Finding]:
    """Findings about requests, in the order of datasets, tables and fields."""
    kinds = {s.key: s.kind for s in manifest.datastores}
    maps = store_maps(manifest)
    reached = {key: m.reached() for key, m in maps.items()}
    reported: set[tuple[str, str]] = set()
    out: list[Finding] = []
    for d in manifest.datasets:
        store, kind = maps[d.datastore], kinds.get(d.datastore)
        walked = kind in SQL_KINDS
        for t in d.tables:
            obj = f"datasets.{d.key}.{t.name}"
            if not walked or t.name in reached[d.datastore]:
                out += _no_erasure(obj, t)
            elif (d.datastore, t.name) not in reported and _categories(store, t.name):
                reported.add((d.datastore, t.name))
                out.append(_unreachable(obj, store, t.name, reached[d.datastore], taxonomy))
            for f in t.fields:
                if walked and kind is not None and f.identity and f.indexed is not True:  # walked: kind is SQL
                    out.append(_not_indexed(f"{obj}.{f.name}", t.name, f, kind))
                if f.references and f.inferred:
                    out.append(_inferred(f"{obj}.{f.name}", t.name, f))
            if walked:
                out += [
                    _relation_review(f"{obj}.{r.field.name}", store, r, others)
                    for r in store.refs
                    if r.dataset == d.key and r.table == t.name
                    if (others := _other_people(store, r))
                ]
    return out


def _categories(store: StoreMap, table: str) -> list[str]:
    return sorted({f.category for _, t in store.tables[table] for f in t.fields if f.category})


def _no_erasure(obj: str, table: Table) -> list[Finding]:
    if table.erasure:
        return []
    missing = [f.name for f in table.fields if f.category and not f.erasure]
    if not missing:
        return []
    return [
        Finding(
            "PERSONAL-TABLE-NO-ERASURE",
            "error",
            obj,
            f"personal fields of `{table.name}` have no erasure action: {', '.join(missing)}",
            ERASURE_FIX,
        )
    ]


def _identity_hint(store: StoreMap, table: str, taxonomy: Any) -> str:
    """`identity: email` on `staff.email`, for a field whose category is an identity type's (else a generic e.g.)."""
    for _, t in store.tables[table]:
        for f in t.fields:
            for key, kind in taxonomy.identity_types.items():
                try:
                    if f.category and kind.category and taxonomy.is_within(f.category, kind.category):
                        return f"`identity: {key}` on `{table}.{f.name}`"
                except KeyError:  # an unknown category: validation reports it
                    continue
    return "e.g. `identity: email` on its e-mail field"


def _unreachable(obj: str, store: StoreMap, table: str, reached: dict[str, Relation], taxonomy: Any) -> Finding:
    cats = _categories(store, table)
    into = [r for r in store.refs if r.parent == table and r.table in reached and r.table != table]
    out_of = [r for r in store.refs if r.table == table and r.parent in reached and r.parent != table]
    identity = _identity_hint(store, table, taxonomy)
    message = (
        f"table `{table}` holds personal data ({', '.join(cats[:4])}{', …' if len(cats) > 4 else ''}) "
        "that no request finds: it has no identity field"
    )
    if into:
        named = ", ".join(f"`{r.table}.{r.field.name}` ({r.relation.value})" for r in into[:3])
        message += f", and the references to it from tables the person is found in do not take its rows: {named}"
        ref = next((r for r in into if r.relation not in (Relation.points_to, Relation.related_account)), None)
        if ref is None:
            ref = into[0]
            hint = (
                f"only points_to leads to it, so its rows are other people's or shared: declare the identity "
                f"of the people it is about ({identity}, with `indexed:`) so they can exercise their rights; "
                f"if each row is the referring row's person's own ({OWN}), set `relation: owns` on "
                f"`{ref.table}.{ref.field.name}` instead"
            )
        else:
            hint = (
                f"if each `{table}` row is the `{ref.table}` row's person's own ({OWN}), set `relation: owns` on "
                f"`{ref.table}.{ref.field.name}` (a row others share is kept when one of them is erased); if it "
                f"is someone else's, set `relation: points_to` there and declare the identity of the people it "
                f"is about ({identity})"
            )
    elif out_of:
        ref = out_of[0]
        why = (
            "rows belonging to a row the person only owns are not taken (others may point at it too)"
            if ref.relation == Relation.belongs_to
            else f"`{ref.relation.value}` does not make its rows the person's"
        )
        message += f", and its reference `{table}.{ref.field.name}` → `{ref.parent}`: {why}"
        hint = (
            f"add an identity field ({identity}), or make `{table}.{ref.field.name}` belongs_to a table the "
            "person is found in"
        )
    else:
        message += " and no reference connects it to a table the person is found in"
        hint = (
            f"add an identity field ({identity}), or a reference from it to a table the person is found in "
            "(belongs_to), or from such a table to it (`relation: owns`)"
        )
    return Finding("PERSONAL-TABLE-UNREACHABLE", "error", obj, message, hint)


def _not_indexed(obj: str, table: str, f: Field_, kind: DatastoreKind) -> Finding:
    mode = f.effective_match
    if mode == Match.contains:
        return Finding(
            "IDENTITY-NOT-INDEXED",
            "warning",
            obj,
            f"identity field `{table}.{f.name}` is searched as free text (`match: contains`): every "
            "request reads the whole table",
            "keep such tables small, or store the identity in a column of its own and declare that column instead",
        )
    statement = index_statement(table, f.name, mode, kind.value) or ""  # None only for MariaDB expressions
    if kind == DatastoreKind.mysql and mode != Match.exact:
        plain = index_statement(table, f.name, Match.exact, kind.value) or ""
        statement += (
            " (MySQL 8); MariaDB cannot index an expression: if the stored values are already "
            "normalised and the column's collation is case-insensitive, set `match: exact`, which a plain "
            f"index serves: {plain}"
        )
    message = f"identity field `{table}.{f.name}` ({f.identity}, `match: {mode.value}`) is "
    if f.indexed is False:
        return Finding(
            "IDENTITY-NOT-INDEXED",
            "warning",
            obj,
            message + "not indexed",
            f"create the index so requests find a person's rows without a full scan: {statement}; "
            "then set `indexed: true`",
        )
    return Finding(
        "IDENTITY-NOT-INDEXED",
        "warning",
        obj,
        message + "not known to be indexed",
        f"if no index serves it, create one: {statement}; then set `indexed: true` "
        "(`privet datamap scaffold` records the indexes it finds)",
    )


def _inferred(obj: str, table: str, f: Field_) -> Finding:
    return Finding(
        "REFERENCE-INFERRED",
        "warning",
        obj,
        f"the reference `{table}.{f.name}` → `{f.references}` was guessed by scaffold from names and types "
        "(no foreign key declares it)",
        f"check that `{table}.{f.name}` holds `{f.references}` values and which relation it is "
        "(belongs_to, owns or points_to), then remove `inferred: true`",
    )


def _other_people(store: StoreMap, ref: Ref) -> list[str]:
    """For a belongs_to left to default into a table of people: the other tables of people, found by the same
    kinds of identity, whose rows the referring rows already belong to without passing through the referenced
    table (then the reference likely leads to someone else: a staff member, an organisation's representative).
    Different kinds of identity (a device serial and an account) are taken to be one person's."""
    if ref.field.relation is not None or ref.parent == ref.table or ref.parent not in store.entries:
        return []
    kinds = store.entries[ref.parent]
    return sorted(
        e
        for e, found_by in store.entries.items()
        if e != ref.parent and found_by & kinds and ref.table in store.reached([e], avoid=ref.parent)
    )


def _relation_review(obj: str, store: StoreMap, ref: Ref, others: list[str]) -> Finding:
    kinds = ", ".join(sorted(store.entries[ref.parent]))
    return Finding(
        "RELATION-REVIEW",
        "warning",
        obj,
        f"`{ref.table}.{ref.field.name}` → `{ref.parent}` is belongs_to by default, so a person found in "
        f"`{ref.parent}` (by {kinds}) would be given the `{ref.table}` rows pointing at theirs, which already are "
        f"the rows of people found in `{'`, `'.join(others)}`",
        f"say whose the rows are: `relation: points_to` if the `{ref.parent}` row is someone else's or shared, "
        f"`relation: owns` if it is the `{ref.table}` row's person's own, `relation: belongs_to` if the "
        f"`{ref.table}` rows really are the `{ref.parent}` row's person's",
    )
