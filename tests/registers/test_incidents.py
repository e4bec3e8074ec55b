"""Incidents (P26): the clocks (4 h / 1 h / 72 h) from the discovery time, overdue detection, draft notices."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from faker import Faker
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from privet.kit.errors import Conflict, InvalidInput
from privet.registers import incidents, incidents_notices
from privet.registers.incidents_models import Incident
from tests.reports.datamap import apply_datamap

FOUND = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


@pytest.fixture
def mapped(db: Session, tmp_path: Path) -> Session:
    apply_datamap(db, tmp_path / "dm")
    return db


def _record(db: Session, **kw) -> Incident:
    args = {
        "actor": "test",
        "title": "Support mailbox exposed",
        "severity": "relatively_major",
        "discovered_at": FOUND,
        "occurred_at": FOUND - timedelta(hours=20),
        "categories": ["user.contact.email", "user.biometric.face"],
        "subjects_affected": 1234,
        "facts": {
            "what_happened": {
                "en": "A misconfigured support mailbox was readable from the internet.",
                "zh_CN": "一个配置错误的客服邮箱可从互联网访问。",
            },
            "measures": {"en": "We closed public access and reset all credentials."},
        },
        **kw,
    }
    return incidents.record_incident(db, **args)


def _clock(incident: Incident, key: str) -> incidents.Clock:
    return next(c for c in incidents.clocks(incident) if c.key == key)


def test_prc_four_hours_for_larger_incidents(mapped: Session) -> None:
    incident = _record(mapped)
    assert incident.regimes == ["prc"]  # the data map's PIPL profile
    clock = _clock(incident, "prc_regulator")
    assert clock.due_at == FOUND + timedelta(hours=4) and clock.hours == 4
    assert "4 h" in clock.rule and "Reporting Management Measures" in clock.rule and "2025" in clock.rule
    assert clock.state(FOUND + timedelta(hours=4)) == "due"
    assert clock.state(FOUND + timedelta(hours=4, seconds=1)) == "overdue"


def test_prc_one_hour_for_critical_operators(mapped: Session) -> None:
    clock = _clock(_record(mapped, ciio=True), "prc_regulator")
    assert clock.due_at == FOUND + timedelta(hours=1) and "1 h" in clock.rule


def test_a_general_incident_has_no_prc_clock(mapped: Session) -> None:
    assert incidents.clocks(_record(mapped, severity="general")) == []


def test_a_critical_operator_reports_even_a_general_incident_within_one_hour(mapped: Session) -> None:
    clock = _clock(_record(mapped, severity="general", ciio=True), "prc_regulator")
    assert clock.due_at == FOUND + timedelta(hours=1)
    assert clock.state(FOUND + timedelta(minutes=61)) == "overdue"


def test_gdpr_72_hours_and_people_without_undue_delay(mapped: Session) -> None:
    incident = _record(mapped, regimes=["prc", "gdpr"], high_risk=True)
    gdpr = _clock(incident, "gdpr_authority")
    assert gdpr.due_at == datetime(2026, 3, 5, 9, 30, tzinfo=UTC) and "Art 33" in gdpr.rule
    people = _clock(incident, "people")
    assert people.due_at is None and people.state(FOUND) == "asap"


def test_due_listing_orders_overdue_first_and_drops_done_clocks(mapped: Session) -> None:
    incident = _record(mapped, regimes=["prc", "gdpr"], high_risk=True)
    now = FOUND + timedelta(hours=5)
    listed = [(i.reference, c.key, state) for i, c, state in incidents.due(mapped, now=now)]
    assert listed == [
        (incident.reference, "prc_regulator", "overdue"),
        (incident.reference, "gdpr_authority", "due"),
        (incident.reference, "people", "asap"),
    ]
    incidents.mark_notified(mapped, incident.reference, "prc_regulator", actor="test", at=FOUND + timedelta(hours=3))
    assert _clock(incident, "prc_regulator").state(now) == "done"
    assert [c.key for _, c, _ in incidents.due(mapped, now=now)] == ["gdpr_authority", "people"]
    with pytest.raises(Conflict):
        incidents.mark_notified(mapped, incident.reference, "prc_regulator", actor="test")
    with pytest.raises(InvalidInput, match="No 'ccpa' clock"):
        incidents.mark_notified(mapped, incident.reference, "ccpa", actor="test")
    incidents.close_incident(mapped, incident.reference, actor="test")
    assert incidents.due(mapped, now=now) == []


def test_bad_input_is_refused_and_nothing_recorded(mapped: Session) -> None:
    fake = Faker()
    for kw, word in (
        ({"severity": "huge"}, "severity"),
        ({"categories": ["user.nope"]}, "category"),
        ({"occurred_at": FOUND + timedelta(hours=1)}, "after it was discovered"),
        ({"facts": {"what_happened": {"en": f"Leak of {fake.email()}"}}}, "e-mail"),
        ({"facts": {"what_happened": {"en": "Leak of 110101199003074514's record"}}}, "identity card"),
        ({"title": f"Call +86 138 {fake.numerify('#### ####')}"}, "phone"),
        ({"facts": {"measures": {"en": "x"}}}, "what happened"),
    ):
        with pytest.raises(InvalidInput, match=word):
            _record(mapped, **kw)
    assert mapped.execute(select(func.count()).select_from(Incident)).scalar_one() == 0


def test_dates_in_free_text_are_not_mistaken_for_phone_numbers(mapped: Session) -> None:
    incident = _record(
        mapped, facts={"what_happened": {"en": "Between 2026-03-01 10:00 and 2026-03-02 09:00 a backup was readable."}}
    )
    assert incident.reference.startswith("I-")


def test_draft_notices_in_both_languages_carry_the_facts_and_no_personal_data(mapped: Session) -> None:
    from privet.subjects.models import Subject

    mapped.add(Subject(subject_type="customer"))
    incident = _record(mapped, high_risk=True, regimes=["prc", "gdpr"])
    notes = {(d["audience"], d["language"]): d for d in incidents_notices.drafts(mapped, incident)}
    assert set(notes) == {("people", "en"), ("people", "zh_CN"), ("regulator", "en"), ("regulator", "zh_CN")}
    en, zh = notes[("people", "en")]["body"], notes[("people", "zh_CN")]["body"]
    assert "A misconfigured support mailbox" in en and "Email address" in en and "Facial recognition features" in en
    assert "We closed public access" in en and "Acme Devices" in notes[("people", "en")]["subject"]
    assert "Personal Information Protection Officer (privacy@acme.example, +86 10 5555 0100)" in en
    assert "2026-03-02 09:30 UTC" in en and "be careful" in en.lower()
    assert "一个配置错误的客服邮箱" in zh and "电子邮件地址" in zh and "2026-03-02 17:30（北京时间）" in zh
    assert "［待翻译］We closed public access" in zh  # no Chinese text given: flagged for translation
    reg_en, reg_zh = notes[("regulator", "en")]["body"], notes[("regulator", "zh_CN")]["body"]
    assert "1,234" in reg_en and incident.reference in reg_en and "relatively major (较大)" in reg_en
    assert "within 4 hours of discovery" in reg_en and "2026-03-02 13:30 UTC" in reg_en and "Art 33" in reg_en
    assert (
        "2026-03-05 09:30 UTC" in reg_en
        and "Sensitive personal information involved: Facial recognition features" in reg_en
    )
    assert "较大" in reg_zh and "1,234" in reg_zh and "所在地省级网信部门" in reg_zh and "4小时内报告" in reg_zh
    for d in notes.values():
        text = d["subject"] + d["body"]
        assert "[to be completed]" not in text and "［待补充］" not in text
        for name, pattern in incidents._PERSONAL:
            found = [m for m in pattern.findall(text) if m not in ("privacy@acme.example", "+86 10 5555 0100")]
            assert not found, (name, found)
        assert "{" not in text and "}" not in text
