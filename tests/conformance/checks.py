"""The checks, as functions of what was read: each returns the list of what is wrong (empty: the property holds).

Rows are compared by row key (`schemas.key`): the truth's hand-written SQL, the snapshots and the package's rows
all give keys as tuples of text.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from types import ModuleType

from tests.conformance.runtime import Answer
from tests.conformance.schemas import REFERENCED, SHARED, key
from tests.conformance.snapshot import Change, Snapshot

PROPERTIES = (
    "found",
    "complete",
    "only_theirs",
    "links_truthful",
    "erased",
    "honest_counts",
    "others_untouched",
    "kill_resume",
)
MIN_VALUE = 4  # shorter values (a state code, "Ms") say nothing about whose data it is
MIN_DIGITS = 7  # numbers shorter than a phone number are row ids, counts and years as often as anyone's data


def fold(value: object) -> str:
    return str(value).strip().casefold()


def package_keys(answer: Answer, datastore: str, ids: dict[str, tuple[str, ...]]) -> dict[str, set[tuple]]:
    """{table: row keys} of the person's rows in the package (`data`; reference rows and links excluded)."""
    out: dict[str, set[tuple]] = {}
    for name, rows in (answer.document.get("data", {}).get(datastore) or {}).items():
        columns = ids.get(name)
        if columns is None:
            out[name] = {("?", *tuple(sorted(r.items()))) for r in rows}  # a table the schema does not know
            continue
        out[name] = {key(*(r.get(c) for c in columns)) for r in rows}
    return out


def texts(answer: Answer) -> set[str]:
    """Every text value the package hands out (data.json and the CSV files), folded."""
    out: set[str] = set()

    def walk(value: object) -> None:
        if isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)
        elif value is not None:
            out.add(fold(value))

    walk(answer.document)
    for name, data in answer.files.items():
        if name.endswith(".csv"):
            for row in csv.reader(io.StringIO(data.decode("utf-8-sig"))):
                out.update(fold(cell.lstrip("'")) for cell in row)
    return out


def raw(answer: Answer) -> str:
    """The package's files as one text (for secrets, which must not appear anywhere in it)."""
    return "\n".join(data.decode("utf-8", "replace") for data in answer.files.values()).casefold()


def personal_values(
    snap: Snapshot,
    schema: ModuleType,
    rows: dict[str, set[tuple]] | None,
    *,
    exclude: dict[str, set[tuple]] | None = None,
) -> dict[str, str]:
    """{folded value: where} of the text values in personal columns of `rows` (None: every row), leaving out
    rows in `exclude`."""
    out: dict[str, str] = {}
    for name, columns in schema.PERSONAL.items():
        for row_key, (_digest, values) in snap.rows.get(name, {}).items():
            if rows is not None and row_key not in rows.get(name, set()):
                continue
            if exclude is not None and row_key in exclude.get(name, set()):
                continue
            for c in columns:
                value = values.get(c)
                text = str(value).strip() if value is not None else ""
                if len(text) >= (MIN_DIGITS if text.isdigit() else MIN_VALUE):
                    out.setdefault(fold(value), f"{name}.{c} of row {row_key}")
    return out


def secrets(snap: Snapshot, schema: ModuleType) -> dict[str, str]:
    """{folded value: where} of every credential in the database (anybody's, the person's own included)."""
    out = {}
    for name, columns in getattr(schema, "CREDENTIALS", {}).items():
        for row_key, (_digest, values) in snap.rows.get(name, {}).items():
            for c in columns:
                if values.get(c):
                    out[fold(values[c])] = f"{name}.{c} of row {row_key}"
    return out


def found(answer: Answer, truth: dict[str, set[tuple]], got: dict[str, set[tuple]], how: str) -> list[str]:
    if answer.status != "completed":
        return [f"access by {how} ended {answer.status} {answer.errors}"]
    if not any(truth.get(t, set()) & keys for t, keys in got.items()):
        return [f"access by {how} found none of their rows (package tables: {sorted(got)})"]
    return []


def complete(truth: dict[str, set[tuple]], got: dict[str, set[tuple]]) -> list[str]:
    out = []
    for name, wanted in sorted(truth.items()):
        missing = wanted - got.get(name, set())
        if missing:
            out.append(f"{name}: {len(missing)} of {len(wanted)} rows missing, e.g. {sorted(missing)[:3]}")
    return out


def only_theirs(answer: Answer, others: dict[str, str], credentials: dict[str, str], how: str) -> list[str]:
    out = []
    shown = texts(answer)
    leaked = sorted({others[v] for v in shown & set(others)})
    if leaked:
        out.append(
            f"package by {how} holds other people's values: {', '.join(leaked[:6])}{' …' if len(leaked) > 6 else ''}"
        )
    blob = raw(answer)
    disclosed = sorted({where for value, where in credentials.items() if value and value in blob})
    if disclosed:
        out.append(f"package by {how} discloses credentials: {', '.join(disclosed[:6])}")
    return out


def links_truthful(answer: Answer, datastore: str, snap: Snapshot, truth: dict[str, set[tuple]]) -> list[str]:
    """The package's links ("records of other people or shared records") name none of the person's own rows."""
    out = []
    for link in answer.document.get("links") or []:
        if link.get("datastore") != datastore:
            continue
        target, columns = link["to"], link["to_columns"]
        own = {
            tuple(values.get(c) for c in columns)
            for k, (_d, values) in snap.rows.get(target, {}).items()
            if k in truth.get(target, set())
        }
        named = {key(*k) for k in link.get("keys") or []}
        mine = sorted(named & own)
        if mine:
            out.append(
                f"the package names their own {target} row(s) {mine[:3]} as another person's or shared "
                f"(link {link['table']}.{','.join(link['columns'])} → {target})"
            )
    return out


def still_personal(schema: ModuleType, before: Snapshot, after: Snapshot, name: str, row_key: tuple) -> list[str]:
    """The personal columns of a row that still hold the value they held before the erasure (of a row that was not
    there before: every personal column holding a value)."""
    old, new = before.row(name, row_key), after.row(name, row_key)
    if new is None:
        return []
    if old is None:  # a row that appeared during the erasure (a trigger's copy): any personal value is left over
        return [c for c in schema.PERSONAL.get(name, ()) if new.get(c) is not None]
    return [c for c in schema.PERSONAL.get(name, ()) if new.get(c) is not None and new.get(c) == old.get(c)]


def erased(
    schema: ModuleType,
    answer: Answer,
    before: Snapshot,
    after: Snapshot,
    truth_before: dict,
    truth_after: dict,
    kept: dict[str, dict[tuple, str]],
    again: Answer,
    again_keys: dict[str, set[tuple]],
) -> list[str]:
    out = []
    if answer.status != "completed":
        said = [f"{x.get('table')} ({x.get('reason')})" for x in answer.result.get("exceptions") or []]
        errors = f" {answer.errors}" if answer.errors else ""
        out.append(f"erasure ended {answer.status}{': ' + ', '.join(said) if said else ''}{errors}")
    reported = {r.get("table") for r in answer.result.get("retained", [])}
    for name in sorted(set(truth_before) | set(truth_after)):
        for row_key in sorted(truth_before.get(name, set()) | truth_after.get(name, set())):
            left = still_personal(schema, before, after, name, row_key)
            if left and kept.get(name, {}).get(row_key) in (None, REFERENCED):
                out.append(f"{name} {row_key} still holds {', '.join(left)}")
    for name, rows in sorted(kept.items()):
        for row_key, why in sorted(rows.items()):
            if after.digest(name, row_key) is None:
                out.append(f"{name} {row_key} should be kept ({why}) but is gone")
            elif why == SHARED and after.digest(name, row_key) != before.digest(name, row_key):
                out.append(f"{name} {row_key} is shared with others but was changed")
        holding = [k for k in rows if still_personal(schema, before, after, name, k)]
        if holding and name not in reported:
            out.append(f"{name}: {len(holding)} rows kept with personal data, but the result gives no reason")
    if again.status != "completed":
        out.append(f"access after erasure ended {again.status}")
    for name, got in sorted(again_keys.items()):
        extra = got - set(kept.get(name, {}))
        if extra:
            out.append(f"access after erasure still finds {name} {sorted(extra)[:3]}")
    return out


def honest_counts(answer: Answer, datastore: str, changes: dict[str, Change]) -> list[str]:
    out = []
    counts = (answer.result.get("tables") or {}).get(datastore) or {}
    for name in sorted(set(counts) | set(changes)):
        c, real = counts.get(name, {}), changes.get(name) or Change(set(), set(), set())
        said = (int(c.get("deleted", 0) or 0), int(c.get("updated", 0) or 0))
        done = (len(real.deleted), len(real.updated))
        if said != done:
            out.append(f"{name}: result says deleted/updated {said[0]}/{said[1]}, rows changed {done[0]}/{done[1]}")
        if real.inserted:
            out.append(f"{name}: {len(real.inserted)} rows appeared")
    message = answer.message("completed")
    if message is None:
        out.append("no completion message was sent")
        return out
    values = message.get("values") or {}
    # the person reads the counts under names (several tables can share one); in all they are the rows changed
    worded = values.get("changes") or {}
    told = [sum(int(done.get(kind, 0)) for done in worded.values()) for kind in ("deleted", "updated")]
    real_total = [sum(len(getattr(c, kind)) for c in changes.values()) for kind in ("deleted", "updated")]
    if told != real_total:
        out.append(
            f"the message tells deleted/updated {told[0]}/{told[1]} in all; rows changed "
            f"{real_total[0]}/{real_total[1]}"
        )
    shown = values.get("changes_by_table", worded)
    for label, done in sorted(shown.items()):
        name = label.partition(".")[2]
        real = changes.get(name)
        said = (int(done.get("deleted", 0)), int(done.get("updated", 0)))
        if real is None or not real:
            out.append(f"the message counts {label} {done}, which did not change")
        elif said != (len(real.deleted), len(real.updated)):
            out.append(f"the message says {label} {done}; rows changed {len(real.deleted)}/{len(real.updated)}")
    for name, real in sorted(changes.items()):
        if real and f"{datastore}.{name}" not in shown:
            out.append(f"the message leaves out {name}, which changed")
    return out


def others_untouched(before: Snapshot, after: Snapshot, truth_before: dict[str, set[tuple]]) -> list[str]:
    out = []
    for name, rows in sorted(before.rows.items()):
        theirs = truth_before.get(name, set())
        touched = sorted(k for k, (digest, _v) in rows.items() if k not in theirs and after.digest(name, k) != digest)
        if touched:
            out.append(f"{name}: {len(touched)} rows that are not theirs changed or went, e.g. {touched[:3]}")
    return out


def merge(found_lists: Iterable[list[str]]) -> list[str]:
    return [x for items in found_lists for x in items]


def dump(value: object) -> str:
    return json.dumps(value, default=str, ensure_ascii=False)
