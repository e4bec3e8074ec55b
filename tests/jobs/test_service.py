"""The job interface on SQLite and PostgreSQL: enqueue, claim, done, back-off, failed, dedupe, retry, periodic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from privet.audit.models import AuditEvent
from privet.jobs import dispatch, registry
from privet.jobs.models import Job
from privet.jobs.service import (
    backoff_seconds,
    claim,
    enqueue,
    find_job,
    list_jobs,
    period_key,
    retry_job,
    run_one,
    run_until_idle,
    schedule_due,
)
from privet.kit.clock import frozen_at
from privet.kit.crypto import Keyring
from privet.kit.errors import Conflict, InvalidInput, NotFound
from privet.settings import Settings
from tests.jobs.handlers import CALLS

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


@pytest.fixture
def run(session_factory: sessionmaker[Session], settings: Settings):
    """`run()` runs due jobs until idle in this thread and returns how many ran."""
    keyring = Keyring.from_settings(settings)
    return lambda **kw: run_until_idle(session_factory, settings, keyring, **kw)


def test_enqueue_then_run_until_done(db: Session, run) -> None:
    with frozen_at(T0):
        job = enqueue(db, "test.record", {"request_id": "r1"})
        db.commit()
        assert (job.status, job.attempts, job.max_attempts, job.run_at) == ("queued", 0, 3, T0)
        assert run() == 1
    db.refresh(job)
    assert (job.status, job.attempts, job.finished_at, job.lease_until, job.last_error) == ("done", 1, T0, None, None)
    assert [(job.id, 1)] == CALLS
    assert run() == 0


def test_a_job_is_not_run_before_its_time(db: Session, run) -> None:
    with frozen_at(T0):
        job = enqueue(db, "test.record", {}, run_at=T0 + timedelta(minutes=5))
        db.commit()
        assert run() == 0
    with frozen_at(T0 + timedelta(minutes=5)):
        assert run() == 1
    assert [(job.id, 1)] == CALLS


def test_failures_back_off_then_fail_visibly(db: Session, run, settings: Settings) -> None:
    with frozen_at(T0):
        job = enqueue(db, "test.fail", {})
        db.commit()
        assert run() == 1
    db.refresh(job)
    assert (job.status, job.attempts, job.last_error) == ("queued", 1, "ValueError: datastore crm is down")
    assert job.run_at == T0 + timedelta(seconds=settings.jobs_retry_seconds)
    assert [backoff_seconds(settings, n) for n in (1, 2, 3)] == [2, 4, 8]
    with frozen_at(T0 + timedelta(seconds=1)):
        assert run() == 0  # still backing off
    with frozen_at(T0 + timedelta(seconds=2)):
        assert run() == 1
    db.refresh(job)
    assert (job.status, job.attempts, job.run_at) == ("queued", 2, T0 + timedelta(seconds=2 + 4))
    with frozen_at(T0 + timedelta(seconds=6)):
        assert run() == 1
    db.refresh(job)
    assert (job.status, job.attempts, job.finished_at) == ("failed", 3, T0 + timedelta(seconds=6))
    assert [attempt for _, attempt in CALLS] == [1, 2, 3]
    event = db.scalars(
        select(AuditEvent).where(AuditEvent.action == "job.failed", AuditEvent.object_id == job.id)
    ).one()
    assert event.details == {"kind": "test.fail", "attempts": 3, "error": "ValueError"}
    assert run() == 0


def test_a_job_succeeding_on_a_later_attempt_is_done(db: Session, run) -> None:
    with frozen_at(T0):
        job = enqueue(db, "test.fail", {"succeed_on": 2}, max_attempts=4)
        db.commit()
        run()
    with frozen_at(T0 + timedelta(minutes=1)):
        run()
    db.refresh(job)
    assert (job.status, job.attempts, job.max_attempts, job.last_error) == ("done", 2, 4, None)


def test_retry_asks_for_a_later_run_without_spending_an_attempt(db: Session, run) -> None:
    with frozen_at(T0):
        job = enqueue(db, "test.wait", {"times": 2, "after": 30})
        db.commit()
        assert run() == 1
    db.refresh(job)
    assert (job.status, job.attempts, job.run_at) == ("queued", 0, T0 + timedelta(seconds=30))
    assert job.last_error == "Retry: waiting for the callback"
    for minute in (1, 2):
        with frozen_at(T0 + timedelta(minutes=minute)):
            run()
    db.refresh(job)
    assert (job.status, job.attempts) == ("done", 1)
    assert [attempt for _, attempt in CALLS] == [1, 1, 1]


def test_unknown_kind_fails_like_any_error(db: Session, run) -> None:
    with frozen_at(T0):
        job = enqueue(db, "test.nobody_handles_this", {}, max_attempts=1)
        db.commit()
        run()
    db.refresh(job)
    assert job.status == "failed" and job.last_error.startswith("UnknownJobKind: no handler")


def test_expired_lease_is_claimed_again_and_a_lost_final_attempt_fails(
    db: Session, session_factory, settings: Settings
) -> None:
    with frozen_at(T0):
        job = enqueue(db, "test.record", {}, max_attempts=2)
        db.commit()
        first = claim(session_factory, settings, worker="host:1:a")  # then the process is killed
        assert first is not None and first.attempt == 1
        assert claim(session_factory, settings, worker="host:2:a") is None  # leased
    with frozen_at(T0 + timedelta(seconds=settings.jobs_lease_seconds + 1)):
        second = claim(session_factory, settings, worker="host:2:a")
        assert second is not None and (second.id, second.attempt) == (job.id, 2)
    with frozen_at(T0 + timedelta(seconds=2 * settings.jobs_lease_seconds + 2)):
        assert run_one(session_factory, settings, Keyring.from_settings(settings))  # the last attempt was lost
    db.refresh(job)
    assert (job.status, job.attempts) == ("failed", 2)
    assert job.last_error.startswith("WorkerLost")
    assert CALLS == []


@pytest.mark.parametrize("then", ["extend_lease", "last_block"])
def test_a_worker_that_lost_its_lease_does_not_record_an_outcome(
    db: Session, session_factory, settings: Settings, then: str
) -> None:
    keyring = Keyring.from_settings(settings)
    late = T0 + timedelta(seconds=settings.jobs_lease_seconds + 1)

    @registry.handler(f"test.taken_over_{then}")
    def slow(ctx, payload) -> None:
        with frozen_at(late):  # meanwhile the lease ran out and another worker took the job
            assert claim(session_factory, settings, worker="other:9:x", job_id=ctx.job_id) is not None
            if then == "extend_lease":
                assert ctx.extend_lease() is False
        if then == "last_block":  # a last block after the take-over must not mark the other worker's job done
            with ctx.session(last=True):
                pass

    with frozen_at(T0):
        job = enqueue(db, f"test.taken_over_{then}", {})
        db.commit()
        assert run_one(session_factory, settings, keyring, worker="me:1:y")
    db.refresh(job)
    assert (job.status, job.worker, job.attempts) == ("running", "other:9:x", 2)


def test_dedupe_returns_the_unfinished_job_and_frees_the_key_when_done(db: Session, run) -> None:
    first = enqueue(db, "test.record", {"n": 1}, dedupe_key="remind:r1")
    assert enqueue(db, "test.record", {"n": 2}, dedupe_key="remind:r1") is first
    db.commit()
    assert run() == 1
    second = enqueue(db, "test.record", {"n": 3}, dedupe_key="remind:r1")
    db.commit()
    db.refresh(first)
    assert second.id != first.id and first.dedupe_key is None and second.dedupe_key == "remind:r1"
    assert db.scalar(select(Job.id).where(Job.dedupe_key == "remind:r1")) == second.id


def test_bad_enqueue_arguments_are_refused(db: Session) -> None:
    with pytest.raises(InvalidInput):
        enqueue(db, "", {})
    with pytest.raises(InvalidInput):
        enqueue(db, "test.record", {}, max_attempts=0)


def test_retry_a_failed_job(db: Session, run) -> None:
    job = enqueue(db, "test.fail", {}, max_attempts=1)
    db.commit()
    run()
    with pytest.raises(Conflict):
        retry_job(db, enqueue(db, "test.record", {}).id, actor="test")
    again = retry_job(db, job.id, actor="user:officer")
    db.commit()
    assert (again.status, again.attempts, again.finished_at) == ("queued", 0, None)
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "job.retried")).one()
    assert (event.actor, event.object_id, event.details) == (
        "user:officer",
        job.id,
        {"kind": "test.fail", "previous_attempts": 1},
    )
    with pytest.raises(NotFound):
        retry_job(db, "nope", actor="test")
    with pytest.raises(NotFound):
        find_job(db, "nope")


def test_list_jobs_filters_and_pages(db: Session) -> None:
    with frozen_at(T0):
        older = [enqueue(db, "test.record", {"n": n}) for n in range(3)]
    with frozen_at(T0 + timedelta(seconds=1)):
        newest = enqueue(db, "test.fail", {})
    rows, total = list_jobs(db, limit=2)
    assert total == 4 and rows[0].id == newest.id and len(rows) == 2
    rows, total = list_jobs(db, kind="test.record", limit=2, offset=2)
    assert total == 3 and len(rows) == 1 and rows[0].id in {job.id for job in older}
    assert list_jobs(db, status="done") == ([], 0)
    with pytest.raises(InvalidInput):
        list_jobs(db, status="sleeping")


def test_schedule_due_enqueues_each_period_once(db: Session, run) -> None:
    ticks = lambda: db.scalars(select(Job).where(Job.kind == "test.tick").order_by(Job.created_at)).all()  # noqa: E731
    with frozen_at(T0):
        created = schedule_due(db)
        assert "test.tick" in {job.kind for job in created}
        assert schedule_due(db) == []
        db.commit()
        assert [job.dedupe_key for job in ticks()] == [period_key("test.tick", 60, T0)]
        first_tick = ticks()[0]
    with frozen_at(T0 + timedelta(seconds=59)):
        assert schedule_due(db) == []  # same minute, even after the first one finished
    db.execute(Job.__table__.update().where(Job.id == first_tick.id).values(status="done"))
    with frozen_at(T0 + timedelta(seconds=59)):
        assert schedule_due(db) == []
    with frozen_at(T0 + timedelta(seconds=60)):
        assert [job.kind for job in schedule_due(db) if job.kind == "test.tick"] == ["test.tick"]
    assert len(ticks()) == 2 and ticks()[1].payload == {"period": int(T0.timestamp()) // 60 + 1}


def test_announcement_waits_for_the_commit(db: Session) -> None:
    dispatch.WAKE.clear()
    job = enqueue(db, "test.record", {})
    assert not dispatch.WAKE.is_set() and db.info[dispatch.PENDING_KEY] == [(job.id, job.run_at)]
    db.commit()
    assert dispatch.WAKE.is_set() and dispatch.PENDING_KEY not in db.info
    dispatch.WAKE.clear()
    enqueue(db, "test.record", {})
    db.rollback()
    assert not dispatch.WAKE.is_set() and dispatch.PENDING_KEY not in db.info


def test_jobs_enqueued_by_a_job_run_too(db: Session, run) -> None:
    parent = enqueue(db, "test.enqueue_child", {})
    db.commit()
    assert run() == 2
    child = db.scalars(select(Job).where(Job.kind == "test.record")).one()
    assert child.payload == {"parent": parent.id} and child.status == "done"


def test_handler_modules_that_do_not_exist_yet_are_skipped() -> None:
    registry.load_handlers(("privet.jobs.no_such_module",))
    assert "jobs.purge_done" in registry.kinds()
    with pytest.raises(ModuleNotFoundError):
        registry.load_handlers(("tests.jobs.broken_handlers",))  # exists, but imports something missing
    with pytest.raises(ValueError, match="already has a handler"):
        registry.handler("test.record")(lambda ctx, payload: None)


def test_a_handlers_last_transaction_marks_the_job_done_with_its_effect(
    db: Session, session_factory, settings: Settings
) -> None:
    keyring, seen = Keyring.from_settings(settings), {}

    @registry.handler("test.last_block")
    def last_block(ctx, payload) -> None:
        with ctx.session(last=True) as session:
            enqueue(session, "test.record", {"from": ctx.job_id}, dedupe_key=f"child:{ctx.job_id}")
            # inside the block the row is still running: "done" commits together with the block's effect
            seen["inside"] = session.scalar(select(Job.status).where(Job.id == ctx.job_id))

    job = enqueue(db, "test.last_block", {})
    db.commit()
    assert run_one(session_factory, settings, keyring, job.id)
    db.refresh(job)
    assert seen["inside"] == "running"
    assert (job.status, job.attempts, job.lease_until, job.last_error) == ("done", 1, None, None)
    child = db.scalar(select(Job).where(Job.dedupe_key == f"child:{job.id}"))
    assert child is not None and child.status == "queued"


def test_a_last_block_that_fails_leaves_the_job_to_be_retried_and_keeps_nothing(
    db: Session, session_factory, settings: Settings
) -> None:
    keyring = Keyring.from_settings(settings)

    @registry.handler("test.last_block_fails")
    def last_block_fails(ctx, payload) -> None:
        with ctx.session(last=True) as session:
            enqueue(session, "test.record", {}, dedupe_key=f"child:{ctx.job_id}")
            raise ValueError("the datastore went away")

    with frozen_at(T0):
        job = enqueue(db, "test.last_block_fails", {})
        db.commit()
        assert run_one(session_factory, settings, keyring, job.id)
    db.refresh(job)
    assert (job.status, job.attempts, job.last_error) == ("queued", 1, "ValueError: the datastore went away")
    assert db.scalar(select(Job.id).where(Job.dedupe_key == f"child:{job.id}")) is None


def test_dedupe_in_one_transaction_keeps_one_live_job_and_releases_a_finished_ones_key(db: Session, run) -> None:
    first = enqueue(db, "test.record", {"n": 1}, dedupe_key="k")
    db.commit()
    assert run() == 1
    again = enqueue(db, "test.record", {"n": 2}, dedupe_key="k")  # the finished job gives its key up
    same = enqueue(db, "test.record", {"n": 3}, dedupe_key="k")  # the live one is returned
    assert same is again and again.id != first.id
    db.flush()
    rows = db.execute(select(Job.id, Job.dedupe_key, Job.status).order_by(Job.created_at, Job.id)).all()
    assert sorted((r.dedupe_key or "", r.status) for r in rows) == [("", "done"), ("k", "queued")]
    assert db.get(Job, again.id).payload == {"n": 2}
