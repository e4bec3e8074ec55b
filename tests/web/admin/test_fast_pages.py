"""Console pages made fast (issue 15) still say what is true: the audit page's walk of the chain, the data map page
in previews and pages, the dashboard's consent counts with signed-in visitors, and the applied data map read once
per version."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from faker import Faker
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from privet.audit import service as audit
from privet.audit.models import AuditEvent
from privet.web.admin import audit as audit_page
from tests.support.tamper import lift_guards
from tests.web.admin.conftest import HTML

KEPTEK = Path(__file__).resolve().parents[3] / "examples" / "keptek" / "datamap"
ZH = {**HTML, "Accept-Language": "zh-CN"}


def _write(db: Session, n: int) -> None:
    for i in range(n):
        audit.record(
            db, actor="system", action="test.fast", object_type="thing", object_id=f"t{i}", details={"index": i}
        )
    db.flush()


@pytest.fixture(autouse=True)
def _no_earlier_walk() -> None:
    audit_page._walked.clear()


@pytest.fixture
def keptek(db: Session) -> Session:
    from privet.datamap.service import validate_and_apply

    validate_and_apply(db, KEPTEK, actor="test")
    db.commit()
    return db


# ---- the audit page's walk -------------------------------------------------------------------------------------------
def test_after_a_whole_walk_only_newer_events_are_walked_and_a_change_among_them_is_found(db: Session) -> None:
    _write(db, 5)
    check, whole_at = audit_page.check_chain(db)
    assert check.ok and check.checked == 5 and whole_at is None  # walked from the first event
    _write(db, 3)
    check, whole_at = audit_page.check_chain(db)
    assert check.ok and check.checked == 8 and whole_at is not None  # the 3 new ones, linked to the 5th
    _write(db, 2)
    lift_guards(db)
    db.execute(update(AuditEvent).where(AuditEvent.seq == 10).values(details={"index": 99}))
    check, _ = audit_page.check_chain(db)
    assert not check.ok and check.first_bad_seq == 10 and "changed" in check.reason


def test_a_change_to_an_event_walked_before_is_found_by_the_next_whole_walk(db: Session, monkeypatch) -> None:
    _write(db, 6)
    assert audit_page.check_chain(db)[0].ok
    lift_guards(db)
    db.execute(update(AuditEvent).where(AuditEvent.seq == 2).values(details={"index": 42}))
    later = audit_page.utcnow() + audit_page.WHOLE_EVERY + timedelta(seconds=1)
    monkeypatch.setattr(audit_page, "utcnow", lambda: later)
    check, whole_at = audit_page.check_chain(db)
    assert not check.ok and check.first_bad_seq == 2 and whole_at is None


def test_a_chain_other_than_the_one_walked_is_walked_whole_not_called_broken(db: Session) -> None:
    _write(db, 4)
    savepoint = db.begin_nested()
    _write(db, 3)
    assert audit_page.check_chain(db)[0].checked == 7  # remembers event 7
    savepoint.rollback()  # as a store restored from a backup: event 7 is gone, then written again differently
    _write(db, 3)
    check, whole_at = audit_page.check_chain(db)
    assert check.ok and check.checked == 7 and whole_at is None


def test_the_audit_page_says_when_the_whole_chain_was_walked(client: TestClient, officer) -> None:
    officer("auditor")
    first = client.get("/admin/audit", headers=HTML).text
    assert "Chain verified" in first and "Every event checked" in first
    second = client.get("/admin/audit", headers=HTML).text
    assert "Chain verified" in second and "the whole chain was checked at" in second
    chinese = client.get("/admin/audit", headers=ZH).text
    assert "整条链已于 UTC" in chinese


# ---- the data map page -----------------------------------------------------------------------------------------------
def _field_rows(text: str) -> int:
    return len(re.findall(r"<tr><td>[a-z_]+</td><td>[a-z_]+</td><td><code>", text))


def test_the_data_map_page_shows_counts_and_a_preview_of_each_kind(client: TestClient, officer, keptek) -> None:
    from privet.web.admin.datamap import PREVIEW

    officer("privacy_officer")
    text = client.get("/admin/datamap", headers=HTML).text
    assert 'href="/admin/datamap?kind=fields"' in text and _field_rows(text) == PREVIEW
    total = int(re.search(r'<span class="count">(\d+)</span> Fields', text).group(1))
    assert total > 100 and f"Show all {total} fields" in text


def test_one_kind_is_paged_and_a_bad_page_number_shows_a_real_page(client: TestClient, officer, keptek) -> None:
    from privet.web.admin.datamap import PAGE_SIZE

    officer("privacy_officer")
    first = client.get("/admin/datamap?kind=fields", headers=HTML).text
    pages = int(re.search(r"Page 1 of (\d+)", first).group(1))
    assert pages >= 2 and _field_rows(first) == PAGE_SIZE and 'href="/admin/datamap?kind=fields&amp;page=2"' in first
    second = client.get("/admin/datamap?kind=fields&page=2", headers=HTML).text
    assert f"Page 2 of {pages}" in second and "Previous" in second
    assert client.get("/admin/datamap?kind=fields&page=abc", headers=HTML).text.count("Page 1 of") == 1
    last = client.get("/admin/datamap?kind=fields&page=99999", headers=HTML)
    assert last.status_code == 200 and f"Page {pages} of {pages}" in last.text and "Next" not in last.text
    searched = client.get("/admin/datamap?kind=fields&q=phone", headers=HTML).text
    assert "Page 1 of" not in searched or "q=phone&amp;page=2" in searched  # the search is kept from page to page
    assert f"第 2 页，共 {pages} 页" in client.get("/admin/datamap?kind=fields&page=2", headers=ZH).text


# ---- the dashboard's consent counts with signed-in visitors ----------------------------------------------------------
def test_a_person_with_linked_visitors_counts_once_with_their_latest_choice(db: Session, keptek) -> None:
    from privet.consent import visitors
    from privet.consent.ledger import service as ledger
    from privet.kit.crypto import Keyring
    from privet.subjects.service import create_subject
    from privet.web.admin import stats

    purpose, ring = "marketing.communications", Keyring(b"k" * 32)
    before = {p.purpose: (p.holders, p.consenting) for p in stats.consent_now(db)}.get(purpose, (0, 0))
    person = create_subject(db, ring, [("email", Faker().unique.email(domain="example.com"), True)], actor="t").id
    early, late, alone = (f"v-{Faker().unique.hexify('^' * 24)}" for _ in range(3))
    ledger.record(db, visitor_id=early, purpose=purpose, event="refused", method="banner", actor="test")
    ledger.record(db, subject_id=person, purpose=purpose, event="given", method="form", actor="test")
    ledger.record(db, visitor_id=late, purpose=purpose, event="given", method="banner", actor="test")
    ledger.record(db, visitor_id=alone, purpose=purpose, event="refused", method="banner", actor="test")
    for visitor in (early, late):
        visitors.link_visitor(db, visitor, person, actor="test")
    now = {p.purpose: (p.holders, p.consenting) for p in stats.consent_now(db)}[purpose]
    assert now == (before[0] + 2, before[1] + 1)  # the person (latest: given) and the visitor alone (refused)


# ---- the applied data map, read once per version ---------------------------------------------------------------------
def test_each_transaction_gets_its_own_copy_of_the_applied_map(db: Session, keptek) -> None:
    from privet.datamap.service import current

    mine = current(db)
    assert current(db) is mine  # one copy per transaction
    name = mine.organisation.name
    mine.organisation.name = "changed by a caller"
    db.commit()  # a new transaction
    assert current(db).organisation.name == name


def test_a_new_version_is_read_in_the_transaction_that_applies_it(db: Session, keptek, tmp_path: Path) -> None:
    import shutil

    from privet.datamap.service import current, validate_and_apply

    assert current(db).organisation.name != "Keptek renamed"
    folder = tmp_path / "datamap"
    shutil.copytree(KEPTEK, folder)
    organisation = folder / "organisation.yaml"
    text = organisation.read_text(encoding="utf-8")
    old = re.search(r"^  name: (.+)$", text, re.M).group(1)
    organisation.write_text(text.replace(f"  name: {old}", "  name: Keptek renamed", 1), encoding="utf-8")
    validate_and_apply(db, folder, actor="test")
    assert current(db).organisation.name == "Keptek renamed"
