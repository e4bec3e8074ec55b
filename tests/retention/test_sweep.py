"""Retention sweeps against SQLite, PostgreSQL and MariaDB: each action, legal minimums, references, holds,
a failure mid-run and its resumption, and bad rules."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from privet.audit.models import AuditEvent
from privet.kit.errors import InvalidInput
from privet.retention import service, sweep
from privet.retention.models import RetentionRun
from tests.retention.conftest import CUSTOMERS, DEVICES, INVOICES, LOGINS, NOW, ORDERS, Company


def _by_table(plan: list[dict]) -> dict[str, dict]:
    return {entry["table"]: entry for entry in plan}


def test_plan_counts_without_changing_anything(mapped: Session, conf, keyring, company: Company) -> None:
    plan = _by_table(service.plan(mapped, conf, keyring, now=NOW))
    assert plan["login_events"]["expired"] == 40 and plan["login_events"]["would_sweep"] == 40
    assert plan["customers"]["would_sweep"] == 5 and plan["customers"]["action"] == "anonymise"
    assert plan["orders"]["would_sweep"] == 20
    assert plan["invoices"]["overridden"] and plan["invoices"]["would_sweep"] == 20  # only those past P5Y
    assert plan["devices"] == {**plan["devices"], "expired": 10, "would_sweep": 6, "kept_referenced": 4}
    assert company.count(LOGINS) == 60 and company.count(DEVICES) == 10  # a dry run
    assert not any(company.emails[0] in str(v) for entry in plan.values() for v in entry.values())


def test_run_applies_each_action(
    mapped: Session, session_factory: sessionmaker[Session], conf, keyring, company: Company
) -> None:
    done = service.run(session_factory, conf, keyring, actor="test", now=NOW, batch=7)
    assert done.status == "done", done.error
    assert (
        company.count(LOGINS) == 20
        and company.count(LOGINS, LOGINS.c.at < NOW.replace(tzinfo=None) - timedelta(days=90)) == 0
    )
    assert company.count(CUSTOMERS) == 20  # anonymised, not deleted
    assert company.count(CUSTOMERS, CUSTOMERS.c.email.like("anonymised:%"), CUSTOMERS.c.name.like("anonymised:%")) == 5
    assert company.count(CUSTOMERS, CUSTOMERS.c.email.in_(company.emails[:5])) == 0
    assert company.count(CUSTOMERS, CUSTOMERS.c.email.in_(company.emails[5:])) == 15
    assert company.count(ORDERS) == 40 and company.count(ORDERS, ORDERS.c.ship_to.is_(None)) == 20
    assert company.count(INVOICES) == 20  # the 500-day-old invoices stay for the accounting law
    assert company.count(DEVICES) == 4  # those still referenced by logs
    progress = done.progress
    assert progress["app_db.login_events"]["deleted"] == 40 and progress["app_db.devices"]["kept_referenced"] == 4
    finished = mapped.execute(select(AuditEvent).where(AuditEvent.action == "retention.run_finished")).scalar_one()
    assert finished.details["tables"]["app_db.customers"]["updated"] == 5
    again = service.run(session_factory, conf, keyring, actor="test", now=NOW)  # nothing left to do
    assert again.status == "done" and all(
        v.get("deleted", 0) + v.get("updated", 0) == 0 for v in again.progress.values()
    )


def test_a_legal_hold_keeps_the_subjects_rows(
    mapped: Session, session_factory: sessionmaker[Session], conf, keyring, company: Company
) -> None:
    from privet.requests.holds import service as holds
    from privet.subjects.service import get_or_create_subject

    subject, _ = get_or_create_subject(mapped, keyring, "email", company.emails[3], actor="test")
    holds.place(mapped, subject_id=subject.id, reason="litigation", reference="case 7", actor="test")
    mapped.commit()
    plan = _by_table(service.plan(mapped, conf, keyring, now=NOW))
    assert plan["login_events"]["kept_held"] == 2 and plan["login_events"]["would_sweep"] == 38
    service.run(session_factory, conf, keyring, actor="test", now=NOW)
    assert company.count(LOGINS, LOGINS.c.email == company.emails[3]) == 3
    assert company.count(CUSTOMERS, CUSTOMERS.c.email == company.emails[3]) == 1


def test_a_failure_stops_at_a_batch_boundary_and_resumes(
    mapped: Session,
    session_factory: sessionmaker[Session],
    conf,
    keyring,
    company: Company,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real, calls = sweep.batches, []

    def failing(*args, **kwargs):
        for step in real(*args, **kwargs):
            calls.append(step)
            yield step
            if len(calls) == 3:
                raise sa.exc.OperationalError("DELETE", {}, Exception("server closed the connection"))

    monkeypatch.setattr(sweep, "batches", failing)
    failed = service.run(session_factory, conf, keyring, actor="test", now=NOW, batch=5)
    # referring tables before the tables they refer to (devices: 5 + 1, then invoices): the third batch was the
    # invoices' first
    assert failed.status == "failed" and "app_db.invoices: stopped after 5 rows" in failed.error
    assert "OperationalError" in failed.error and "app_db.login_events" not in failed.progress
    assert "resume" in failed.error
    monkeypatch.setattr(sweep, "batches", real)
    with pytest.raises(Exception, match=r"in progress|already"):  # a new run would start over: refused
        mapped.execute(sa.update(RetentionRun).values(status="running"))
        mapped.commit()
        service.run(session_factory, conf, keyring, actor="test", now=NOW)
    resumed = service.run(session_factory, conf, keyring, actor="test", resume=True)
    assert resumed.status == "done" and resumed.id == failed.id and resumed.now == failed.now
    assert company.count(LOGINS) == 20 and company.count(CUSTOMERS, CUSTOMERS.c.email.like("anonymised:%")) == 5
    assert resumed.progress["app_db.customers"]["updated"] == 5 and company.count(DEVICES) == 4
    assert resumed.progress["app_db.devices"]["deleted"] == 6  # counted once, not again after the resume
    assert resumed.progress["app_db.invoices"]["deleted"] == 20


def test_unknown_trigger_column_is_refused(mapped: Session, conf, keyring, company: Company) -> None:
    from privet.datamap.models import DatamapTable

    table = mapped.execute(select(DatamapTable).where(DatamapTable.name == "orders")).scalar_one()
    table.retention = {**table.retention, "column": "shipped_at"}
    mapped.flush()
    with pytest.raises(InvalidInput, match="no column shipped_at"):
        service.plan(mapped, conf, keyring, now=NOW)
