"""The dashboard's figures: open requests by deadline, consent now by purpose (from the current-state projection),
banner visitors and their choices (from the ledger).

Portable queries (SQLite and PostgreSQL): grouped counts and window functions, no dialect-specific date functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, distinct, func, literal, or_, select
from sqlalchemy.orm import Session

from privet.consent.ledger.rules import CONSENT_EVENTS, POSITIVE_EVENTS
from privet.consent.models import ConsentRecord, ConsentState, VisitorLink
from privet.kit.clock import utcnow
from privet.requests import service
from privet.requests.models import DsrRequest
from privet.requests.queries import DUE

WEEKS = 8
MAX_PURPOSES = 8
YES = tuple(sorted(POSITIVE_EVENTS))  # a consent choice that gives consent
BANNER = ("banner", "gpc")  # the methods the cookie banner records with


def today(session: Session) -> date:
    """Today in the organisation profile's time zone (deadlines are days there)."""
    from privet.requests.law.deadlines import day_of

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
    return Deadlines(
        overdue=sum(1 for _s, due in active if due is not None and due < on),
        this_week=sum(1 for _s, due in active if due is not None and on <= due <= week_end),
        later=sum(1 for _s, due in active if due is None or due > week_end),
        unverified=sum(1 for status, _d in rows if status == "unverified"),
        pending_approval=sum(1 for status, _d in active if status == "pending_approval"),
    )


def open_by_deadline(session: Session, limit: int = 15) -> list[DsrRequest]:
    """Open verified requests, soonest deadline first."""
    return list(
        session.scalars(
            select(DsrRequest)
            .where(DsrRequest.status.in_(service.ACTIVE))
            .order_by(DUE, DsrRequest.received_at)
            .limit(limit)
        )
    )


def weeks(now: datetime | None = None) -> list[tuple[datetime, datetime]]:
    """The last WEEKS seven-day windows, oldest first, the last one ending now."""
    end = (now or utcnow()).astimezone(UTC)
    end = datetime.combine(end.date() + timedelta(days=1), time(), tzinfo=UTC)
    return [(end - timedelta(days=7 * (WEEKS - i)), end - timedelta(days=7 * (WEEKS - i - 1))) for i in range(WEEKS)]


@dataclass
class PurposeNow:
    """One purpose's current state: people holding a consent record for it, and of them those with consent now."""

    purpose: str
    holders: int
    consenting: int

    @property
    def share(self) -> float:
        """Percent of the holders with consent now."""
        return round(100 * self.consenting / self.holders, 1) if self.holders else 0.0


def consent_now(session: Session, now: datetime | None = None) -> list[PurposeNow]:
    """Per purpose, from the current-state projection (not ledger events): the people whose latest record for the
    purpose is a consent choice, and of them those whose choice gives consent now (given or renewed, not expired).

    A person is a subject or an anonymous banner visitor; a visitor who signed in counts as that subject, once,
    with the later of the two choices. Busiest purposes first (at most MAX_PURPOSES), then by key.

    The projection holds one row per holder and purpose, so a holder apart from any visitor link is one person
    and is counted by a plain grouped count; only the holders a link joins (a signed-in visitor and their subject)
    are ranked to find each person's latest choice."""
    s, link = ConsentState, VisitorLink
    moment = now or utcnow()
    linked = select(literal("v:") + link.visitor_id).union(select(literal("s:") + link.subject_id))

    def live(c: Any) -> ColumnElement[bool]:  # the projection's columns: the model, or a subquery's `.c`
        return and_(c.event.in_(YES), or_(c.expires_at.is_(None), c.expires_at > moment))

    totals: dict[str, list[int]] = {}
    plain = (
        select(s.purpose, func.count(), func.sum(case((live(s), 1), else_=0)))
        .where(s.event.in_(CONSENT_EVENTS), s.holder.not_in(linked))
        .group_by(s.purpose)
    )
    person = case((link.subject_id.is_not(None), literal("s:") + link.subject_id), else_=s.holder)
    rank = func.row_number().over(partition_by=(person, s.purpose), order_by=(s.at.desc(), s.record_seq.desc()))
    latest = (
        select(s.purpose, s.event, s.expires_at, rank.label("rank"))
        .select_from(s)
        .outerjoin(link, s.holder == literal("v:") + link.visitor_id)
        .where(s.event.in_(CONSENT_EVENTS), s.holder.in_(linked))
        .subquery()
    )
    joined = (
        select(latest.c.purpose, func.count(), func.sum(case((live(latest.c), 1), else_=0)))
        .where(latest.c.rank == 1)
        .group_by(latest.c.purpose)
    )
    for query in (plain, joined):
        for purpose, n, yes in session.execute(query).all():
            counts = totals.setdefault(purpose, [0, 0])
            counts[0], counts[1] = counts[0] + int(n), counts[1] + int(yes or 0)
    found = [PurposeNow(purpose, n, yes) for purpose, (n, yes) in totals.items()]
    return sorted(found, key=lambda p: (-p.holders, p.purpose))[:MAX_PURPOSES]


def banner_choices(session: Session, since: datetime) -> dict[str, tuple[int, int]]:
    """Per purpose recorded by the banner: (visitors who allowed it, who refused it), from the ledger, each visitor
    counted once with their latest banner choice since `since` (GPC's refusals included)."""
    r = ConsentRecord
    rank = func.row_number().over(partition_by=(r.visitor_id, r.purpose), order_by=(r.at.desc(), r.seq.desc()))
    latest = (
        select(r.purpose, r.event, rank.label("rank"))
        .where(r.visitor_id.is_not(None), r.method.in_(BANNER), r.at >= since)
        .subquery()
    )
    rows = session.execute(
        select(latest.c.purpose, latest.c.event, func.count())
        .where(latest.c.rank == 1)
        .group_by(latest.c.purpose, latest.c.event)
    ).all()
    out: dict[str, list[int]] = {}
    for purpose, event, n in rows:
        out.setdefault(purpose, [0, 0])[0 if event in YES else 1] += int(n)
    return {purpose: (yes, no) for purpose, (yes, no) in sorted(out.items())}


def banner_visitors(session: Session, since: datetime) -> tuple[int, int]:
    """(Visitors who made a banner choice since `since`, of whom how many sent GPC), from the ledger."""
    base = select(func.count(distinct(ConsentRecord.visitor_id))).where(
        ConsentRecord.visitor_id.is_not(None), ConsentRecord.method.in_(BANNER), ConsentRecord.at >= since
    )
    total = session.scalar(base) or 0
    gpc = session.scalar(base.where(ConsentRecord.evidence["gpc"].as_boolean().is_(True))) if total else 0
    return int(total), int(gpc or 0)


def gpc_share(session: Session, windows: list[tuple[datetime, datetime]]) -> list[tuple[int, int]]:
    """Per week: (visitors who made a banner choice, of whom how many sent Global Privacy Control)."""
    out = []
    for start, end in windows:
        base = select(func.count(distinct(ConsentRecord.visitor_id))).where(
            ConsentRecord.visitor_id.is_not(None),
            ConsentRecord.method.in_(BANNER),
            ConsentRecord.at >= start,
            ConsentRecord.at < end,
        )
        total = session.scalar(base) or 0
        gpc = session.scalar(base.where(ConsentRecord.evidence["gpc"].as_boolean().is_(True))) if total else 0
        out.append((int(total), int(gpc or 0)))
    return out
