"""Importing consent records: CSV and JSON lines, identities resolved in bulk, all-or-nothing with line numbers."""

from __future__ import annotations

import csv
import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from faker import Faker
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from privet.audit.models import AuditEvent
from privet.consent.ledger import importer, projection
from privet.consent.ledger import service as ledger
from privet.consent.models import ConsentRecord, ConsentState
from privet.kit.clock import utcnow
from privet.kit.crypto import Keyring
from privet.kit.errors import InvalidInput
from privet.subjects import service as subjects
from privet.subjects.models import Subject

pytestmark = pytest.mark.usefixtures("keptek")
PURPOSES = ["marketing.communications", "analytics.usage", "marketing.events"]


def _rows(fake: Faker, n: int) -> list[dict]:
    now = utcnow()
    return [
        {
            "identity_type": "email",
            "identity": fake.unique.email(),
            "purpose": PURPOSES[i % 3],
            "event": "given" if i % 4 else "refused",
            "at": (now - timedelta(days=i + 1)).isoformat(),
            "categories": "user.contact.email" if i % 2 else "",
            "jurisdiction": "CN" if i % 5 == 0 else "",
        }
        for i in range(n)
    ]


def _csv(path: Path, rows: list[dict]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def _jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def _count(db: Session, model) -> int:
    return db.execute(select(func.count()).select_from(model)).scalar()


def test_csv_import_creates_subjects_records_projection_and_one_audit_event(
    db: Session, ring: Keyring, faker_multi: Faker, tmp_path: Path
) -> None:
    existing = subjects.create_subject(db, ring, [("email", faker_multi.unique.email(), True)], actor="test")
    known = subjects.identities_of(db, ring, existing)[0].value
    rows = _rows(faker_multi, 12)
    rows[0]["identity"] = known.upper()  # normalised to the same identity
    before_audit = db.execute(select(func.max(AuditEvent.seq))).scalar()
    report = importer.import_records(db, ring, _csv(tmp_path / "export.csv", rows), actor="test")
    assert (report.rows, report.imported, report.skipped, report.subjects_created) == (12, 12, 0, 11)
    assert _count(db, ConsentRecord) == 12 and _count(db, Subject) == 12
    first = ledger.history(db, [existing.id])
    assert [(r.purpose, r.event, r.method) for r in first] == [("marketing.communications", "refused", "import")]
    assert ledger.history(db, [existing.id])[0].categories == []
    assert _count(db, ConsentState) == 12
    events = db.execute(select(AuditEvent).where(AuditEvent.seq > before_audit)).scalars().all()
    assert [e.action for e in events] == ["consent.imported"]
    assert events[0].details["imported"] == 12 and events[0].details["subjects_created"] == 11
    assert not any(r["identity"].lower() in json.dumps(events[0].details) for r in rows)


def test_jsonl_import_and_backdated_rows_keep_newer_state(
    db: Session, ring: Keyring, faker_multi: Faker, tmp_path: Path
) -> None:
    email = faker_multi.unique.email()
    subject = subjects.create_subject(db, ring, [("email", email, True)], actor="test")
    newer = ledger.withdraw(db, subject_id=subject.id, purpose="analytics.usage", method="form", actor="test")
    rows = [
        {
            "identity_type": "email",
            "identity": email,
            "purpose": "analytics.usage",
            "event": "given",
            "at": (utcnow() - timedelta(days=90)).isoformat(),
            "categories": ["user.device.cookie_id"],
        }
    ]
    rows += _rows(faker_multi, 5)
    for row in rows[1:]:
        row["categories"] = []
    report = importer.import_records(db, ring, _jsonl(tmp_path / "export.jsonl", rows), actor="test")
    assert report.imported == 6
    state = projection.state(db, f"s:{subject.id}", "analytics.usage")
    assert state.record_seq == newer.seq and state.event == "withdrawn"
    assert [r.event for r in ledger.history(db, [subject.id], "analytics.usage")] == ["given", "withdrawn"]
    maintained = {(s.holder, s.purpose, s.record_seq) for s in db.execute(select(ConsentState)).scalars()}
    projection.rebuild(db)
    assert {(s.holder, s.purpose, s.record_seq) for s in db.execute(select(ConsentState)).scalars()} == maintained


def test_bad_rows_import_nothing_and_name_their_lines(
    db: Session, ring: Keyring, faker_multi: Faker, tmp_path: Path
) -> None:
    rows = _rows(faker_multi, 8)
    rows[2]["purpose"] = "service.order"  # contract purpose: a consent event does not fit (line 4)
    rows[4]["identity"] = "not-an-email"  # line 6
    rows[6]["at"] = "yesterday"  # line 8
    secret = rows[4]["identity"]
    audit_before = _count(db, AuditEvent)
    with pytest.raises(InvalidInput) as caught:
        importer.import_records(db, ring, _csv(tmp_path / "bad.csv", rows), actor="test")
    wheres = [p.where for p in caught.value.problems]
    assert wheres == ["bad.csv:4", "bad.csv:6", "bad.csv:8"]
    assert "does not rely on consent" in caught.value.problems[0].message
    assert secret not in caught.value.render()
    assert "nothing was imported" in caught.value.detail
    # the caller rolls back; even before that, no ledger row and no audit event were written
    assert _count(db, ConsentRecord) == 0 and _count(db, AuditEvent) == audit_before


def test_skip_invalid_imports_the_good_rows(db: Session, ring: Keyring, faker_multi: Faker, tmp_path: Path) -> None:
    rows = _rows(faker_multi, 6)
    rows[1]["event"] = "maybe"
    report = importer.import_records(db, ring, _jsonl(tmp_path / "x.jsonl", rows), skip_invalid=True, actor="test")
    assert (report.imported, report.skipped, report.problems[0].where) == (5, 1, "x.jsonl:2")


def test_child_consent_in_an_import_is_refused(
    db: Session, ring: Keyring, faker_multi: Faker, make_subject, tmp_path: Path
) -> None:
    today = date.today()
    child = make_subject(birth=today.replace(year=today.year - 9))
    email = subjects.identities_of(db, ring, child)[0].value
    rows = [
        {
            "identity_type": "email",
            "identity": email,
            "purpose": "marketing.communications",
            "event": "given",
            "at": utcnow().isoformat(),
        }
    ]
    with pytest.raises(InvalidInput) as caught:
        importer.import_records(db, ring, _jsonl(tmp_path / "c.jsonl", rows), actor="test")
    assert "guardian" in caught.value.problems[0].message


def test_bad_files(db: Session, ring: Keyring, tmp_path: Path) -> None:
    (tmp_path / "h.csv").write_text("who,what\nx,y\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="header"):
        importer.import_records(db, ring, tmp_path / "h.csv", actor="test")
    (tmp_path / "j.jsonl").write_text("{not json\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as caught:
        importer.import_records(db, ring, tmp_path / "j.jsonl", actor="test")
    assert caught.value.problems[0].where == "j.jsonl:1"
    with pytest.raises(InvalidInput):
        importer.import_records(db, ring, tmp_path / "missing.csv", actor="test")
    with pytest.raises(InvalidInput):
        importer.import_records(db, ring, tmp_path / "h.csv", fmt="xml", actor="test")


def test_ids_drawn_in_bulk_have_the_shape_of_new_id() -> None:
    from privet.consent.ledger.import_rows import new_ids
    from privet.kit.ids import new_id

    before, ids = new_id(), new_ids(1000)
    assert len(set(ids)) == 1000 and all(len(i) == 26 and int(i, 16) >= 0 for i in ids)
    assert ids[0][:12] >= before[:12] and new_id()[:12] >= ids[-1][:12]  # time-ordered like new_id


def test_blank_and_short_csv_lines(db: Session, ring: Keyring, faker_multi: Faker, tmp_path: Path) -> None:
    rows = _rows(faker_multi, 3)
    path = _csv(tmp_path / "gaps.csv", rows)
    lines = path.read_text(encoding="utf-8").splitlines()
    lines.insert(2, "")  # a blank line 3
    lines[3] = ",".join(lines[3].split(",")[:3])  # line 4 stops after the purpose
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = importer.import_records(db, ring, path, skip_invalid=True, actor="test")
    assert (report.rows, report.imported, report.skipped) == (3, 2, 1)
    assert report.problems[0].where == "gaps.csv:4" and "cells where the header has" in report.problems[0].message


def test_a_line_with_a_cell_too_many_is_a_bad_line(
    db: Session, ring: Keyring, faker_multi: Faker, tmp_path: Path
) -> None:
    """Extra cells would shift values into the wrong columns: the line is named, and without --skip-invalid nothing
    is imported."""
    path = _csv(tmp_path / "wide.csv", _rows(faker_multi, 3))
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[2] += ",surprise"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as exc:
        importer.import_records(db, ring, path, actor="test")
    assert any(p.where == "wide.csv:3" for p in exc.value.problems)
    report = importer.import_records(db, ring, path, skip_invalid=True, actor="test")
    assert (report.imported, report.skipped) == (2, 1)


def test_sqlite_page_cache_is_restored_after_an_import(
    db: Session, ring: Keyring, faker_multi: Faker, tmp_path: Path
) -> None:
    connection = db.connection()
    if connection.dialect.name != "sqlite":
        pytest.skip("the page cache setting is SQLite's")
    before = connection.exec_driver_sql("PRAGMA cache_size").scalar()
    importer.import_records(db, ring, _csv(tmp_path / "c.csv", _rows(faker_multi, 4)), actor="test")
    assert connection.exec_driver_sql("PRAGMA cache_size").scalar() == before
