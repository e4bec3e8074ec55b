"""The projection maintained record by record equals the projection rebuilt from the ledger (property test)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from privet.consent.ledger import projection
from privet.consent.ledger import service as ledger
from privet.consent.models import ConsentRecord, ConsentState
from privet.kit.clock import utcnow

pytestmark = pytest.mark.usefixtures("keptek")

CONSENT = ["given", "refused", "withdrawn", "renewed", "expired"]
OBJECTION = ["objected", "restricted", "lifted"]
# (purpose, events that fit it): two consent purposes and one contract purpose
CHOICES = [("marketing.communications", CONSENT), ("analytics.usage", CONSENT), ("service.order", OBJECTION)]
operation = st.tuples(
    st.integers(0, 2),  # holder: two subjects and a visitor
    st.integers(0, len(CHOICES) - 1),
    st.integers(0, 4),
    st.integers(0, 6),
)  # hours back: few values, so equal times (ties broken by seq) happen


def _snapshot(db: Session) -> set[tuple]:
    rows = db.execute(select(ConsentState).execution_options(populate_existing=True)).scalars()
    return {
        tuple(getattr(r, c) if c != "categories" else tuple(r.categories) for c in projection.COLUMNS) for r in rows
    }


def _expected(db: Session) -> dict[tuple[str, str], int]:
    """The model: per holder and purpose, the seq of the record with the greatest (at, seq)."""
    best: dict[tuple[str, str], tuple] = {}
    for r in db.execute(select(ConsentRecord)).scalars():
        key = (projection.holder_of(r), r.purpose)
        if key not in best or (r.at, r.seq) > best[key]:
            best[key] = (r.at, r.seq)
    return {k: v[1] for k, v in best.items()}


def test_maintained_projection_equals_rebuilt(db: Session, make_subject) -> None:
    subjects = [make_subject().id, make_subject().id]
    base = utcnow().replace(microsecond=0)

    @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(operation, min_size=1, max_size=25))
    def check(ops: list[tuple[int, int, int, int]]) -> None:
        savepoint = db.begin_nested()
        try:
            for holder, choice, event_index, hours_back in ops:
                purpose, events = CHOICES[choice]
                who = {"visitor_id": "visitor-abcdef01"} if holder == 2 else {"subject_id": subjects[holder]}
                if holder == 2 and purpose == "service.order":
                    purpose, events = CHOICES[0]
                ledger.record(
                    db,
                    purpose=purpose,
                    event=events[event_index % len(events)],
                    method="import",
                    actor="test",
                    at=base - timedelta(hours=hours_back),
                    **who,
                )
            maintained = _snapshot(db)
            assert {(h, p): s for h, p, _e, s, *_ in maintained} == _expected(db)
            projection.rebuild(db, batch=7)
            assert _snapshot(db) == maintained
        finally:
            savepoint.rollback()

    check()


def test_rebuild_of_an_empty_ledger_and_merge_of_an_import_range(db: Session, make_subject) -> None:
    assert projection.rebuild(db) == 0
    subject = make_subject()
    newer = ledger.record(
        db, subject_id=subject.id, purpose="analytics.usage", event="withdrawn", method="api", actor="test"
    )
    # a backdated row written in bulk (as the importer does), then merged by seq range
    before = projection.max_seq(db)
    db.add(
        ConsentRecord(
            id="imported000000000000000001",
            subject_id=subject.id,
            purpose="analytics.usage",
            categories=[],
            legal_basis="consent",
            event="given",
            at=utcnow() - timedelta(days=30),
            recorded_at=utcnow(),
            method="import",
            actor="test",
            evidence={},
        )
    )
    db.flush()
    projection.merge_range(db, before, projection.max_seq(db))
    assert projection.state(db, f"s:{subject.id}", "analytics.usage").record_seq == newer.seq
    assert projection.rebuild(db) == 1
    assert projection.state(db, f"s:{subject.id}", "analytics.usage").event == "withdrawn"
