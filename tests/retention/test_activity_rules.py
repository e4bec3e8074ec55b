"""Retention from processing activities (P23, P25): an activity's `retention:` enforced on the tables holding its
categories through their `timestamps:` (a column, or a column of the row a reference names), several activities
on one table, legal minimums, holds; and `privet datamap evaluate` naming a table whose trigger has no moment."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from privet.datamap.evaluate import evaluate
from privet.datamap.manifest import load_manifest
from privet.datamap.validate import taxonomy_for
from privet.retention import service
from tests.retention.conftest import CUSTOMERS, INVOICES, LOGINS, NOW, ORDERS, Company

ACTIVITIES = """\
organisation: {{key: co, name: Test Co, profile: pipl, region: CN, responsible: {{name: Privacy Office}}}}
systems: [{{key: app, name: App}}]
datastores: [{{key: app_db, system: app, kind: {kind}, region: CN, secret: app_db}}]
datasets:
  - key: app
    datastore: app_db
    tables:
      - name: customers
        primary_key: [id]
        erasure: {{action: "null"}}
        timestamps: {{last_activity: last_login_at}}
        fields:
          - {{name: id, category: user.account.user_id, identity: user_id, indexed: true}}
          - {{name: email, category: user.contact.email, identity: email, indexed: true}}
          - {{name: name, category: user.name}}
          - {{name: last_login_at}}
      - name: login_events
        primary_key: [id]
        erasure: {{action: delete_row}}
        timestamps: {{collection: at, last_activity: customer_id.last_login_at}}
        fields:
          - {{name: id}}
          - {{name: customer_id, references: customers.id, indexed: true}}
          - {{name: email, category: user.contact.email, identity: email, indexed: true}}
          - {{name: ip, category: user.device.ip_address}}
          - {{name: at}}
      - name: orders
        primary_key: [id]
        erasure: {{action: delete_row}}
        timestamps: {{contract_end: created_at}}
        fields:
          - {{name: id}}
          - {{name: customer_id, references: customers.id, indexed: true}}
          - {{name: ship_to, category: user.contact.address}}
          - {{name: created_at}}
      - name: invoices
        primary_key: [id]
        erasure: {{action: retain, reason: Accounting records, duration: P5Y,
                  legal_reference: "PRC Accounting Archives Measures Art 14"}}
        timestamps: {{accounting_period_end: issued_at}}
        fields:
          - {{name: id}}
          - {{name: customer_id, references: customers.id, indexed: true}}
          - {{name: amount, category: user.financial}}
          - {{name: issued_at}}
processing_activities:
  - {{key: accounts, name: Accounts, purpose: service.account, legal_basis: contract, datasets: [app],
      required_categories: [user.account.user_id, user.contact.email, user.name],
      retention: {{trigger: last_activity, duration: P3Y}}}}
  - {{key: security, name: Security logs, purpose: security, legal_basis: legal_obligation, datasets: [app],
      required_categories: [user.device.ip_address], retention: {{trigger: collection, duration: P90D}}}}
  - {{key: shipping, name: Shipping, purpose: service.delivery, legal_basis: contract, datasets: [app],
      required_categories: [user.contact.address], retention: {{trigger: contract_end, duration: P2Y}}}}
  - {{key: accounting, name: Accounting, purpose: legal.accounting, legal_basis: legal_obligation, datasets: [app],
      required_categories: [user.financial], retention: {{trigger: accounting_period_end, duration: P1Y}}}}
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "activities" / "app.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def governed(db: Session, company: Company, tmp_path: Path) -> Session:
    from privet.datamap.service import validate_and_apply

    validate_and_apply(db, _write(tmp_path, ACTIVITIES.format(kind=company.kind)), actor="test")
    db.commit()
    return db


def _by_table(plan: list[dict]) -> dict[str, dict]:
    return {entry["table"]: entry for entry in plan}


@pytest.mark.parametrize("company", ["sqlite", "postgresql", "mysql"], indirect=True)
def test_activities_retention_is_enforced_on_their_tables(
    governed: Session, session_factory: sessionmaker, conf, keyring, company: Company
) -> None:
    plan = _by_table(service.plan(governed, conf, keyring, now=NOW))
    assert set(plan) == {"customers", "login_events", "orders", "invoices"}
    logins = plan["login_events"]  # two activities: past 90 days *and* the account inactive for three years
    assert logins["activities"] == ["accounts", "security"] and logins["action"] == "delete"
    assert "collection (at) + P90D" in logins["clock"] and "customer_id→customers.last_login_at" in logins["clock"]
    assert logins["would_sweep"] == 10  # 5 inactive customers × their 2 logins older than 90 days
    customers = plan["customers"]  # the table's erasure nulls fields: the activity's fields are anonymised
    assert customers["action"] == "anonymise" and customers["fields"] == ["email", "name"]
    assert customers["would_sweep"] == 5
    assert plan["orders"]["would_sweep"] == 20
    invoices = plan["invoices"]  # retained by law: P1Y by the activity, P5Y by the legal reference
    assert invoices["overridden"] and invoices["legal_minimum"] == "P5Y" and invoices["would_sweep"] == 20
    assert company.count(LOGINS) == 60  # a dry run

    done = service.run(session_factory, conf, keyring, actor="test", now=NOW, batch=3)
    assert done.status == "done", done.error
    stale = NOW.replace(tzinfo=None) - timedelta(days=90)
    assert company.count(LOGINS) == 50
    assert company.count(LOGINS, LOGINS.c.customer_id <= 5, LOGINS.c.at < stale) == 0
    assert company.count(LOGINS, LOGINS.c.customer_id > 5, LOGINS.c.at < stale) == 30  # active accounts' logs stay
    assert company.count(CUSTOMERS, CUSTOMERS.c.email.like("anonymised:%")) == 5
    assert company.count(CUSTOMERS, CUSTOMERS.c.email.in_(company.emails[:5])) == 0
    assert company.count(ORDERS) == 20 and company.count(INVOICES) == 20
    again = service.run(session_factory, conf, keyring, actor="test", now=NOW)
    assert all(v.get("deleted", 0) + v.get("updated", 0) == 0 for v in again.progress.values())


@pytest.mark.parametrize("company", ["sqlite", "postgresql"], indirect=True)
def test_a_hold_keeps_rows_of_an_activity_rule(
    governed: Session, session_factory: sessionmaker, conf, keyring, company: Company
) -> None:
    from privet.requests.holds import service as holds
    from privet.subjects.service import get_or_create_subject

    subject, _ = get_or_create_subject(governed, keyring, "email", company.emails[1], actor="test")
    holds.place(governed, subject_id=subject.id, reason="litigation", reference="case 9", actor="test")
    governed.commit()
    plan = _by_table(service.plan(governed, conf, keyring, now=NOW))
    assert plan["login_events"]["kept_held"] == 2 and plan["login_events"]["would_sweep"] == 8
    assert plan["customers"]["kept_held"] == 1
    service.run(session_factory, conf, keyring, actor="test", now=NOW)
    assert company.count(LOGINS, LOGINS.c.email == company.emails[1]) == 3
    assert company.count(CUSTOMERS, CUSTOMERS.c.email == company.emails[1]) == 1


@pytest.mark.parametrize("company", ["sqlite"], indirect=True)
def test_a_table_without_the_triggers_moment_is_not_swept(
    db: Session, session_factory: sessionmaker, conf, keyring, company: Company, tmp_path: Path
) -> None:
    from privet.datamap.service import validate_and_apply

    text = ACTIVITIES.format(kind=company.kind).replace("        timestamps: {contract_end: created_at}\n", "")
    validate_and_apply(db, _write(tmp_path, text), actor="test")
    db.commit()
    orders = _by_table(service.plan(db, conf, keyring, now=NOW))["orders"]
    assert "table orders declares no `timestamps.contract_end`" in orders["problem"] and orders["would_sweep"] == 0
    done = service.run(session_factory, conf, keyring, actor="test", now=NOW)
    assert done.status == "done" and done.progress["app_db.orders"]["skipped"]
    assert company.count(ORDERS) == 40


def _findings(tmp_path: Path, text: str) -> list:
    loaded = load_manifest(_write(tmp_path, text))
    taxonomy, problems = taxonomy_for(loaded)
    assert problems == []
    return [f for f in evaluate(loaded.manifest, taxonomy) if f.rule == "RETENTION-NO-TIMESTAMP"]


def test_evaluate_names_the_table_without_a_timestamp_for_the_trigger(tmp_path: Path) -> None:
    text = ACTIVITIES.format(kind="sqlite")
    assert _findings(tmp_path, text) == []
    found = _findings(tmp_path, text.replace("        timestamps: {contract_end: created_at}\n", ""))
    assert [(f.severity, f.object) for f in found] == [("error", "processing_activities.shipping")]
    assert "table `orders`" in found[0].message and "timestamps.contract_end" in found[0].message
    assert "timestamps: {contract_end: <column>}" in found[0].hint


@pytest.mark.parametrize(
    ("timestamps", "says"),
    [
        ("{contract_end: shipped_at}", "names `shipped_at`, which is not one of its fields"),
        ("{contract_end: ship_to.created_at}", "`ship_to`, which is not a reference field"),
        ("{contract_end: customer_id.closed_at}", "`closed_at`, not a field of table customers"),
    ],
)
def test_evaluate_explains_a_moment_that_cannot_be_read(tmp_path: Path, timestamps: str, says: str) -> None:
    text = ACTIVITIES.format(kind="sqlite").replace(
        "timestamps: {contract_end: created_at}", f"timestamps: {timestamps}"
    )
    found = _findings(tmp_path, text)
    assert len(found) == 1 and says in found[0].message


def test_a_tables_own_retention_governs_it_alone(tmp_path: Path) -> None:
    text = ACTIVITIES.format(kind="sqlite").replace(
        "        timestamps: {contract_end: created_at}\n",
        "        retention: {trigger: collection, column: created_at, duration: P1Y}\n",
    )
    assert _findings(tmp_path, text) == []  # no timestamps needed: the table's own rule is the statement
