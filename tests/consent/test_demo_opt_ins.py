"""The demo CRMs' marketing opt-ins are consent records after `load_demo` (method import, the CRM's time): as many
as the opted-in open accounts counted with hand-written SQL on the demo datastores; an opted-in person is allowed
marketing, an opted-out one denied. Loading again imports nothing twice."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from privet.consent.decisions.service import decide
from privet.consent.models import ConsentRecord
from privet.demo.consents import ACTOR
from privet.demo.service import load_demo
from privet.kit.crypto import Keyring
from privet.settings import Settings
from tests.demo.test_service import store  # noqa: F401 - a fresh store of each kind, the demo commits into it

pytestmark = [pytest.mark.promise("P30"), pytest.mark.promise("P44")]

# (datastore file, table, identity column, identity type, moment column)
TABLES = {
    "keptek": [("crm", "customers", "mobile", "phone", "created_at")],
    "zkteco": [
        ("accounts_cn", "accounts", "email", "email", "registered_at"),
        ("accounts_eu", "eu_accounts", "email", "email", "registered_at"),
    ],
}


def _sql(settings: Settings, company: str, datastore: str, query: str) -> list[tuple]:
    path = Path(settings.data_dir) / "demo" / company / f"{datastore}.sqlite"
    with sqlite3.connect(path) as connection:
        return connection.execute(query).fetchall()


@pytest.mark.parametrize("company", ["keptek", "zkteco"])
def test_the_crm_opt_ins_are_consent_records(settings: Settings, store: Engine, company: str) -> None:
    summary = load_demo(settings, store, company, customers=40)
    opted_in, opted_out, expected = [], [], 0
    for datastore, table, column, kind, moment in TABLES[company]:
        open_rows = f"FROM {table} WHERE closed_at IS NULL AND {column} IS NOT NULL"
        expected += _sql(settings, company, datastore, f"SELECT count(*) {open_rows} AND marketing_opt_in = 1")[0][0]
        opted_in += [
            (kind, v, at)
            for v, at in _sql(
                settings,
                company,
                datastore,
                f"SELECT {column}, {moment} {open_rows} AND marketing_opt_in = 1 ORDER BY id LIMIT 3",
            )
        ]
        opted_out += [
            (kind, v)
            for (v,) in _sql(
                settings,
                company,
                datastore,
                f"SELECT {column} {open_rows} AND marketing_opt_in = 0 ORDER BY id LIMIT 3",
            )
        ]
    assert expected > 0 and opted_in and opted_out
    assert f"Marketing opt-ins imported as consent records: {expected}." in summary
    keyring = Keyring.from_settings(settings)
    with Session(store) as session:
        records = session.execute(select(ConsentRecord).where(ConsentRecord.actor == ACTOR)).scalars().all()
        assert len(records) == expected
        assert {(r.method, r.event, r.purpose) for r in records} == {("import", "given", "marketing.communications")}
        for kind, value, at in opted_in:
            got = decide(session, purpose="marketing.communications", identity=(kind, value), keyring=keyring)
            assert got.allowed, (got.reason, kind)
            record = session.execute(select(ConsentRecord).where(ConsentRecord.id == got.record_id)).scalar_one()
            crm_time = datetime.fromisoformat(str(at)).replace(tzinfo=UTC)
            assert abs((record.at - crm_time).total_seconds()) < 1  # the CRM's time, not the import's
        for kind, value in opted_out:
            got = decide(session, purpose="marketing.communications", identity=(kind, value), keyring=keyring)
            assert not got.allowed
    load_demo(settings, store, company, customers=40)  # again: nothing imported twice
    with Session(store) as session:
        assert (
            session.execute(
                select(func.count()).select_from(ConsentRecord).where(ConsentRecord.actor == ACTOR)
            ).scalar_one()
            == expected
        )
