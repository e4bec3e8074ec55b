"""Reflected tables as draft manifest tables: guessed categories and identities, references and their relations,
and whether an index serves each identity as it is matched.

Everything a reviewer must check is written out: every reference says its `relation:` (and `inferred: true`
when no foreign key declares it), and what could not be drafted is a `review:` note in the field's description.
"""

from __future__ import annotations

from dataclasses import dataclass

from privet.datamap import matching
from privet.datamap.scaffold.guesses import Guess, guess_column, subject_table
from privet.datamap.scaffold.parts import assign_parts
from privet.datamap.scaffold.references import REF_NAME, Shape, infer, kind
from privet.datamap.scaffold.reflect import Reflected
from privet.datamap.scaffold.relations import Link, people_table, propose
from privet.datamap.schemas import Match, default_match


@dataclass(frozen=True)
class _Ref:
    target: str | None = None
    column: str | None = None
    inferred: bool = False
    note: str | None = None


def draft_tables(reflected: list[Reflected], dialect: str, schema: str | None, known: set[str]) -> list[dict]:
    """Draft manifest tables (dicts in manifest order) for the reflected tables."""
    guesses = {
        t.name: {
            c["name"]: guess_column(
                c["name"], is_subject=subject_table(t.name), is_pk=t.primary_key == [c["name"]], known=known
            )
            for c in t.columns
        }
        for t in reflected
    }
    shapes = {t.name: Shape(t.name, {c["name"]: kind(c["type"]) for c in t.columns}, t.primary_key) for t in reflected}
    refs = {(t.name, column): ref for t in reflected for column, ref in _references(t, shapes).items()}
    people = {t for t, g in guesses.items() if people_table(t) or any(x.identity for x in g.values())}
    relations = propose([Link(t, c, r.target) for (t, c), r in refs.items() if r.target], people)
    out = []
    for table in reflected:
        fields = []
        for column in table.columns:
            name = column["name"]
            ref = refs.get((table.name, name), _Ref())
            relation = relations.get(Link(table.name, name, ref.target or "")) if ref.target else None
            fields.append(_field(table, name, guesses[table.name][name], ref, relation, dialect, schema))
        assign_parts(fields)
        out.append(_table(table, fields))
    return out


def _references(table: Reflected, shapes: dict[str, Shape]) -> dict[str, _Ref]:
    """Declared foreign keys of each column, else what its name and type suggest."""
    declared: dict[str, _Ref] = {}
    for fk in table.foreign_keys:
        for local, remote in zip(fk["constrained_columns"], fk["referred_columns"], strict=False):
            where = ".".join(p for p in (fk.get("referred_schema"), fk["referred_table"], remote) if p)
            if fk.get("referred_schema"):
                ref = _Ref(
                    note=f"review: a foreign key to {where} in another schema; scaffold that schema as its "
                    "own dataset and write `references: dataset.table.field`"
                )
            elif not (REF_NAME.match(fk["referred_table"]) and REF_NAME.match(remote)):
                ref = _Ref(note=f"review: a foreign key to {where}, which cannot be written as table.field")
            else:
                ref = _Ref(fk["referred_table"], remote)
            seen = declared.setdefault(local, ref)
            if seen.target and ref.target and (seen.target, seen.column) != (ref.target, ref.column):
                # partitions may each declare their own foreign key on the same column
                declared[local] = _Ref(
                    seen.target,
                    seen.column,
                    note=_join(seen.note, f"review: another foreign key points at {ref.target}.{ref.column}"),
                )
    out = dict(declared)
    for column in shapes[table.name].kinds:
        if column not in declared:
            found = infer(shapes[table.name], column, shapes)
            if found:
                out[column] = _Ref(found.target, found.target_column, found.target is not None, found.note)
    return out


def _field(
    table: Reflected, name: str, guess: Guess, ref: _Ref, relation: tuple | None, dialect: str, schema: str | None
) -> dict:
    field: dict = {"name": name}
    notes = []
    if guess.category:
        field["category"] = guess.category
    if guess.identity:
        field["identity"] = guess.identity
        match, indexed, note = _match(table, name, default_match(guess.identity), dialect, schema)
        if match != default_match(guess.identity):
            field["match"] = match.value
        field["indexed"] = indexed  # evaluate warns about identity fields no index serves
        notes.append(note)
    if ref.target:
        field["references"] = f"{ref.target}.{ref.column}"
        rel, why = relation or (None, None)
        if rel is not None:
            field["relation"] = rel.value
            notes.append(f"review: {rel.value}, {why}" if why else None)
        if ref.inferred:
            field["inferred"] = True
    notes.append(ref.note)
    if any(notes):
        field["description"] = _join(*notes)
    return field


def _match(table: Reflected, column: str, mode: Match, dialect: str, schema: str | None) -> tuple:
    """(match, indexed, note): the identity type's match and whether an index serves it."""
    if table.serves(column, mode, dialect):
        return mode, True, None
    if mode == Match.exact and table.serves(column, Match.casefold, dialect):
        # the company already looks it up ignoring case: matching it so finds what their application finds
        return Match.casefold, True, "review: an index on lower(trim(...)) says it is matched ignoring case"
    if mode == Match.exact or not table.serves(column, Match.exact, dialect):
        return mode, False, None
    if dialect == "mariadb":
        return (
            mode,
            False,
            (
                f"review: its index serves exact lookups only (MariaDB cannot index {mode.value}); "
                "if values are stored normalised, `match: exact` uses it"
            ),
        )
    target = f"{schema}.{table.name}" if schema else table.name
    return (
        mode,
        False,
        (
            f"review: its index serves exact lookups, not {mode.value}; "
            f"{matching.index_statement(target, column, mode, dialect)} would"
        ),
    )


def _table(table: Reflected, fields: list[dict]) -> dict:
    personal = sum("category" in f for f in fields)
    text = (
        f"Draft: {personal} of {len(fields)} columns look personal"
        if personal
        else "Draft: no column looks personal — check before trusting it"
    )
    if table.partitions:
        text += (
            f"; partitioned: {len(table.partitions)} partitions ({', '.join(table.partitions[:5])}"
            f"{', …' if len(table.partitions) > 5 else ''}) are read and erased through this table"
        )
    out: dict = {"name": table.name, "description": text}
    if table.primary_key:
        out["primary_key"] = table.primary_key
    out["fields"] = fields
    return out


def _join(*notes: str | None) -> str:
    return "; ".join(n for n in notes if n)
