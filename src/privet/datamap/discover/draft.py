"""The draft of data map edits discovery proposes (`privet datamap discover -o draft.yaml`, and scaffold's
`--discover`): the datastore's datasets as the map has them, with what the values say written in for review.

- a column mapped as non-personal (or not listed) that holds personal data gets its category, an e-mail or phone
  column that holds nothing else its identity too, and a `review:` note saying what was found;
- a column whose category the values contradict gets the category found, the old one named in the note;
- an identity column holding something else keeps its mapping, with a note (a reviewer decides which column it is);
- a table the map does not list that holds personal data is drafted as scaffold drafts it, with the categories
  the values show.
"""

from __future__ import annotations

from privet.datamap.discover.compare import found_category
from privet.datamap.scaffold.draft import draft_tables
from privet.datamap.scaffold.guesses import nearest_known
from privet.datamap.scaffold.reflect import Reflected
from privet.datamap.schemas import Manifest

IDENTITY_OF = {"user.contact.email": "email", "user.contact.phone": "phone"}
WHOLE = 0.9  # a column whose values are this share one identifier can identify people by it


def draft_edits(
    tables: list[dict],
    manifest: Manifest,
    datastore: str,
    reflected: dict[str, Reflected],
    dialect: str,
    known: set[str],
) -> dict:
    """`{"datasets": [...]}`: the datastore's datasets with the discovered edits, plus its unlisted tables."""
    datasets = [d.model_dump(mode="json", exclude_none=True) for d in manifest.datasets if d.datastore == datastore]
    by_table = {t["name"]: t for d in datasets for t in d["tables"]}
    unlisted = []
    for table in tables:
        columns = [c for c in table.get("columns", []) if c.get("status") == "conflict"]
        if table.get("kind") != "table" or not columns:
            continue
        if table["name"] in by_table:
            _edit(by_table[table["name"]], columns, known)
        elif table["name"] in reflected:
            unlisted.append(table)
    if unlisted:
        drafted = overlay(draft_tables([reflected[t["name"]] for t in unlisted], dialect, None, known), unlisted, known)
        if not datasets:
            datasets.append({"key": datastore, "datastore": datastore, "tables": []})
        datasets[0]["tables"] += drafted
    return {"datasets": datasets}


def overlay(drafted: list[dict], tables: list[dict], known: set[str]) -> list[dict]:
    """Scaffold's draft tables with the categories the values show written over the ones guessed from names."""
    found = {(t["name"], c["name"]): c for t in tables for c in t.get("columns", [])}
    for table in drafted:
        for field in table["fields"]:
            column = found.get((table["name"], field["name"]))
            category = nearest_known(found_category(column), known) if column else None
            if column and category and category != field.get("category"):
                if field.get("category"):  # the name's guess was wrong, and its identity with it
                    for key in ("identity", "match", "indexed"):
                        field.pop(key, None)
                field["category"] = category
                _identity(field, column, category)
                _note(field, _said(column, category))
    return drafted


def _edit(table: dict, columns: list[dict], known: set[str]) -> None:
    fields = {f["name"]: f for f in table["fields"]}
    for column in columns:
        category = nearest_known(found_category(column), known)
        field = fields.get(column["name"])
        rule = column["conflict"]["rule"]
        if field is None and category:
            field = {"name": column["name"]}
            table["fields"].append(field)
            fields[column["name"]] = field
        if field is None:
            continue
        if rule == "DISCOVERED-IDENTITY-MISMATCH" or not category:
            _note(field, f"review: discovery says this column {column['conflict']['message']}")
            continue
        old = field.get("category")
        field["category"] = category
        if not field.get("identity"):
            _identity(field, column, category)
        _note(field, _said(column, category) + (f"; it was mapped as {old}" if old else ""))


def _identity(field: dict, column: dict, category: str) -> None:
    identity = IDENTITY_OF.get(category)
    if identity and column.get("category") == category and column.get("share", 0) >= WHOLE:
        field["identity"] = identity


def _said(column: dict, category: str) -> str:
    if column.get("category") == category:
        return (
            f"review: discovered from values: {column['share']:.0%} of {column['sampled']} sampled values "
            f"are {category}"
        )
    keys = [k for k, v in (column.get("json_keys") or {}).items() if v == category]
    where = f"JSON keys {', '.join(keys[:3])} hold" if keys else "the text mentions"
    return (
        f"review: discovered from values: {where} {category} in {column['embedded'][category]:.0%} of "
        f"{column.get('sampled', 0)} sampled values (an identity here would be `match: contains`)"
    )


def _note(field: dict, note: str) -> None:
    field["description"] = "; ".join(p for p in (field.get("description"), note) if p)
