"""Impact assessments (PIPL Art 55, 56): drafts for the right activities only, questionnaire, conclusion kept
at least three years."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from privet.kit.errors import Conflict, InvalidInput
from privet.reports import pia
from tests.reports.datamap import PIA_TRIGGERS, apply_datamap


@pytest.fixture
def mapped(db: Session, tmp_path: Path) -> Session:
    apply_datamap(db, tmp_path / "dm")
    return db


def test_drafts_for_the_right_activities_only(mapped: Session) -> None:
    created = pia.sync_drafts(mapped, actor="test")
    assert {r.activity_key: r.triggers for r in created} == PIA_TRIGGERS
    assert all(r.status == "draft" and r.datamap_version == 1 for r in created)
    assert pia.sync_drafts(mapped, actor="test") == []  # idempotent


def test_no_drafts_without_a_data_map(db: Session) -> None:
    assert pia.sync_drafts(db, actor="test") == []


def _answer_all(db: Session, reference: str) -> None:
    row = pia.get_assessment(db, reference)
    pia.answer(db, reference, {k: f"Answer to {k}." for k, _ in pia.questions_for(row.triggers)}, actor="test")


def test_questionnaire_and_conclusion_with_three_years_retention(mapped: Session) -> None:
    drafts = {r.activity_key: r for r in pia.sync_drafts(mapped, actor="test")}
    face = drafts["face_login"]
    keys = [k for k, _ in pia.questions_for(face.triggers)]
    assert "sensitive_data" in keys and "cross_border" not in keys and "lawful_purpose" in keys
    with pytest.raises(InvalidInput, match="not a question"):
        pia.answer(mapped, face.reference, {"cross_border": "n/a"}, actor="test")
    pia.answer(mapped, face.reference, {"lawful_purpose": "Yes: login."}, actor="test")
    with pytest.raises(InvalidInput, match="unanswered"):
        pia.conclude(mapped, face.reference, outcome="acceptable", conclusion="Fine.", actor="test")
    _answer_all(mapped, face.reference)
    with pytest.raises(InvalidInput, match="outcome"):
        pia.conclude(mapped, face.reference, outcome="great", conclusion="Fine.", actor="test")
    with pytest.raises(InvalidInput, match="three years"):
        pia.conclude(mapped, face.reference, outcome="acceptable", conclusion="Fine.", actor="test", retain_years=2)
    done = pia.conclude(
        mapped,
        face.reference,
        outcome="acceptable_with_measures",
        conclusion="Keep templates only, never images.",
        actor="test",
        at=datetime(2026, 3, 10, 8, tzinfo=UTC),
    )
    assert done.status == "concluded" and done.retain_until == date(2029, 3, 10)
    shown = pia.as_dict(done)
    assert (
        shown["questions"][0]["answer"] == "Answer to lawful_purpose."
        and shown["outcome"] == "acceptable_with_measures"
    )
    with pytest.raises(Conflict):
        pia.answer(mapped, face.reference, {"impact": "late"}, actor="test")
    for today in (date(2026, 3, 10), date(2029, 3, 9)):
        with pytest.raises(Conflict, match="must be kept until 2029-03-10"):
            pia.delete(mapped, face.reference, actor="test", today=today)
    assert pia.get_assessment(mapped, face.reference).status == "concluded"
    assert pia.sync_drafts(mapped, actor="test") == []  # concluded and still covering the activity
    pia.delete(mapped, face.reference, actor="test", today=date(2029, 3, 10))
    with pytest.raises(Exception, match="No impact assessment"):
        pia.get_assessment(mapped, face.reference)


def test_leap_day_conclusion_keeps_until_1_march() -> None:
    assert pia._plus_years(date(2028, 2, 29), 3) == date(2031, 3, 1)


def test_the_recurring_job_drafts_assessments(mapped: Session) -> None:
    import contextlib

    from privet.jobs.registry import get_handler, load_handlers, periodic_jobs

    load_handlers(("privet.reports.tasks",))
    assert "reports.pia_drafts" in {p.kind for p in periodic_jobs()}

    class Ctx:
        @contextlib.contextmanager
        def session(self):
            yield mapped

    assert get_handler("reports.pia_drafts")(Ctx(), {}) == {"drafted": len(PIA_TRIGGERS)}
    assert get_handler("reports.pia_drafts")(Ctx(), {}) == {"drafted": 0}


def test_children_and_storage_abroad_are_triggers_too(db: Session, tmp_path: Path) -> None:
    from privet.datamap.service import validate_and_apply
    from tests.reports.datamap import write_datamap

    path = write_datamap(tmp_path / "dm")
    text = path.read_text().replace(
        "    subject_types: [customer]\n    datasets: [app]\n    storage_locations: [CN]",
        "    subject_types: [customer, child]\n    datasets: [app]\n    storage_locations: [CN, SG]",
    )
    path.write_text(text)
    validate_and_apply(db, path, actor="test")
    drafts = {r.activity_key: r.triggers for r in pia.sync_drafts(db, actor="test")}
    assert drafts["orders"] == ["sensitive_data", "cross_border"]
