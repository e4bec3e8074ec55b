"""Retention from the processing activities (P23, P25): which tables an activity's `retention:` governs, where its
trigger's moment is read, and the one rule per table that keeps each row until every activity using it is done.

- An activity's retention `{trigger, duration}` governs each table of the datasets it lists that holds one of its
  categories (required or optional, sub-categories included), unless the table declares its own `retention:`: that
  is the more specific statement and governs the table alone.
- The trigger's moment is the table's `timestamps[trigger]`: a column of the table (`closed_at`), or
  `<reference field>.<column>` to read it from the row that field references in the same datastore
  (`account_id.closed_at`: a saved card lives as long as its account). Without one the retention cannot be
  enforced on the table, and `privet datamap evaluate` says so (RETENTION-NO-TIMESTAMP).
- Several activities on one table: a row is kept until each of them is done with it (one trigger: the longest
  duration; several: every trigger's moment past its own cut-off).
- What expiry does follows the table's erasure action: rows of a table erased by `delete_row` or kept by `retain`
  are deleted; otherwise the activities' fields are anonymised (text becomes `anonymised:<key>`, other values NULL),
  keys, references, the clocks' columns and retained fields staying as they are.
- A table's or field's `retain` erasure with a `legal_reference` is a legal minimum: rows are kept at least that
  long after the trigger whatever the activities say.
Only SQL datastores are swept; a rule on a manual or HTTP datastore is listed as kept by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from privet.datamap.schemas import Dataset, ErasureAction, Manifest, ProcessingActivity, Table
from privet.kit.durations import Duration

_PROBE = datetime(2000, 1, 1)


@dataclass(frozen=True)
class Clock:
    """One trigger of a rule: rows whose moment is older than `duration` are past it."""

    trigger: str
    duration: str  # ISO 8601
    column: str  # the moment's column: of the table, or of the referenced table when `via` is set
    via: tuple[str, str, str] | None = None  # (this table's reference field, referenced table, referenced field)

    def describe(self) -> str:
        where = f"{self.via[0]}→{self.via[1]}.{self.column}" if self.via else self.column
        return f"{self.trigger} ({where}) + {self.duration}"


@dataclass(frozen=True)
class Missing:
    """An activity whose trigger has no moment on a table it governs, and why (for evaluate and the plan)."""

    activity: str
    trigger: str
    reason: str
    duration: str | None = None


@dataclass
class ActivityRule:
    """The rule a table gets from the activities using it."""

    datastore: str
    dataset: str
    table: str
    activities: tuple[str, ...]
    clocks: tuple[Clock, ...]
    action: str  # delete | anonymise
    fields: tuple[str, ...]  # what anonymise changes (empty for delete)
    legal_minimum: str | None = None
    legal_reference: str | None = None
    missing: list[Missing] = field(default_factory=list)

    @property
    def problem(self) -> str | None:
        """Why the rule cannot be enforced as mapped (None when it can)."""
        if not self.missing:
            return None
        return "; ".join(f"activity {m.activity}: {m.reason}" for m in self.missing)


def _within(category: str | None, declared: list[str]) -> bool:
    if not category:
        return False
    return any(category == c or category.startswith(c + ".") for c in declared)


def _resolve(reference: str, dataset: str) -> tuple[str, str, str] | None:
    parts = reference.split(".")
    if len(parts) == 2:
        return dataset, parts[0], parts[1]
    return (parts[0], parts[1], parts[2]) if len(parts) == 3 else None


def moment(manifest: Manifest, dataset: Dataset, table: Table, trigger: str) -> tuple[str, tuple | None] | str:
    """Where `trigger`'s moment is for rows of `table`: (column, via) or the reason there is none."""
    spec = (table.timestamps or {}).get(trigger)
    names = {f.name: f for f in table.fields}
    if not spec:
        return f"table {table.name} declares no `timestamps.{trigger}` column"
    if "." not in spec:
        if spec not in names:
            return f"`timestamps.{trigger}` of table {table.name} names `{spec}`, which is not one of its fields"
        return spec, None
    ref, column = spec.split(".", 1)
    f = names.get(ref)
    if f is None or not f.references:
        return (
            f"`timestamps.{trigger}` of table {table.name} reads `{column}` through `{ref}`, which is not a "
            "reference field of the table"
        )
    target = _resolve(f.references, dataset.key)
    home = {d.key: d for d in manifest.datasets}
    parent_set = home.get(target[0]) if target else None
    if target is None or parent_set is None or parent_set.datastore != dataset.datastore:
        return (
            f"`timestamps.{trigger}` of table {table.name} reads through `{ref}`, whose reference leads out of "
            f"datastore {dataset.datastore} (a sweep cannot join two databases)"
        )
    parent = next((t for t in parent_set.tables if t.name == target[1]), None)
    if parent is None or column not in {p.name for p in parent.fields}:
        return f"`timestamps.{trigger}` of table {table.name} names `{column}`, not a field of table {target[1]}"
    return column, (ref, target[1], target[2])


def _longer(a: str, b: str) -> str:
    return a if Duration.parse(a).before(_PROBE) <= Duration.parse(b).before(_PROBE) else b


def _legal(table: Table) -> tuple[str | None, str | None]:
    """The longest retention the law requires for the table's rows (retain with a legal reference)."""
    found = [
        (e.duration, e.legal_reference)
        for e in [table.erasure, *(f.erasure for f in table.fields)]
        if e and e.action == ErasureAction.retain and e.duration and e.legal_reference
    ]
    if not found:
        return None, None
    longest = found[0]
    for duration, reference in found[1:]:
        if _longer(duration, longest[0]) == duration and duration != longest[0]:
            longest = (duration, reference)
    return longest


def _users(manifest: Manifest) -> dict[str, list[ProcessingActivity]]:
    out: dict[str, list[ProcessingActivity]] = {}
    for act in manifest.processing_activities:
        if act.retention is None:
            continue
        for key in act.datasets:
            out.setdefault(key, []).append(act)
    return out


def activity_rules(manifest: Manifest) -> list[ActivityRule]:
    """One rule per table that activities' retention governs (tables with their own `retention:` excluded), in
    dataset and table order; each says which activity cannot be enforced there and why."""
    users = _users(manifest)
    out = []
    for dataset in manifest.datasets:
        for table in dataset.tables:
            if table.retention:
                continue
            rule = _table_rule(manifest, dataset, table, users.get(dataset.key, []))
            if rule is not None:
                out.append(rule)
    return out


def _table_rule(
    manifest: Manifest, dataset: Dataset, table: Table, acts: list[ProcessingActivity]
) -> ActivityRule | None:
    declared = {a.key: [*a.required_categories, *a.optional_categories] for a in acts}
    governing = [a for a in acts if any(_within(f.category, declared[a.key]) for f in table.fields)]
    if not governing:
        return None
    clocks: dict[tuple[str, tuple | None], Clock] = {}
    missing: list[Missing] = []
    for act in governing:
        retention = act.retention
        assert retention is not None  # _users keeps the activities that declare a retention
        trigger = retention.trigger
        if not retention.duration:
            missing.append(Missing(act.key, trigger, f"its retention ({trigger}) declares no `duration`"))
            continue
        found = moment(manifest, dataset, table, trigger)
        if isinstance(found, str):
            missing.append(Missing(act.key, trigger, found, retention.duration))
            continue
        column, via = found
        earlier = clocks.get((column, via))
        if earlier is None or _longer(retention.duration, earlier.duration) != earlier.duration:
            clocks[(column, via)] = Clock(trigger, retention.duration, column, via)
    deletes = table.erasure is not None and table.erasure.action in (ErasureAction.delete_row, ErasureAction.retain)
    keep = {c.column for c in clocks.values() if c.via is None} | {c.via[0] for c in clocks.values() if c.via}
    fields = (
        ()
        if deletes
        else tuple(
            f.name
            for f in table.fields
            if f.category
            and any(_within(f.category, declared[a.key]) for a in governing)
            and f.name not in table.primary_key
            and not f.references
            and f.name not in keep
            and not (f.erasure and f.erasure.action == ErasureAction.retain)
        )
    )
    if not deletes and not fields:
        return None  # only keys, references and clocks: nothing an expiry would change
    legal_minimum, legal_reference = _legal(table)
    return ActivityRule(
        datastore=dataset.datastore,
        dataset=dataset.key,
        table=table.name,
        activities=tuple(a.key for a in governing),
        clocks=tuple(clocks.values()),
        action="delete" if deletes else "anonymise",
        fields=fields,
        legal_minimum=legal_minimum,
        legal_reference=legal_reference,
        missing=missing,
    )
