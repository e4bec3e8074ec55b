"""The discovery report (JSON): per table and column the category found, the share of sampled values that matched,
a confidence and the number sampled, or why it was skipped. Never a value.

A JSON column's keys are named only when they look like identifiers (`profile.email`): a key that is itself a
value (an object keyed by e-mail addresses or phone numbers) is counted, not named. The scan keeps its progress in
`<report>.partial` (written after each table, atomically), so a killed scan continues where it stopped.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from privet.kit.errors import InvalidInput

FORMAT = "privet.discover/1"
_KEY_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}(\.[A-Za-z_][A-Za-z0-9_]{0,63}|\[\])*$")


def column_entry(
    name: str, sql_type: str, verdict: Any = None, *, skipped: str | None = None, invalid_json: int = 0
) -> dict:
    """One column of the report from the classifier's verdict (or the reason it was skipped)."""
    entry: dict = {"name": name, "sql_type": sql_type}
    if verdict is not None and not (skipped or verdict.skipped):
        entry |= {
            "category": verdict.category,
            "share": round(float(verdict.share), 4),
            "confidence": round(float(verdict.confidence), 4),
            "sampled": int(verdict.sampled),
        }
        if verdict.embedded:
            entry["embedded"] = {str(k): round(float(v), 4) for k, v in sorted(verdict.embedded.items())}
        keys = {str(k): str(v) for k, v in (verdict.json_keys or {}).items()}
        named = {k: v for k, v in sorted(keys.items()) if _KEY_PATH.match(k)}
        if named:
            entry["json_keys"] = named
        if len(named) < len(keys):
            entry["json_keys_unnamed"] = len(keys) - len(named)  # keys that may be values themselves
    else:
        entry["skipped"] = skipped or verdict.skipped
        if verdict is not None:
            entry["sampled"] = int(verdict.sampled)
    if invalid_json:
        entry["invalid_json"] = invalid_json
        entry["note"] = f"{invalid_json} sampled documents are not valid JSON and were left out"
    return entry


def table_entry(
    name: str,
    columns: list[dict] | None = None,
    *,
    rows: int = 0,
    method: str = "",
    skipped: str | None = None,
    kind: str = "table",
) -> dict:
    """One table (or view) of the report."""
    if skipped:
        return {"name": name, "kind": kind, "skipped": skipped}
    return {"name": name, "kind": kind, "rows_sampled": rows, "method": method, "columns": columns or []}


def summary(tables: list[dict]) -> dict:
    """Counts over the report: tables, columns, personal columns, conflicts and skipped items."""
    columns = [c for t in tables for c in t.get("columns", [])]
    return {
        "tables": sum(t["kind"] == "table" for t in tables),
        "tables_skipped": sum("skipped" in t for t in tables),
        "columns": len(columns),
        "personal": sum(bool(c.get("category") or c.get("embedded")) for c in columns),
        "columns_skipped": sum("skipped" in c for c in columns),
        "conflicts": sum(c.get("status") == "conflict" for c in columns),
    }


def write_json(path: Path, document: dict) -> None:
    """Write atomically (a kill leaves the old file or the new one, never half of one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(path.name + ".tmp")
    part.write_text(json.dumps(document, ensure_ascii=False, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    os.replace(part, path)


def read_report(path: Path) -> dict:
    """A report written by `privet datamap discover`, or a clear error saying what is wrong with the file."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidInput(
            f"No discovery report at {path}", "run `privet datamap discover --datastore KEY --report FILE` first"
        ) from None
    except (OSError, ValueError):
        raise InvalidInput(
            f"{path} is not a discovery report (not readable JSON)",
            "give the --report file written by `privet datamap discover`",
        ) from None
    if (
        not isinstance(document, dict)
        or document.get("format") != FORMAT
        or not isinstance(document.get("tables"), list)
        or not isinstance(document.get("datastore"), str)
    ):
        raise InvalidInput(
            f"{path} is not a discovery report (format {FORMAT} expected)",
            "give the --report file written by `privet datamap discover`",
        )
    return document


class ScanProgress:
    """Tables already scanned with these parameters, kept beside the report until the scan finishes."""

    def __init__(self, report: Path, params: dict) -> None:
        self.path = report.with_name(report.name + ".partial")
        self.params = params
        self.done: dict[str, dict] = {}

    def load(self) -> dict[str, dict]:
        """Tables a previous, interrupted scan with the same parameters finished (empty otherwise)."""
        try:
            saved = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if isinstance(saved, dict) and saved.get("params") == self.params and isinstance(saved.get("tables"), dict):
            self.done = saved["tables"]
        return self.done

    def save(self, entry: dict) -> None:
        """Record one finished table."""
        self.done[entry["name"]] = entry
        write_json(self.path, {"params": self.params, "tables": self.done})

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)
