"""The dashboard's figures: open requests by deadline, consent rates by purpose per week, visitors sending GPC.

Portable queries (SQLite and PostgreSQL): one grouped count per week rather than dialect-specific date functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from privet.consent.models import ConsentRecord
from privet.kit.clock import utcnow
from privet.requests import service
from privet.requests.models import DsrRequest
from privet.requests.queries import DUE

WEEKS = 8
MAX_PURPOSES = 6
YES = ("given", "renewed")
NO = ("refused", "withdrawn", "expired")


def today(session: Session) -> date:
    """Today in the organisation profile's time zone (deadlines are days there)."""
    from privet.requests.deadlines import day_of

    return day_of(service.organisation_profile(session), utcnow())


@dataclass
class Deadlines:
    overdue: int
    this_week: int
    later: int
    unverified: int
    pending_approval: int


def deadlines(session: Session, on: date) -> Deadlines:
    """Counts of open requests: past their deadline, due within 7 days, later, and not yet verified."""
    rows = session.execute(select(DsrRequest.status, DUE).where(DsrRequest.status.in_(service.OPEN))).all()
    active = [(status, due) for status, due in rows if status in service.ACTIVE]
    week_end = on + timedelta(days=7)
    return Deadlines(overdue=sum(1 for _s, due in active if due is not None and due < on),
                     this_week=sum(1 for _s, due in active if due is not None and on <= due <= week_end),
                     later=sum(1 for _s, due in active if due is None or due > week_end),
                     unverified=sum(1 for status, _d in rows if status == "unverified"),
                     pending_approval=sum(1 for status, _d in active if status == "pending_approval"))


def open_by_deadline(session: Session, limit: int = 15) -> list[DsrRequest]:
    """Open verified requests, soonest deadline first."""
    return list(session.scalars(select(DsrRequest).where(DsrRequest.status.in_(service.ACTIVE))
                                .order_by(DUE, DsrRequest.received_at).limit(limit)))


def weeks(now: datetime | None = None) -> list[tuple[datetime, datetime]]:
    """The last WEEKS seven-day windows, oldest first, the last one ending now."""
    end = (now or utcnow()).astimezone(timezone.utc)
    end = datetime.combine(end.date() + timedelta(days=1), time(), tzinfo=timezone.utc)
    return [(end - timedelta(days=7 * (WEEKS - i)), end - timedelta(days=7 * (WEEKS - i - 1))) for i in range(WEEKS)]


def consent_rates(session: Session, windows: list[tuple[datetime, datetime]]) -> list[tuple[str, list[float | None]]]:
    """Per purpose (the busiest few): the share of choices that gave consent, per week, in percent."""
    counts: dict[str, list[list[int]]] = {}
    for i, (start, end) in enumerate(windows):
        rows = session.execute(select(ConsentRecord.purpose, ConsentRecord.event, func.count())
                               .where(ConsentRecord.at >= start, ConsentRecord.at < end,
                                      ConsentRecord.event.in_(YES + NO))
                               .group_by(ConsentRecord.purpose, ConsentRecord.event)).all()
        for purpose, event, n in rows:
            cells = counts.setdefault(purpose, [[0, 0] for _ in windows])
            cells[i][0 if event in YES else 1] += n
    busiest = sorted(counts, key=lambda p: (-sum(a + b for a, b in counts[p]), p))[:MAX_PURPOSES]
    return [(purpose, [round(100 * a / (a + b), 1) if a + b else None for a, b in counts[purpose]])
            for purpose in sorted(busiest)]


def gpc_share(session: Session, windows: list[tuple[datetime, datetime]]) -> list[tuple[int, int]]:
    """Per week: (visitors who made a banner choice, of whom how many sent Global Privacy Control)."""
    out = []
    for start, end in windows:
        base = (select(func.count(distinct(ConsentRecord.visitor_id)))
                .where(ConsentRecord.visitor_id.is_not(None), ConsentRecord.method.in_(("banner", "gpc")),
                       ConsentRecord.at >= start, ConsentRecord.at < end))
        total = session.scalar(base) or 0
        gpc = session.scalar(base.where(ConsentRecord.evidence["gpc"].as_boolean().is_(True))) if total else 0
        out.append((int(total), int(gpc or 0)))
    return out
