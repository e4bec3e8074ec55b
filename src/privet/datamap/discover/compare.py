"""What discovery found against what the data map says, column by column, and the findings it makes.

Per column: `agree` (the map names the category the values hold, or a broader or narrower one), `unconfirmed`
(mapped as personal, the values show nothing a recognizer knows: names and free text often do), `non_personal`
(neither says personal), `skipped`, or `conflict` with one of the rules below. Run again at evaluate time against
the map being evaluated, so a map fixed since the scan no longer reports what was fixed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from privet.datamap.findings import Finding
from privet.datamap.schemas import Manifest

EMBEDDED_MIN = 0.02  # free text counts as holding a kind of identifier when at least this share of values mention it


@dataclass(frozen=True)
class Rule:
    key: str
    severity: str
    hint: str


UNMAPPED = Rule(
    "DISCOVERED-UNMAPPED-PERSONAL",
    "error",
    "give the field its `category:` (see the draft written by `privet datamap discover -o`), or confirm "
    "the values are not about people",
)
UNLISTED = Rule(
    "DISCOVERED-UNLISTED-TABLE",
    "error",
    "add the table to the datastore's dataset (the draft written by `privet datamap discover -o` has it)",
)
IDENTITY = Rule(
    "DISCOVERED-IDENTITY-MISMATCH",
    "error",
    "check which column holds the identity: a request looks people up by this one and finds nobody",
)
CATEGORY = Rule(
    "DISCOVERED-CATEGORY-MISMATCH",
    "warning",
    "correct the field's `category:` (what the values hold decides what a request discloses and erases)",
)


def found_category(column: dict) -> str | None:
    """The category the values hold: the classifier's, else the identifier most often mentioned in free text."""
    if column.get("category"):
        return column["category"]
    embedded = {k: v for k, v in (column.get("embedded") or {}).items() if v >= EMBEDDED_MIN}
    return max(embedded, key=embedded.__getitem__) if embedded else None


def annotate(
    tables: list[dict],
    manifest: Manifest,
    taxonomy: Any,
    datastore: str,
    checkable: set[str] | frozenset[str] = frozenset(),
) -> None:
    """Set `listed`/`dataset` on each table and `mapped`, `status` and `conflict` on each column, in place.
    `checkable`: categories a recognizer can confirm (an identity of another category is never judged by value)."""
    mapped = {
        t.name: (d.key, {f.name: f for f in t.fields})
        for d in manifest.datasets
        if d.datastore == datastore
        for t in d.tables
    }
    for table in tables:
        if table.get("kind") != "table":
            continue
        dataset, fields = mapped.get(table["name"], (None, None))
        table["listed"] = dataset is not None
        if dataset:
            table["dataset"] = dataset
        for column in table.get("columns", []):
            field = fields.get(column["name"]) if fields is not None else None
            column.pop("conflict", None)
            column["mapped"] = (
                {k: v for k, v in (("category", field.category), ("identity", field.identity)) if v}
                if field is not None
                else None
            )
            column["status"], conflict = _judge(column, field, fields is not None, taxonomy, checkable)
            if conflict:
                column["conflict"] = conflict


def _judge(
    column: dict, field: Any, listed: bool, taxonomy: Any, checkable: set[str] | frozenset[str]
) -> tuple[str, dict | None]:
    if column.get("skipped"):
        return "skipped", None
    found = found_category(column)
    mapped = field.category if field is not None else None
    if found and not listed:
        return "conflict", _conflict(UNLISTED, f"holds {_what(column, found)} in a table the data map does not list")
    if found and not mapped:
        where = "is mapped as non-personal" if field is not None else "is not listed in its table"
        return "conflict", _conflict(UNMAPPED, f"{where} but holds {_what(column, found)}")
    if field is not None and field.identity:
        expected = _identity_category(taxonomy, field.identity)
        if expected is not None and expected in checkable and not (found and _compatible(taxonomy, found, expected)):
            held = _what(column, found) if found else "nothing recognisable as one"
            return "conflict", _conflict(IDENTITY, f"is the `{field.identity}` identity but holds {held}")
    if found and mapped and not _compatible(taxonomy, found, mapped):
        return "conflict", _conflict(CATEGORY, f"is mapped as `{mapped}` but holds {_what(column, found)}")
    if found:
        return "agree", None
    return ("unconfirmed", None) if mapped else ("non_personal", None)


def _what(column: dict, category: str) -> str:
    if column.get("category") == category:
        return f"`{category}` ({column['share']:.0%} of {column['sampled']} sampled values)"
    keys = [k for k, v in (column.get("json_keys") or {}).items() if v == category]
    inside = f" under JSON keys {', '.join(keys[:3])}" if keys else " inside its text"
    return f"`{category}`{inside} ({column['embedded'][category]:.0%} of {column.get('sampled', 0)} sampled values)"


def _conflict(rule: Rule, message: str) -> dict:
    return {"rule": rule.key, "severity": rule.severity, "message": message}


def _identity_category(taxonomy: Any, identity: str) -> str | None:
    entry = taxonomy.identity_types.get(identity)
    return getattr(entry, "category", None) if entry is not None else None


def _compatible(taxonomy: Any, a: str, b: str) -> bool:
    """The same category, or one within the other (a map saying `user.contact` covers phone numbers)."""
    if a == b:
        return True
    try:
        return taxonomy.is_within(a, b) or taxonomy.is_within(b, a)
    except KeyError:  # a category the taxonomy does not know: only equal keys agree
        return False


_HINTS = {
    UNMAPPED.key: UNMAPPED.hint,
    UNLISTED.key: UNLISTED.hint,
    IDENTITY.key: IDENTITY.hint,
    CATEGORY.key: CATEGORY.hint,
}


def findings(report: dict, manifest: Manifest, taxonomy: Any, checkable: set[str] | frozenset[str]) -> list[Finding]:
    """`privet datamap evaluate --discovered`: each conflict of the report, judged against `manifest`."""
    datastore = report["datastore"]
    tables = [dict(t, columns=[dict(c) for c in t.get("columns", [])]) for t in report["tables"]]
    annotate(tables, manifest, taxonomy, datastore, checkable)
    out: list[Finding] = []
    for table in tables:
        for column in table.get("columns", []):
            conflict = column.get("conflict")
            if not conflict:
                continue
            where = (
                f"datasets.{table['dataset']}.tables.{table['name']}.fields.{column['name']}"
                if table.get("listed")
                else f"datastores.{datastore}.tables.{table['name']}.{column['name']}"
            )
            out.append(
                Finding(
                    conflict["rule"],
                    conflict["severity"],
                    where,
                    f"column `{table['name']}.{column['name']}` {conflict['message']}",
                    _HINTS[conflict["rule"]],
                )
            )
    return out


def recognizers_of(manifest: Manifest) -> list:
    """The data map's custom recognizers, ready to test values (the map was validated, so each one compiles)."""
    from privet.datamap.discover.classify import custom_recognizer

    return [custom_recognizer(r.key, r.category, r.pattern, r.validator) for r in manifest.recognizers]


def checkable(custom: Any = ()) -> set[str]:
    """Categories a value proves (checksummed or unmistakable forms): identities of these are judged by value."""
    from privet.datamap.discover import recognizers

    builtin = getattr(recognizers, "BUILTIN", ())
    return {r.category for r in builtin if getattr(r, "strength", 1.0) >= 1.0} | {r.category for r in custom}
