"""Deadline arithmetic: PRC working days (holidays and adjusted weekends), GDPR month ends, CCPA 45 + 45 days."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta

import chinese_calendar
import pytest
from hypothesis import given
from hypothesis import strategies as st

from privet.kit.errors import InvalidInput
from privet.requests.law.deadlines import (
    acknowledge_by,
    add_months,
    add_working_days,
    day_of,
    days_left,
    due_on,
    extended_due,
    is_prc_working_day,
    working_days_between,
)
from privet.requests.models import TYPES


def test_the_calendar_knows_national_day_2026_and_its_working_saturday() -> None:
    golden_week = [date(2026, 10, d) for d in range(1, 8)]
    assert not any(chinese_calendar.is_workday(d) for d in golden_week)
    saturday = date(2026, 10, 10)
    assert saturday.weekday() == 5 and chinese_calendar.is_workday(saturday) and is_prc_working_day(saturday)


def test_pipl_fast_types_skip_the_national_day_week() -> None:
    # Verified Wed 30 Sep: working days are 8, 9, 10 (Sat, worked), 12-16, 19-23, 26, 27 October.
    for request_type in ("rectification", "erasure", "closure", "withdrawal"):
        assert due_on("pipl", request_type, date(2026, 9, 30)) == date(2026, 10, 27)
    # Verified during the holiday: counting starts with the first working day after it.
    assert due_on("pipl", "erasure", date(2026, 10, 3)) == date(2026, 10, 27)
    # Verified Fri 9 Oct: the adjusted Saturday 10 Oct is day 1, so the 15th day is Thu 29 (not Fri 30).
    assert due_on("pipl", "erasure", date(2026, 10, 9)) == date(2026, 10, 29)
    assert working_days_between(date(2026, 9, 30), date(2026, 10, 10)) == 3


def test_pipl_fast_types_skip_spring_festival_2026() -> None:
    # Holidays 15-23 Feb; Saturdays 14 and 28 Feb are worked.
    assert not any(is_prc_working_day(date(2026, 2, d)) for d in range(15, 24))
    assert is_prc_working_day(date(2026, 2, 14)) and is_prc_working_day(date(2026, 2, 28))
    assert due_on("pipl", "closure", date(2026, 2, 13)) == date(2026, 3, 12)
    assert working_days_between(date(2026, 2, 13), date(2026, 3, 12)) == 15


def test_pipl_other_types_get_thirty_calendar_days_without_extension() -> None:
    for request_type in ("access", "portability", "restriction", "explanation", "complaint"):
        assert due_on("pipl", request_type, date(2026, 9, 30)) == date(2026, 10, 30)
    # A 30th day inside the holiday stays put: the earlier date is never late.
    assert due_on("pipl", "access", date(2026, 9, 3)) == date(2026, 10, 3)
    with pytest.raises(InvalidInput, match="no extension"):
        extended_due("pipl", "access", date(2026, 10, 30))
    assert acknowledge_by("pipl", date(2026, 9, 30)) is None


@pytest.mark.parametrize(
    ("verified", "due"),
    [
        (date(2026, 1, 31), date(2026, 2, 28)),
        (date(2028, 1, 31), date(2028, 2, 29)),  # leap year
        (date(2028, 2, 29), date(2028, 3, 29)),
        (date(2026, 3, 31), date(2026, 4, 30)),
        (date(2026, 12, 31), date(2027, 1, 31)),
        (date(2026, 6, 15), date(2026, 7, 15)),
    ],
)
def test_gdpr_one_month_uses_the_same_day_or_the_month_end(verified: date, due: date) -> None:
    assert due_on("gdpr", "access", verified) == due
    assert due_on("gdpr", "erasure", verified) == due


def test_gdpr_extension_by_two_further_months() -> None:
    assert extended_due("gdpr", "access", date(2026, 2, 28)) == date(2026, 4, 28)
    assert extended_due("gdpr", "erasure", date(2026, 4, 30)) == date(2026, 6, 30)
    assert extended_due("gdpr", "access", date(2026, 12, 31)) == date(2027, 2, 28)
    with pytest.raises(InvalidInput, match="already extended"):
        extended_due("gdpr", "access", date(2026, 4, 28), already_extended=True)
    assert acknowledge_by("gdpr", date(2026, 1, 5)) is None
    assert add_months(date(2026, 1, 31), 13) == date(2027, 2, 28)


def test_ccpa_45_days_from_receipt_plus_45_once() -> None:
    received, verified = date(2026, 3, 3), date(2026, 3, 10)
    assert due_on("ccpa", "access", verified, received_on=received) == date(2026, 4, 17)
    assert due_on("ccpa", "erasure", verified) == date(2026, 4, 24)  # no receipt date: from verification
    assert extended_due("ccpa", "access", date(2026, 4, 17)) == date(2026, 6, 1)
    with pytest.raises(InvalidInput, match="already extended"):
        extended_due("ccpa", "access", date(2026, 6, 1), already_extended=True)


def test_ccpa_acknowledgement_within_ten_business_days() -> None:
    assert acknowledge_by("ccpa", date(2026, 11, 20)) == date(2026, 12, 4)  # Fri → Fri two weeks later
    assert acknowledge_by("ccpa", date(2026, 11, 21)) == date(2026, 12, 4)  # received on a Saturday
    assert working_days_between(date(2026, 11, 20), date(2026, 12, 4), profile="ccpa") == 10


def test_ccpa_opt_outs_take_15_business_days_and_cannot_be_extended() -> None:
    assert due_on("ccpa", "withdrawal", date(2026, 3, 10), received_on=date(2026, 3, 3)) == date(2026, 3, 24)
    with pytest.raises(InvalidInput, match="cannot be extended"):
        extended_due("ccpa", "restriction", date(2026, 3, 24))


def test_bad_profile_and_type_are_clear_errors() -> None:
    with pytest.raises(InvalidInput, match="profile") as bad_profile:
        due_on("lgpd", "access", date(2026, 1, 1))
    assert "pipl" in bad_profile.value.hint
    with pytest.raises(InvalidInput, match="request type"):
        due_on("pipl", "teleport", date(2026, 1, 1))
    with pytest.raises(InvalidInput, match="negative"):
        add_working_days(date(2026, 1, 1), -1)


def test_every_type_has_a_deadline_under_every_profile() -> None:
    verified = date(2026, 5, 6)
    for profile in ("pipl", "gdpr", "ccpa"):
        for request_type in TYPES:
            assert verified < due_on(profile, request_type, verified) <= verified + timedelta(days=45)


def test_days_left_and_day_of() -> None:
    assert days_left(date(2026, 10, 27), date(2026, 10, 20)) == 7
    assert days_left(date(2026, 10, 27), date(2026, 10, 27)) == 0
    assert days_left(date(2026, 10, 27), date(2026, 10, 30)) == -3
    moment = datetime(2026, 9, 30, 17, 0, tzinfo=UTC)  # 01:00 on 1 October in Beijing
    assert day_of("pipl", moment) == date(2026, 10, 1)
    assert day_of("ccpa", moment) == date(2026, 9, 30)
    assert day_of("gdpr", moment.replace(tzinfo=None)) == date(2026, 9, 30)


def test_a_year_the_calendar_does_not_cover_falls_back_to_weekdays(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        assert add_working_days(date(2099, 6, 5), 1) == date(2099, 6, 8)  # Fri → Mon
    assert "chinese-calendar" in caplog.text


@given(st.dates(min_value=date(2005, 1, 1), max_value=date(2026, 10, 1)), st.integers(0, 40))
def test_working_day_arithmetic_round_trips(start: date, n: int) -> None:
    end = add_working_days(start, n)
    assert working_days_between(start, end) == n
    assert n == 0 or is_prc_working_day(end)
    assert working_days_between(end, start) == -n
