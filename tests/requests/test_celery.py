"""Requests run by real Celery workers (Redis and RabbitMQ): a worker killed while a step is inside the datastore
leaves the step running; a new worker takes it up once the lease runs out and finishes without erasing twice."""

from __future__ import annotations

import json
import secrets
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from privet.db.engine import session_scope
from privet.jobs import broker as job_broker
from privet.jobs import dispatch
from privet.kit.crypto import Keyring
from privet.requests.execution import executor
from privet.requests.models import DsrRequest
from privet.settings import Settings
from tests.jobs.conftest import SECRET, make_shared_store
from tests.jobs.processes import WorkerProcess, wait_for
from tests.requests.shop import ADDRESSES, ORDERS, build_shop, write_datamap
from tests.support.brokers import broker, purge_queue
from tests.support.services import create_pg_database


@pytest.fixture
def queue(monkeypatch: pytest.MonkeyPatch) -> str:
    name = f"privet-test-{secrets.token_hex(4)}"
    monkeypatch.setattr(job_broker, "QUEUE", name)
    return name


def _status(store, reference: str) -> tuple[str, list]:
    with store.sessionmaker() as session:
        request = session.scalars(sa.select(DsrRequest).where(DsrRequest.reference == reference)).one()
        return request.status, [(s.status, s.attempts, s.last_error) for s in request.steps]


@pytest.mark.parametrize(("broker_kind", "store_kind"), [("redis", "postgresql"), ("rabbitmq", "sqlite")])
def test_celery_runs_requests_and_resumes_a_killed_step(
    broker_kind: str, store_kind: str, queue: str, tmp_path: Path
) -> None:
    from privet.datamap.service import validate_and_apply
    from privet.requests.intake.service import file_request
    from privet.requests.intake.verify import record_identity_check

    url = broker(broker_kind)
    store, drop_store = make_shared_store(store_kind, tmp_path)
    shop_url, drop_shop = create_pg_database()
    try:
        shop = build_shop(shop_url)
        settings = Settings(
            data_dir=tmp_path / "var",
            secret_key=SECRET,
            database_url=store.url,
            jobs_backend="celery",
            jobs_broker_url=url,
            jobs_lease_seconds=5,
            jobs_retry_seconds=0.2,
            secrets={"shop_db": shop_url},
            mail_sender="console",
            sms_sender="console",
        )
        keyring = Keyring.from_settings(settings)
        env = {
            "PRIVET_DATABASE_URL": store.url,
            "PRIVET_SECRET_KEY": SECRET,
            "PRIVET_DATA_DIR": str(tmp_path / "var"),
            "PRIVET_JOBS_BACKEND": "celery",
            "PRIVET_JOBS_BROKER_URL": url,
            "PRIVET_JOBS_LEASE_SECONDS": "5",
            "PRIVET_JOBS_RETRY_SECONDS": "0.2",
            "PRIVET_SECRETS": json.dumps({"shop_db": shop_url}),
            "PRIVET_MAIL_SENDER": "console",
            "PRIVET_SMS_SENDER": "console",
        }
        erased, read = shop.customers[1], shop.customers[2]
        blocker = sa.create_engine(shop_url).connect()
        blocker.begin()
        blocker.execute(sa.text("LOCK TABLE addresses IN ACCESS EXCLUSIVE MODE"))  # the steps will wait inside
        with session_scope(store.sessionmaker) as session:
            session.info[dispatch.SETTINGS_KEY] = settings
            validate_and_apply(session, write_datamap(tmp_path / "datamap", shop.kind), actor="test")
            references = []
            for request_type, customer in (("erasure", erased), ("access", read)):
                request = file_request(
                    session,
                    keyring,
                    settings,
                    request_type=request_type,
                    identity_type="email",
                    identity=customer.email,
                    filed_by="test",
                )
                record_identity_check(
                    session, keyring, settings, request, method="id_document", note=None, actor="user:o"
                )
                references.append(request.reference)
        erasure_ref, _access_ref = references
        log = tmp_path / "celery.log"
        first = WorkerProcess(log, queue, env, "jobs", "celery", "--concurrency", "2", "--loglevel", "warning")
        try:
            wait_for(lambda: _status(store, erasure_ref)[1][0][0] == "running", "the erasure step to start", first)
            time.sleep(0.5)  # inside the datastore call, waiting on the lock
        finally:
            first.kill()
        blocker.rollback()
        blocker.close()
        assert _status(store, erasure_ref)[0] == "running"
        second = WorkerProcess(log, queue, env, "jobs", "celery", "--concurrency", "2", "--loglevel", "warning")
        try:
            wait_for(
                lambda: all(_status(store, r)[0] == "completed" for r in references),
                "both requests to complete after the lease ran out",
                second,
                seconds=60,
            )
        finally:
            second.kill()
        _, steps = _status(store, erasure_ref)
        assert steps == [("done", 2, executor.INTERRUPTED)]
        with store.sessionmaker() as session:
            result = session.scalars(sa.select(DsrRequest).where(DsrRequest.reference == erasure_ref)).one().result
        assert result["resumed"] == ["shop_db"] and result["backups_clear_by"]
        assert shop.count(ADDRESSES, customer_id=erased.id) == 0
        assert shop.count(ORDERS, customer_id=erased.id) == erased.orders  # retained, once
        assert shop.count(ADDRESSES, customer_id=read.id) == 1  # the access request only read
    finally:
        purge_queue(url, queue)
        drop_shop()
        drop_store()
