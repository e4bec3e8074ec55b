"""Anonymised or pseudonymised exports of one table for analytics (P34), with the method recorded.

The data map says which columns are personal (a category) and which identify people (an identity type):
- `pseudonymise`: identifying and other personal text columns become keyed tokens (HMAC-SHA256 under a key
  made for this export only, so the same person has the same token inside the export and a different one in
  the next: analytics can count people without being able to join exports); dates and numbers stay.
- `anonymise`: identifying columns are dropped; personal dates and timestamps are generalised to the month;
  other personal columns are dropped; only non-personal columns stay as they are.
The audit event records the table, the method, what happened to each column and the row count, never values.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import secrets
from collections.abc import Iterator, Set
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from sqlalchemy import Column, Connection, MetaData, Table, select
from sqlalchemy.orm import Session

from privet.audit.service import record as audit
from privet.connectors.sql.schema import reflect_table
from privet.kit.csvsafe import safe_text
from privet.kit.errors import InvalidInput
from privet.kit.ids import new_id
from privet.settings import Settings

if TYPE_CHECKING:
    from privet.datamap.models import DatamapDatastore

METHODS = ("pseudonymise", "anonymise")
BATCH = 5_000


def _columns(
    session: Session, datastore: str, table: str
) -> tuple[DatamapDatastore, dict[str, tuple[str | None, str | None]]]:
    """(datastore row, column → (category, identity type)) from the applied data map."""
    from privet.datamap.models import DatamapDataset, DatamapDatastore, DatamapTable

    store = session.execute(select(DatamapDatastore).where(DatamapDatastore.key == datastore)).scalar_one_or_none()
    if store is None:
        raise InvalidInput(f"No datastore {datastore!r} in the data map", "see `privet datamap export`")
    found = session.execute(
        select(DatamapTable)
        .join(DatamapDataset, DatamapTable.dataset_id == DatamapDataset.id)
        .where(DatamapDataset.datastore_key == datastore, DatamapTable.name == table)
    ).scalar()
    if found is None:
        raise InvalidInput(
            f"Datastore {datastore} has no table {table!r} in the data map",
            "name a table declared in one of its datasets",
        )
    return store, {f.name: (f.category, f.identity) for f in found.fields}


def plan_columns(
    declared: dict[str, tuple[str | None, str | None]], names: list[str], method: str, temporal: Set[str] = frozenset()
) -> dict[str, str]:
    """What happens to each column: keep, token, month (personal dates) or drop."""
    out = {}
    for name in names:
        category, identity = declared.get(name, (None, None))
        if category is None and identity is None:
            out[name] = "keep"
        elif method == "pseudonymise":
            out[name] = "token"
        elif identity is not None:
            out[name] = "drop"
        else:
            out[name] = "month" if name in temporal else "drop"
    return out


def _is_temporal(column: Column[Any]) -> bool:
    try:
        return issubclass(column.type.python_type, (date, datetime))
    except NotImplementedError:
        return False


def _token(key: bytes, value: object) -> str:
    return hmac.new(key, str(value).encode(), hashlib.sha256).hexdigest()[:20]


def _transform(action: str, value: object, key: bytes) -> object:
    if value is None or action == "keep":
        return value
    if action == "token":
        return value if isinstance(value, (date, datetime, int, float)) else _token(key, value)
    if action == "month":
        return value.strftime("%Y-%m") if isinstance(value, (date, datetime)) else None
    return None


def export(
    session: Session, settings: Settings, *, datastore: str, table: str, method: str, out: TextIO, actor: str
) -> dict:
    """Write the transformed table as CSV to `out`; returns (and audits) what was done."""
    from privet.connectors.sql.engines import engine_for
    from privet.datamap.secrets import resolve_secret

    if method not in METHODS:
        raise InvalidInput(f"Unknown export method {method!r}", "use pseudonymise or anonymise")
    store, declared = _columns(session, datastore, table)
    if not store.secret:
        raise InvalidInput(
            f"Datastore {datastore} is not a SQL datastore with a connection secret", "export from a SQL datastore"
        )
    engine = engine_for(resolve_secret(settings, store.secret))
    with engine.connect() as conn:
        reflected = reflect_table(conn, MetaData(), table)
        names = [c.name for c in reflected.columns]
        temporal = {c.name for c in reflected.columns if _is_temporal(c)}
        actions = plan_columns(declared, names, method, temporal)
        kept = [n for n in names if actions[n] != "drop"]
        key = secrets.token_bytes(32)  # this export's own: tokens cannot be joined across exports
        writer = csv.writer(out)
        writer.writerow(kept)
        rows = 0
        for batch in _batches(conn, reflected, kept):
            for row in batch:
                writer.writerow([_csv_cell(_transform(actions[n], v, key)) for n, v in zip(kept, row, strict=True)])
            rows += len(batch)
    export_id = new_id()
    summary = {"datastore": datastore, "table": table, "method": method, "rows": rows, "columns": actions}
    audit(session, actor=actor, action="retention.exported", object_type="export", object_id=export_id, details=summary)
    return {"id": export_id, **summary}


def _batches(conn: Connection, table: Table, names: list[str]) -> Iterator[list[tuple]]:
    result = conn.execution_options(stream_results=True).execute(select(*[table.c[n] for n in names]))
    while batch := result.fetchmany(BATCH):
        yield [tuple(r) for r in batch]


def export_to_file(
    session: Session, settings: Settings, path: Path, *, datastore: str, table: str, method: str, actor: str
) -> dict:
    """`export` into a new file (refuses to overwrite one)."""
    if path.exists():
        raise InvalidInput(f"{path.name} already exists", "choose a new file name")
    with path.open("w", newline="", encoding="utf-8") as handle:
        return export(session, settings, datastore=datastore, table=table, method=method, out=handle, actor=actor)


def _csv_cell(value: object) -> object:
    """Text a spreadsheet would run as a formula is neutralised; other values go as they are."""
    return safe_text(value) if isinstance(value, str) else value
