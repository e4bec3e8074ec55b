"""Legal deadlines for data-subject requests, per jurisdiction profile (pipl, gdpr, ccpa).

Where a text can be read two ways, Privet takes the reading that gives the EARLIER date, so a request answered by
`due_on` is never late under either reading. The decisions, with the wording they rest on:

PIPL (GB/T 35273-2020 §8.7 a): answer "within thirty days" (三十天内) of verifying the person's identity. The text
    says days, not working days, so the 30 are calendar days. Rectification, erasure and account closure: 15 PRC
    working days (the limit 《App违法违规收集使用个人信息行为认定方法》 (2019) sets for 更正、删除、注销, which the
    product brief adopts).
    Consent withdrawal: §8.7 a) allows 30 days, but withdrawal stops processing as erasure does and PIPL Art 15 asks
    for a convenient way to withdraw, so it gets the stricter 15 working days (earlier than 30 days, so it
    satisfies both). Complaints have no statutory limit; they get the general 30 days. Neither PIPL nor the
    standard allows an extension. Periods start the day after verification (Civil Code Art 201); the roll-over
    of a period ending on a holiday (Art 203) is not applied, because it only ever makes the date later.
GDPR (Art 12(3)): one month, extendable by two further months with a notice to the requester. The month ends on
    the same day-number in the next month, or that month's last day (Reg 1182/71 Art 3(2)(c): 31 Jan → 28/29 Feb).
    The clock starts at verification (EDPB Guidelines 01/2022: the period runs once the controller can identify
    the person). Art 3(4)'s move past weekends and holidays is not applied (holidays differ by member state).
CCPA (Civ. Code §1798.130(a)(2); Regs §7021): 45 calendar days, extendable once by 45 with notice; receipt
    acknowledged within 10 business days. The 45 days run from RECEIPT, "regardless of time required to verify"
    (§7021(b)): pass `received_on` to `due_on`. Opt-outs of sale/sharing and limits on sensitive data (here:
    withdrawal, restriction) are honoured within 15 business days of receipt (§7026(f), §7027(g)), not extendable.
    Business days are Monday to Friday; US holidays are not skipped (that could only make a date later).
"""

from __future__ import annotations

import calendar
import logging
from datetime import date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import chinese_calendar

from privet.kit.errors import InvalidInput
from privet.requests.models import TYPES

log = logging.getLogger(__name__)

PROFILES = ("pipl", "gdpr", "ccpa")
FAST_PIPL = frozenset({"rectification", "erasure", "closure", "withdrawal"})  # 15 PRC working days
OPT_OUT_CCPA = frozenset({"withdrawal", "restriction"})  # 15 business days, no extension
# The day a moment falls on, for each profile's home zone (GDPR: the EU's most common zone, CET/CEST).
ZONES = {
    "pipl": ZoneInfo("Asia/Shanghai"),
    "gdpr": ZoneInfo("Europe/Brussels"),
    "ccpa": ZoneInfo("America/Los_Angeles"),
}


def _profile(profile: str) -> str:
    key = (profile or "").strip().lower()
    if key not in PROFILES:
        raise InvalidInput(f"Unknown jurisdiction profile {profile!r}", f"use one of {', '.join(PROFILES)}")
    return key


def _request_type(request_type: str) -> str:
    if request_type not in TYPES:
        raise InvalidInput(f"Unknown request type {request_type!r}", f"use one of {', '.join(TYPES)}")
    return request_type


def day_of(profile: str, moment: datetime) -> date:
    """The calendar day `moment` (a UTC or aware datetime) falls on in the profile's home time zone."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo("UTC"))
    return aware.astimezone(ZONES[_profile(profile)]).date()


def is_prc_working_day(day: date) -> bool:
    """True on a PRC working day: holidays (e.g. the National Day week) are off, adjusted weekends are on."""
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        # The State Council publishes each year's schedule late in the year before; until chinese-calendar
        # carries it, count Monday to Friday and say so (upgrade chinese-calendar to fix).
        _warn_no_calendar(day.year)
        return day.weekday() < 5


@cache
def _warn_no_calendar(year: int) -> None:
    log.warning("chinese-calendar has no holiday data for %s; counting Monday to Friday", year)


def is_business_day(day: date) -> bool:
    """True on a US business day as counted here: Monday to Friday."""
    return day.weekday() < 5


def add_working_days(start: date, n: int, *, profile: str = "pipl") -> date:
    """The `n`th working day after `start` (start itself not counted); PRC calendar, or Mon–Fri for ccpa/gdpr."""
    if n < 0:
        raise InvalidInput("The number of working days cannot be negative", "pass 0 or more")
    working = is_prc_working_day if _profile(profile) == "pipl" else is_business_day
    day = start
    while n > 0:
        day += timedelta(days=1)
        if working(day):
            n -= 1
    return day


def working_days_between(start: date, end: date, *, profile: str = "pipl") -> int:
    """Working days after `start` up to and including `end` (negative when `end` is before `start`)."""
    working = is_prc_working_day if _profile(profile) == "pipl" else is_business_day
    low, high, sign = (start, end, 1) if end >= start else (end, start, -1)
    count = sum(1 for i in range(1, (high - low).days + 1) if working(low + timedelta(days=i)))
    return sign * count


def add_months(start: date, months: int) -> date:
    """Same day-number `months` later, or that month's last day when it has no such day (Reg 1182/71 Art 3)."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def due_on(profile: str, request_type: str, verified_on: date, *, received_on: date | None = None) -> date:
    """The legal deadline of a request verified on `verified_on` (CCPA counts from `received_on` when given)."""
    profile, request_type = _profile(profile), _request_type(request_type)
    if profile == "pipl":
        if request_type in FAST_PIPL:
            return add_working_days(verified_on, 15)
        return verified_on + timedelta(days=30)
    if profile == "gdpr":
        return add_months(verified_on, 1)
    start = received_on or verified_on  # §7021(b): from receipt, regardless of the time verification takes
    if request_type in OPT_OUT_CCPA:
        return add_working_days(start, 15, profile="ccpa")
    return start + timedelta(days=45)


def extended_due(profile: str, request_type: str, due: date, *, already_extended: bool = False) -> date:
    """The deadline after the one extension the profile allows; InvalidInput where none is allowed."""
    profile, request_type = _profile(profile), _request_type(request_type)
    if already_extended:
        raise InvalidInput(
            "This request's deadline was already extended", "the law allows one extension; answer by the extended date"
        )
    if profile == "pipl":
        raise InvalidInput(
            "PIPL and GB/T 35273-2020 allow no extension of the deadline",
            "answer by the due date, or refuse with a reason code if a ground applies",
        )
    if profile == "gdpr":
        return add_months(due, 2)  # Art 12(3): "by two further months", told to the person within the first
    if request_type in OPT_OUT_CCPA:
        raise InvalidInput(
            "CCPA opt-out and limit requests cannot be extended",
            "honour them within 15 business days of receipt (CCPA Regs §7026(f), §7027(g))",
        )
    return due + timedelta(days=45)


def acknowledge_by(profile: str, received_on: date) -> date | None:
    """The date receipt must be confirmed by (CCPA: 10 business days); None where no law sets one."""
    if _profile(profile) == "ccpa":
        return add_working_days(received_on, 10, profile="ccpa")
    return None


def days_left(due: date, today: date) -> int:
    """Calendar days from `today` to `due`: 0 on the day, negative once overdue."""
    return (due - today).days
