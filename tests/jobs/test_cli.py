"""`privet jobs list | retry | work --once | celery` against a store in a file."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from privet.db.engine import make_engine, make_sessionmaker, session_scope
from privet.jobs.models import Job
from privet.jobs.service import enqueue
from tests.conftest import PrivetCli
from tests.jobs.handlers import CALLS


@pytest.fixture
def store(privet: PrivetCli, cli_store: str) -> Iterator[Engine]:
    """The store `privet db upgrade` just migrated."""
    engine = make_engine(cli_store)
    yield engine
    engine.dispose()


def add_job(engine: Engine, kind: str, **kw) -> str:
    with session_scope(make_sessionmaker(engine)) as session:
        return enqueue(session, kind, {"request_id": "r-9"}, **kw).id


def status_of(engine: Engine, job_id: str) -> str:
    with make_sessionmaker(engine)() as session:
        return session.get(Job, job_id).status


@pytest.mark.parametrize("cli_store", ["sqlite"], indirect=True)
def test_list_work_once_and_retry(store: Engine, privet: PrivetCli) -> None:
    cli = privet
    ok, failing = add_job(store, "test.record"), add_job(store, "test.fail", max_attempts=1)
    listed = cli("jobs", "list")
    assert listed.exit_code == 0 and ok in listed.output and "test.fail" in listed.output

    worked = cli("jobs", "work", "--once")
    assert worked.exit_code == 0 and "ran " in worked.output
    assert (status_of(store, ok), status_of(store, failing)) == ("done", "failed")
    assert (ok, 1) in CALLS

    failed = cli("jobs", "list", "--status", "failed")
    assert failing in failed.output and ok not in failed.output and "ValueError: datastore crm is down" in failed.output
    assert cli("jobs", "retry", failing).exit_code == 0
    assert status_of(store, failing) == "queued"
    again = cli("jobs", "retry", failing)
    assert again.exit_code == 2 and "not failed" in again.stderr
    assert cli("jobs", "retry", "nope").exit_code == 2
    assert cli("jobs", "list", "--status", "sleeping").exit_code == 2


@pytest.mark.parametrize("cli_store", ["sqlite"], indirect=True)
def test_celery_worker_needs_the_celery_backend_and_a_broker(
    privet: PrivetCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    from privet.settings import get_settings

    cli = privet
    inline = cli("jobs", "celery")
    assert inline.exit_code == 2 and "PRIVET_JOBS_BACKEND=celery" in inline.stderr
    monkeypatch.setenv("PRIVET_JOBS_BACKEND", "celery")
    get_settings.cache_clear()
    no_broker = cli("jobs", "celery")
    assert no_broker.exit_code == 2 and "PRIVET_JOBS_BROKER_URL" in no_broker.stderr
    assert cli("jobs", "celery", "--pool", "gevent").exit_code == 2
