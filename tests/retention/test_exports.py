"""Anonymised and pseudonymised exports (P34): no identifier leaves, the method is recorded."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from privet.audit.models import AuditEvent
from privet.kit.errors import InvalidInput
from privet.retention import exports
from tests.retention.conftest import Company


def _export(mapped: Session, conf, method: str, table: str = "login_events") -> tuple[list[dict], dict]:
    out = io.StringIO()
    done = exports.export(mapped, conf, datastore="app_db", table=table, method=method, out=out, actor="test")
    return list(csv.DictReader(io.StringIO(out.getvalue()))), done


@pytest.mark.promise("P34")
@pytest.mark.parametrize("company", ["sqlite", "postgresql"], indirect=True)
def test_pseudonymised_export_keeps_people_countable_but_not_identifiable(
    mapped: Session, conf, company: Company
) -> None:
    rows, done = _export(mapped, conf, "pseudonymise")
    assert len(rows) == 60 and done["columns"]["email"] == "token" and done["columns"]["customer_id"] == "keep"
    text = str(rows)
    assert not any(email in text for email in company.emails)
    assert len({r["email"] for r in rows}) == 20  # one token per person inside this export
    again, _ = _export(mapped, conf, "pseudonymise")
    assert {r["email"] for r in rows}.isdisjoint({r["email"] for r in again})  # exports cannot be joined
    event = mapped.execute(select(AuditEvent).where(AuditEvent.action == "retention.exported")).scalars().first()
    assert event.details["method"] == "pseudonymise" and event.details["rows"] == 60


@pytest.mark.promise("P34")
@pytest.mark.parametrize("company", ["sqlite"], indirect=True)
def test_anonymised_export_drops_identifiers_and_generalises_dates(mapped: Session, conf, company: Company) -> None:
    rows, done = _export(mapped, conf, "anonymise", "customers")
    assert set(rows[0]) == {"last_login_at"} and done["columns"]["email"] == "drop"
    assert all(len(r["last_login_at"]) == 19 for r in rows)  # not personal in the map: kept as is
    with pytest.raises(InvalidInput, match="Unknown export method"):
        _export(mapped, conf, "shuffle")
    with pytest.raises(InvalidInput, match="no table"):
        _export(mapped, conf, "anonymise", "nope")


def test_personal_dates_are_cut_to_the_month_when_anonymised() -> None:
    from datetime import date

    declared = {
        "birth": ("user.demographic.date_of_birth", None),
        "email": ("user.contact.email", "email"),
        "note": ("user.name", None),
        "total": (None, None),
    }
    plan = exports.plan_columns(declared, ["birth", "email", "note", "total"], "anonymise", {"birth"})
    assert plan == {"birth": "month", "email": "drop", "note": "drop", "total": "keep"}
    assert exports._transform("month", date(2014, 5, 17), b"k") == "2014-05"
    assert exports._transform("token", "someone", b"k") != exports._transform("token", "someone", b"other")
