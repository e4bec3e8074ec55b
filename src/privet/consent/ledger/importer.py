"""Bulk import of consent records from another consent tool (CSV or JSON lines), fast and all-or-nothing.

Rows are read in chunks of 10,000: each row is checked (`import_rows.Checker`), each chunk's identities are
resolved to subjects with one blind-index query (subjects are created for unknown identities), and its records
are written with COPY (PostgreSQL) or one executemany (SQLite).
Any bad row stops the writing but not the checking, so every bad line is reported; the caller's transaction
then rolls back and nothing is imported (unless `skip_invalid`). The projection is merged for the imported seq
range in bulk and ONE audit event records the counts. Webhooks are not sent for imported history.
"""

from __future__ import annotations

import contextlib
import csv
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from sqlalchemy.orm import Session

from privet.audit.service import record as audit
from privet.consent.ledger import projection
from privet.consent.ledger.bulk_insert import insert_tuples
from privet.consent.ledger.import_rows import COLUMNS, REQUIRED, Checker, new_ids, resolve, subject_problems
from privet.consent.ledger.rules import current_policy
from privet.consent.models import ConsentRecord
from privet.kit.clock import utcnow
from privet.kit.crypto import Keyring
from privet.kit.errors import InvalidInput, PrivetError, Problem
from privet.kit.ids import new_id

CHUNK = 10_000
IMPORT_CACHE_KB = 131_072  # SQLite page cache while importing (128 MB; the default is 2 MB)
OPTIONAL = ("method", "categories", "notice_version", "notice_key", "jurisdiction", "language", "expires_at")
FORMATS = ("csv", "jsonl")
MAX_REPORTED = 50


@dataclass
class ImportReport:
    """What an import did: rows read, imported and skipped, subjects created, the bad lines (first 50)."""

    rows: int = 0
    imported: int = 0
    skipped: int = 0
    subjects_created: int = 0
    problems: list[Problem] = field(default_factory=list)


def detect_format(path: Path, fmt: str | None) -> str:
    """csv or jsonl, from the option or the file name."""
    fmt = (fmt or ("jsonl" if path.suffix.lower() in (".jsonl", ".ndjson", ".json") else "csv")).lower()
    if fmt not in FORMATS:
        raise InvalidInput(f"Unknown import format {fmt!r}", "use --format csv or --format jsonl")
    return fmt


@contextlib.contextmanager
def _big_cache(session: Session) -> Iterator[None]:
    """SQLite: a bigger page cache for this connection while importing (the ledger's indexes take inserts all
    over their range, and re-reading evicted pages dominated the write), then the previous size again."""
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        yield
        return
    before = connection.exec_driver_sql("PRAGMA cache_size").scalar()
    assert before is not None  # SQLite always answers this pragma
    connection.exec_driver_sql(f"PRAGMA cache_size = {-IMPORT_CACHE_KB}")
    try:
        yield
    finally:
        connection.exec_driver_sql(f"PRAGMA cache_size = {int(before)}")


def _opened(path: Path) -> TextIO:
    return path.open("r", encoding="utf-8-sig", newline="")


def _rows(handle: TextIO, path: Path, fmt: str) -> Iterator[tuple[int, dict | str | None]]:
    """(line number, row) pairs; a row is None when the line cannot be parsed, text saying why when its shape is
    wrong."""
    if fmt == "jsonl":
        loads = json.loads
        for number, line in enumerate(handle, 1):
            if line.strip():
                try:
                    row = loads(line)
                except ValueError:
                    row = None
                yield number, row if isinstance(row, dict) else None
        return
    reader = csv.reader(handle)  # a dict per row from zip(): DictReader's bookkeeping costs more than the rest
    header = next(reader, [])
    columns = set(header)
    missing, extra = set(REQUIRED) - columns, columns - set(REQUIRED) - set(OPTIONAL)
    if missing or extra:
        raise InvalidInput(
            "The CSV header does not fit",
            "columns: " + ", ".join(REQUIRED) + " and optionally " + ", ".join(OPTIONAL),
            [Problem(f"missing column {c}", f"{path.name}:1") for c in sorted(missing)]
            + [Problem(f"unknown column {c}", f"{path.name}:1") for c in sorted(extra)],
        )
    width = len(header)
    for values in reader:
        if not values:
            continue  # a blank line
        if len(values) != width:  # a cell too many or too few: the line's values would land in the wrong columns
            yield reader.line_num, f"{len(values)} cells where the header has {width}"
            continue
        yield reader.line_num, dict(zip(header, values))


def import_records(
    session: Session,
    keyring: Keyring,
    path: Path,
    *,
    fmt: str | None = None,
    method: str = "import",
    skip_invalid: bool = False,
    actor: str,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import a CSV or JSON-lines file of consent records; InvalidInput naming bad lines (nothing kept)."""
    path = Path(path)
    if not path.is_file():
        raise InvalidInput(f"No file {path.name!r}", "give the path of a CSV or JSON-lines export")
    fmt = detect_format(path, fmt)
    session.flush()  # rows written below bypass the ORM: pending objects (subjects) must be in the store first
    policy = current_policy(session)
    checker = Checker(session, keyring, policy, method, now=utcnow(), actor=actor)
    report, before = ImportReport(), projection.max_seq(session)
    chunk: list[tuple[int, str, tuple, tuple]] = []  # (line, blind index, (at, notice key, version), shared tail)
    wanted: dict[str, tuple[str, str]] = {}

    def bad(line: int, message: str) -> None:
        report.skipped += 1
        if len(report.problems) < MAX_REPORTED:
            report.problems.append(Problem(message, f"{path.name}:{line}"))

    def flush() -> None:
        # once a row is bad (without skip_invalid) nothing more is written; checking goes on to report every line
        writing = skip_invalid or not report.skipped
        ids, existing, created = resolve(session, keyring, wanted, create=writing)
        refused = subject_problems(session, chunk, ids, existing)
        for line, message in refused.items():
            bad(line, message)
        if writing and len(refused) < len(chunk):
            kept = [entry for entry in chunk if entry[0] not in refused] if refused else chunk
            rows = [
                (record_id, ids[blind], *head, *tail)
                for record_id, (_line, blind, head, tail) in zip(new_ids(len(kept)), kept)
            ]
            insert_tuples(session, ConsentRecord.__table__, COLUMNS, rows)
            report.imported += len(rows)
            report.subjects_created += created
        if progress is not None:
            progress(report.rows)
        chunk.clear()
        wanted.clear()

    check = checker.check
    with _big_cache(session):
        with _opened(path) as handle:
            for line, raw in _rows(handle, path, fmt):
                report.rows += 1
                if raw is None or isinstance(raw, str):
                    bad(line, raw or "not a JSON object")
                    continue
                try:
                    kind, value, blind, head, tail = check(raw)
                except PrivetError as exc:
                    bad(line, "; ".join(p.message for p in exc.problems) or exc.detail)
                    continue
                wanted[blind] = (kind, value)
                chunk.append((line, blind, head, tail))
                if len(chunk) >= CHUNK:
                    flush()
        if chunk:
            flush()
        if report.skipped and not skip_invalid:
            raise InvalidInput(
                f"{report.skipped} of {report.rows} rows are invalid; nothing was imported",
                "fix these lines, or pass --skip-invalid to import the valid rows",
                report.problems,
            )
        if report.imported:
            projection.merge_range(session, before, projection.max_seq(session))
    audit(
        session,
        actor=actor,
        action="consent.imported",
        object_type="consent_import",
        object_id=new_id(),
        details={
            "format": fmt,
            "rows": report.rows,
            "imported": report.imported,
            "skipped": report.skipped,
            "subjects_created": report.subjects_created,
            "method": method,
        },
    )
    return report
