"""What a fetch hands to the access package: the person's rows without undisclosed values, the reference data they
point at, and the other people's rows they point at, named by table and key only."""

from __future__ import annotations

from privet.connectors.base import StepResult
from privet.connectors.sql.schema import Layout
from privet.connectors.sql.values import jsonable
from privet.connectors.sql.walk import Found


def fetched(layout: Layout, found: Found) -> StepResult:
    """The fetch's result: counts per table (`found`, `reference`, `linked`), rows, links and withheld fields."""
    result = StepResult()
    for name, tl in layout.tables.items():
        owned, reference = found.owned_rows(name), found.reference_rows(name)
        hidden = [f for f in tl.spec.fields if not f.disclose and f.name in tl.table.c]
        columns = [c for c in dict.fromkeys([*tl.key, *tl.declared]) if c not in {f.name for f in hidden}]
        counts = {"found": len(owned)}
        if owned:
            result.rows[name] = [{c: jsonable(row.get(c)) for c in columns} for row in owned.values()]
            for f in hidden:  # listed as held, never with a value
                rows = sum(1 for row in owned.values() if row.get(f.name) is not None)
                if rows:
                    result.withheld.append({"table": name, "field": f.name, "category": f.category, "rows": rows})
        if reference:
            counts["reference"] = len(reference)
            result.reference[name] = [{c: jsonable(row.get(c)) for c in columns} for row in reference.values()]
        result.counts[name] = counts
    for edge, values in sorted(found.links.items(), key=lambda item: repr(item[0])):
        keys = sorted(([jsonable(v) for v in value] for value in values), key=repr)
        result.links.append(
            {
                "table": edge.child,
                "columns": list(edge.child_columns),
                "to": edge.parent,
                "to_columns": list(edge.parent_columns),
                "keys": keys,
            }
        )
        counts = result.counts.setdefault(edge.child, {"found": 0})
        counts["linked"] = counts.get("linked", 0) + len(keys)
    return result
