"""The Celery workers' sweep: re-send jobs whose message was lost and jobs whose worker died (no broker needed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from privet.jobs import dispatch
from privet.jobs.celery_backend import sweep, sweep_interval
from privet.jobs.models import Job
from privet.jobs.service import claim, enqueue
from privet.kit.clock import frozen_at
from privet.settings import Settings

T0 = datetime(2025, 6, 2, 8, 0, tzinfo=UTC)
GRACE = 2.0


def swept(db: Session, settings: Settings, at: datetime) -> list[str]:
    """Ids the sweep at `at` would send."""
    db.info.pop(dispatch.PENDING_KEY, None)
    with frozen_at(at):
        count = sweep(db, settings, grace_seconds=GRACE)
    ids = [job_id for job_id, _ in db.info.pop(dispatch.PENDING_KEY, [])]
    assert count == len(ids)
    return ids


def test_forgotten_and_abandoned_jobs_are_sent_again_once_per_lease(
    db: Session, session_factory, settings: Settings
) -> None:
    with frozen_at(T0):
        waiting = enqueue(db, "test.record", {})
        later = enqueue(db, "test.record", {}, run_at=T0 + timedelta(hours=1))
        abandoned = enqueue(db, "test.record", {})
        db.commit()
    with frozen_at(T0):
        taken = claim(session_factory, settings, worker="dead:1:a", job_id=abandoned.id)
    assert taken is not None
    assert swept(db, settings, T0 + timedelta(seconds=1)) == []  # its message is surely still on its way
    assert swept(db, settings, T0 + timedelta(seconds=3)) == [waiting.id]
    assert swept(db, settings, T0 + timedelta(seconds=4)) == []  # sent: not again before a lease has passed
    lease_over = T0 + timedelta(seconds=settings.jobs_lease_seconds + 3)
    assert sorted(swept(db, settings, lease_over)) == sorted([waiting.id, abandoned.id])
    db.refresh(abandoned)
    assert (abandoned.status, abandoned.worker, abandoned.attempts) == ("queued", None, 1)
    hour_later = swept(db, settings, T0 + timedelta(hours=1, seconds=3))
    assert sorted(hour_later) == sorted([waiting.id, abandoned.id, later.id])  # still nobody ran them
    assert db.get(Job, later.id).status == "queued"


def test_sweep_interval_follows_the_lease(settings: Settings) -> None:
    assert sweep_interval(settings) == 1.25
    assert sweep_interval(settings.model_copy(update={"jobs_lease_seconds": 3600})) == 30
