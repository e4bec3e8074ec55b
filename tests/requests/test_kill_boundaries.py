"""An erasure's worker killed (SIGKILL) at every boundary of its step, then resumed by a new worker, on PostgreSQL and
MariaDB company databases: the company's rows end as after an uninterrupted erasure, nothing is applied twice, and
the recorded counts equal the rows that changed (not the zeros a second run finds once the first had committed).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from privet.db.engine import make_engine, make_sessionmaker
from privet.kit.clock import utcnow
from privet.kit.crypto import Keyring
from privet.settings import Settings
from tests.requests.kill_worker import BOUNDARIES
from tests.requests.shop import META, build_shop, write_datamap
from tests.support.services import create_mysql_database, create_pg_database

WORKER = Path(__file__).with_name("kill_worker.py")
SECRET = "test-secret-key-0123456789abcdef"
CUSTOMER = 2  # the third customer: three orders of two items, an address, two logins


def _snapshot(url: str) -> dict[str, list[tuple]]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return {
                name: sorted((tuple(str(v) for v in row) for row in conn.execute(sa.select(table))), key=repr)
                for name, table in META.tables.items()
            }
    finally:
        engine.dispose()


def _changed(before: dict, after: dict) -> dict[str, dict[str, int]]:
    """Rows deleted and rows changed in place per table, from two snapshots (keys are the first column)."""
    out = {}
    for table in before:
        old, new = {r[0]: r for r in before[table]}, {r[0]: r for r in after[table]}
        out[table] = {
            "deleted": len(set(old) - set(new)),
            "updated": sum(1 for k in set(old) & set(new) if old[k] != new[k]),
        }
    return out


class Run:
    """A company database, a Privet store in a SQLite file, and an erasure request filed and verified there."""

    def __init__(self, kind: str, tmp: Path) -> None:
        self.url, self.drop = create_pg_database() if kind == "postgresql" else create_mysql_database()
        self.shop = build_shop(self.url, seed=7)
        self.tmp = tmp
        store_url = f"sqlite:///{tmp / 'store.sqlite'}"
        self.settings = Settings(
            data_dir=tmp / "var",
            secret_key=SECRET,
            database_url=store_url,
            secrets={"shop_db": self.url},
            jobs_threads=0,
            mail_sender="console",
            sms_sender="console",
            jobs_lease_seconds=5,
            jobs_retry_seconds=0.1,
        )
        from privet.db.migrate import upgrade

        self.engine = make_engine(store_url)
        upgrade(self.engine)
        self.sessions = make_sessionmaker(self.engine, self.settings)
        self.keyring = Keyring.from_settings(self.settings)
        self.reference = self._file()
        self.before = _snapshot(self.url)

    def _file(self) -> str:
        from privet.datamap.service import validate_and_apply
        from privet.jobs import dispatch
        from privet.requests.intake.service import file_request
        from privet.requests.intake.verify import record_identity_check

        with self.sessions() as session:
            session.info[dispatch.SETTINGS_KEY] = self.settings
            validate_and_apply(session, write_datamap(self.tmp / "datamap", self.shop.kind), actor="test")
            customer = self.shop.customers[CUSTOMER]
            request = file_request(
                session,
                self.keyring,
                self.settings,
                request_type="erasure",
                identity_type="email",
                identity=customer.email,
                filed_by="public:api",
            )
            record_identity_check(
                session,
                self.keyring,
                self.settings,
                request,
                method="id_document",
                note="checked at the counter",
                actor="user:officer",
            )
            session.commit()
            return request.reference

    def worker(self, boundary: str) -> subprocess.CompletedProcess:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PRIVET_")}
        env.update(
            {
                "PRIVET_DATABASE_URL": self.settings.database_url,
                "PRIVET_SECRET_KEY": SECRET,
                "PRIVET_DATA_DIR": str(self.settings.data_dir),
                "PRIVET_SECRETS": json.dumps(self.settings.secrets),
                "PRIVET_MAIL_SENDER": "console",
                "PRIVET_SMS_SENDER": "console",
                "PRIVET_JOBS_LEASE_SECONDS": "5",
                "PRIVET_JOBS_RETRY_SECONDS": "0.1",
            }
        )
        return subprocess.run(
            [sys.executable, str(WORKER), boundary, "jobs", "work", "--once"],
            env=env,
            cwd=self.tmp,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def lease_ran_out(self) -> None:
        """The dead worker's lease is over (as if `jobs_lease_seconds` had passed)."""
        with self.engine.begin() as conn:
            conn.execute(
                sa.text("UPDATE jobs SET lease_until = :past WHERE status = 'running'"),
                {"past": utcnow() - timedelta(seconds=1)},
            )

    def request(self, session: Session):
        from privet.requests.service import by_reference

        return by_reference(session, self.reference)

    def close(self) -> None:
        from privet.connectors.sql import engines, schema

        self.engine.dispose()
        engines.dispose_all()
        schema.forget()
        self.drop()


@pytest.fixture(params=["postgresql", "mysql"])
def kind(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def baseline(kind: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, dict]:
    """The company's rows and the recorded counts after an uninterrupted erasure."""
    run = Run(kind, tmp_path_factory.mktemp(f"baseline-{kind}"))
    try:
        done = run.worker("none")
        assert done.returncode == 0, done.stdout + done.stderr
        with run.sessions() as session:
            request = run.request(session)
            assert request.status == "completed", request.result
            return _snapshot(run.url), request.steps[0].counts, _changed(run.before, _snapshot(run.url))
    finally:
        run.close()


@pytest.mark.parametrize("boundary", sorted(BOUNDARIES))
def test_a_kill_at_each_boundary_resumes_to_the_same_rows_and_counts(
    kind: str, boundary: str, baseline, tmp_path: Path
) -> None:
    rows, counts, changed = baseline
    run = Run(kind, tmp_path)
    try:
        killed = run.worker(boundary)
        assert killed.returncode == -9, f"{BOUNDARIES[boundary]}: the worker was not killed\n{killed.stderr[-2000:]}"
        run.lease_ran_out()
        resumed = run.worker("none")
        assert resumed.returncode == 0, resumed.stdout + resumed.stderr
        assert _snapshot(run.url) == rows  # the same rows as an uninterrupted erasure: nothing applied twice
        with run.sessions() as session:
            request = run.request(session)
            step = request.steps[0]
            assert request.status == "completed", (boundary, request.result, step.last_error)
            assert step.counts == counts, boundary  # what changed, recorded once, whatever the moment of the kill
            assert step.intent_enc is None
            for table, change in changed.items():  # and those counts are the rows that changed
                assert step.counts[table].get("deleted", 0) == change["deleted"], (table, step.counts[table])
                assert step.counts[table].get("updated", 0) == change["updated"], (table, step.counts[table])
            if boundary != "after_record":  # the step was taken up again, and the proof says so
                assert request.result.get("resumed") == ["shop_db"], boundary
    finally:
        run.close()
