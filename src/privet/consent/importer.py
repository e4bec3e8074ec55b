"""Bulk import of consent records from another consent tool (CSV or JSON lines), fast and all-or-nothing.

Rows are read in chunks of 5,000: each chunk is checked, its identities are resolved to subjects with one
blind-index query (subjects are created for unknown identities), and its records are written with COPY
(PostgreSQL) or one executemany (SQLite).
Any bad row stops the writing but not the checking, so every bad line is reported; the caller's transaction
then rolls back and nothing is imported (unless `skip_invalid`). The projection is merged for the imported seq
range in bulk and ONE audit event records the counts. Webhooks are not sent for imported history.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace

from sqlalchemy import select
from sqlalchemy.orm import Session

from privet.audit.service import record as audit
from privet.consent import projection
from privet.consent.bulk import bulk_insert
from privet.consent.ledger import DEFAULT_NOTICE, prepare
from privet.consent.models import ConsentRecord
from privet.consent.rules import POSITIVE_EVENTS, Policy, current_policy
from privet.kit.clock import utcnow
from privet.kit.crypto import Keyring
from privet.kit.errors import InvalidInput, PrivetError, Problem
from privet.kit.ids import new_id

CHUNK = 5_000
REQUIRED = ("identity_type", "identity", "purpose", "event", "at")
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


def _rows(path: Path, fmt: str) -> Iterator[tuple[int, dict | None]]:
    """(line number, row) pairs; a row is None when the line cannot be parsed."""
    with path.open("r", encoding="utf-8-sig", newline="") as handle:
        if fmt == "jsonl":
            for number, line in enumerate(handle, 1):
                if line.strip():
                    try:
                        row = json.loads(line)
                    except ValueError:
                        row = None
                    yield number, row if isinstance(row, dict) else None
            return
        reader = csv.DictReader(handle)
        columns = set(reader.fieldnames or [])
        missing, extra = set(REQUIRED) - columns, columns - set(REQUIRED) - set(OPTIONAL)
        if missing or extra:
            raise InvalidInput("The CSV header does not fit", "columns: " + ", ".join(REQUIRED) + " and optionally "
                               + ", ".join(OPTIONAL), [Problem(f"missing column {c}", f"{path.name}:1")
                                                       for c in sorted(missing)]
                               + [Problem(f"unknown column {c}", f"{path.name}:1") for c in sorted(extra)])
        for row in reader:
            yield reader.line_num, row


def _time(value: object, name: str) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        return datetime.fromisoformat(str(value).strip())
    except ValueError:
        raise InvalidInput(f"{name} is not an ISO 8601 time", "e.g. 2024-05-01T08:00:00Z") from None


class _Checker:
    """Per-row checks; results for the same (purpose, event, categories) are computed once."""

    def __init__(self, session: Session, keyring: Keyring, policy: Policy, method: str) -> None:
        from privet.subjects.service import identity_rules

        self.keyring, self.policy, self.method, self.now = keyring, policy, method, utcnow()
        self.known_types, self.region = identity_rules(session)
        self._basis: dict[tuple, dict] = {}
        self._identities: dict[tuple[str, str], tuple[str, str]] = {}  # (type, raw) -> (normalised, blind index)

    def identity(self, kind: str, raw: str) -> tuple[str, str]:
        """(normalised value, blind index), cached: exports repeat a person's identity once per purpose."""
        from privet.subjects.identities import normalise

        found = self._identities.get((kind, raw))
        if found is None:
            value = normalise(kind, raw, default_region=self.region, known_types=self.known_types, where="identity")
            if len(self._identities) > 200_000:
                self._identities.clear()
            found = self._identities[(kind, raw)] = (value, self.keyring.blind_index(kind, value))
        return found

    def check(self, raw: dict) -> tuple[str, str, str, dict]:
        """(identity type, normalised identity, its blind index, ledger columns) or InvalidInput."""
        missing = [c for c in REQUIRED if raw.get(c) in (None, "")]
        if missing:
            raise InvalidInput(f"missing {', '.join(missing)}", "fill every required column")
        cats = raw.get("categories") or []
        if isinstance(cats, str):
            cats = [c.strip() for c in cats.split(";") if c.strip()]
        version = raw.get("notice_version")
        try:
            version = int(version) if version not in (None, "") else None
        except (TypeError, ValueError):
            raise InvalidInput("notice_version is not a whole number", "send e.g. 3") from None
        key = (str(raw["purpose"]), str(raw["event"]), str(raw.get("method") or self.method), tuple(cats))
        if raw.get("language") or raw.get("jurisdiction") or raw.get("expires_at"):
            row = prepare(self.policy, subject_id="-", visitor_id=None, purpose=key[0], event=key[1],
                          method=key[2], categories=list(cats), at=_time(raw["at"], "at"), now=self.now,
                          expires_at=_time(raw.get("expires_at"), "expires_at"),
                          language=raw.get("language") or None, jurisdiction=raw.get("jurisdiction") or None)
        else:  # the common case: the rules depend only on the key, so check them once per key
            base = self._basis.get(key)
            if base is None:
                base = self._basis[key] = prepare(self.policy, subject_id="-", visitor_id=None, purpose=key[0],
                                                  event=key[1], method=key[2], categories=list(cats), now=self.now)
            row = {**base, "at": self._at(raw["at"])}
        row["notice_key"], row["notice_version"] = raw.get("notice_key") or DEFAULT_NOTICE, version
        kind = str(raw["identity_type"])
        value, blind = self.identity(kind, str(raw["identity"]))
        return kind, value, blind, row

    def _at(self, value: object) -> datetime:
        from privet.consent.ledger import FUTURE_SKEW, aware

        at = aware(_time(value, "at"))
        if at > self.now + FUTURE_SKEW:
            raise InvalidInput("at is in the future", "send when the person acted")
        return at


def _resolve(session: Session, keyring: Keyring, wanted: dict[str, tuple[str, str]], *,
             create: bool) -> tuple[dict[str, str], int]:
    """blind index → subject id for a chunk's identities; creates subjects for unknown ones when `create`."""
    from privet.subjects.models import Identity, Subject
    from privet.subjects.service import context

    found = dict(session.execute(select(Identity.blind_index, Identity.subject_id)
                                 .where(Identity.blind_index.in_(list(wanted)))).all())
    missing = [b for b in wanted if b not in found]
    if not create or not missing:
        return found, 0
    now = utcnow()
    subjects, identities = [], []
    for blind in missing:
        subject_id, (kind, value) = new_id(), wanted[blind]
        found[blind] = subject_id
        subjects.append({"id": subject_id, "status": "active", "created_at": now, "updated_at": now})
        identities.append({"id": new_id(), "subject_id": subject_id, "type": kind, "blind_index": blind,
                           "value_enc": keyring.encrypt(value, context=context(kind)), "created_at": now})
    bulk_insert(session, Subject.__table__, subjects)
    bulk_insert(session, Identity.__table__, identities)
    return found, len(missing)


def _subject_problems(session: Session, chunk: list[tuple[int, str, dict]], ids: dict[str, str]) -> dict[int, str]:
    """Line → problem for records whose subject is closed or (for a consent) a child or an adults-only minor."""
    from privet.subjects.ages import age_policy, is_child, is_minor
    from privet.subjects.models import Subject

    existing = {r.id: r for r in session.execute(
        select(Subject.id, Subject.status, Subject.child_until, Subject.minor_until)
        .where(Subject.id.in_({ids[b] for _, b, _ in chunk if b in ids}))).all()}
    policy, out = None, {}
    for line, blind, row in chunk:
        subject = existing.get(ids.get(blind))
        if subject is None:
            continue
        if subject.status != "active":
            out[line] = f"the subject is {subject.status}"
        elif row["event"] in POSITIVE_EVENTS and (subject.child_until or subject.minor_until):
            policy = policy or age_policy(session)
            view = SimpleNamespace(child_until=subject.child_until, minor_until=subject.minor_until)
            if is_child(view, row["at"]) or (policy.adults_only and is_minor(view, row["at"])):
                out[line] = "the subject is a child or minor at that time: consent needs a verified guardian"
    return out


def import_records(session: Session, keyring: Keyring, path: Path, *, fmt: str | None = None,
                   method: str = "import", skip_invalid: bool = False, actor: str,
                   progress: Callable[[int], None] | None = None) -> ImportReport:
    """Import a CSV or JSON-lines file of consent records; InvalidInput naming bad lines (nothing kept)."""
    path = Path(path)
    if not path.is_file():
        raise InvalidInput(f"No file {path.name!r}", "give the path of a CSV or JSON-lines export")
    fmt = detect_format(path, fmt)
    session.flush()  # rows written below bypass the ORM: pending objects (subjects) must be in the store first
    policy = current_policy(session)
    checker = _Checker(session, keyring, policy, method)
    report, before = ImportReport(), projection.max_seq(session)
    evidence = {"source": "import"}  # one object for every row: serialised once
    chunk: list[tuple[int, str, dict]] = []
    wanted: dict[str, tuple[str, str]] = {}

    def bad(line: int, message: str) -> None:
        report.skipped += 1
        if len(report.problems) < MAX_REPORTED:
            report.problems.append(Problem(message, f"{path.name}:{line}"))

    def flush() -> None:
        # once a row is bad (without skip_invalid) nothing more is written; checking goes on to report every line
        ids, created = _resolve(session, keyring, wanted, create=skip_invalid or not report.skipped)
        refused = _subject_problems(session, chunk, ids)
        for line, message in refused.items():
            bad(line, message)
        if (skip_invalid or not report.skipped) and len(refused) < len(chunk):
            rows = [{**row, "id": new_id(), "subject_id": ids[blind], "recorded_at": checker.now, "actor": actor,
                     "evidence": evidence, "guardian_id": None}
                    for line, blind, row in chunk if line not in refused]
            bulk_insert(session, ConsentRecord.__table__, rows)
            report.imported += len(rows)
            report.subjects_created += created
        if progress is not None:
            progress(report.rows)
        chunk.clear()
        wanted.clear()

    for line, raw in _rows(path, fmt):
        report.rows += 1
        if raw is None:
            bad(line, "not a JSON object")
            continue
        try:
            kind, value, blind, row = checker.check(raw)
        except PrivetError as exc:
            bad(line, "; ".join(p.message for p in exc.problems) or exc.detail)
            continue
        wanted[blind] = (kind, value)
        chunk.append((line, blind, row))
        if len(chunk) >= CHUNK:
            flush()
    if chunk:
        flush()
    if report.skipped and not skip_invalid:
        raise InvalidInput(f"{report.skipped} of {report.rows} rows are invalid; nothing was imported",
                           "fix these lines, or pass --skip-invalid to import the valid rows", report.problems)
    if report.imported:
        projection.merge_range(session, before, projection.max_seq(session))
    audit(session, actor=actor, action="consent.imported", object_type="consent_import", object_id=new_id(),
          details={"format": fmt, "rows": report.rows, "imported": report.imported, "skipped": report.skipped,
                   "subjects_created": report.subjects_created, "method": method})
    return report
