"""Backups after an erasure (P22: "archived information is kept until it is permanently deleted").

An erasure or account closure records the day its erased data has left every backup (`backups_clear_by`: the day
it completed plus PRIVET_BACKUP_RETENTION_DAYS) and tells the person that day. Once it has passed, a daily job
marks the erasure (`backups_reminded_at`) and tells the organisation's privacy contact which backups must be gone
by now: those of each datastore the erasure changed, taken before it completed. Each erasure is marked and told
once; the console (Requests → Backups), `privet requests backups` and `GET /api/v1/requests/backups` list them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from privet.kit.clock import utcnow
from privet.requests import service
from privet.requests.execution.executor import changed
from privet.requests.execution.steps import fresh_steps
from privet.requests.models import DsrRequest
from privet.settings import Settings

log = logging.getLogger("privet.requests")


@dataclass(frozen=True)
class BackupDue:
    """One erasure's backups: which datastores' copies hold erased data, and the day they must be gone by."""

    reference: str
    type: str
    completed_at: datetime | None
    clear_by: date
    reminded_at: datetime | None
    datastores: tuple[str, ...]

    def state(self, today: date) -> str:
        """upcoming (the day is ahead), due (passed, the officer not told yet) or told."""
        if self.reminded_at is not None:
            return "told"
        return "due" if self.clear_by <= today else "upcoming"


def today(session: Session) -> date:
    """Today in the organisation profile's home time zone."""
    from privet.requests.law.deadlines import day_of

    return day_of(service.organisation_profile(session), utcnow())


def changed_datastores(session: Session, request: DsrRequest) -> tuple[str, ...]:
    """The datastores the erasure changed rows in (their backups still hold what it erased)."""
    return tuple(
        sorted(
            {
                s.datastore_key
                for s in fresh_steps(session, request)
                if s.action == "erase" and any(changed(c) for c in (s.counts or {}).values())
            }
        )
    )


def _due(request: DsrRequest, session: Session) -> BackupDue:
    assert request.backups_clear_by is not None  # both callers select requests that have one
    return BackupDue(
        request.reference,
        request.type,
        request.completed_at,
        request.backups_clear_by,
        request.backups_reminded_at,
        changed_datastores(session, request),
    )


def erasures(session: Session, *, limit: int = 200, include_told: bool = False) -> list[BackupDue]:
    """Completed erasures with a backup date, soonest first (told ones too with `include_told`)."""
    stmt = select(DsrRequest).where(
        DsrRequest.type.in_(service.ERASURE_TYPES),
        DsrRequest.status.in_(service.DONE),
        DsrRequest.backups_clear_by.is_not(None),
    )
    if not include_told:
        stmt = stmt.where(DsrRequest.backups_reminded_at.is_(None))
    stmt = stmt.order_by(DsrRequest.backups_clear_by, DsrRequest.reference).limit(limit)
    return [_due(r, session) for r in session.scalars(stmt)]


def remind(session: Session, settings: Settings, *, on: date | None = None) -> dict[str, int]:
    """Mark the erasures whose backup date has passed and tell the privacy contact which backups must be gone
    (one message for all of them). A message that cannot go out leaves them unmarked for the next run; with no
    contact e-mail configured they are marked, audited and listed in the console only."""
    from privet.datamap.models import DatamapOrganisation
    from privet.requests.messages.render import send_message

    on = on or today(session)
    due = list(
        session.scalars(
            select(DsrRequest)
            .where(
                DsrRequest.type.in_(service.ERASURE_TYPES),
                DsrRequest.status.in_(service.DONE),
                DsrRequest.backups_clear_by <= on,
                DsrRequest.backups_reminded_at.is_(None),
            )
            .order_by(DsrRequest.backups_clear_by, DsrRequest.reference)
            .with_for_update()
        )
    )
    if not due:
        return {"due": 0, "sent": 0}
    items = [_due(r, session) for r in due]
    contact = session.execute(select(DatamapOrganisation.responsible).limit(1)).scalar_one_or_none() or {}
    told = 0
    if contact.get("email"):
        try:
            send_message(
                settings,
                "email",
                contact["email"],
                "backups_reminder",
                "en",
                today=on,
                erasures=[
                    {
                        "reference": i.reference,
                        "type": i.type,
                        "completed": i.completed_at,
                        "clear_by": i.clear_by,
                        "datastores": list(i.datastores),
                    }
                    for i in items
                ],
            )
            told = 1
        except Exception as exc:  # noqa: BLE001 - tried again tomorrow; the erasures stay unmarked
            log.warning("backups reminder not sent: %s", type(exc).__name__)
            return {"due": len(due), "sent": 0}
    now = utcnow()
    for request, item in zip(due, items):
        request.backups_reminded_at = now
        service.audit(
            session,
            request,
            "backups_due",
            actor=service.SYSTEM,
            clear_by=service.day(item.clear_by),
            datastores=list(item.datastores),
            told=bool(told),
        )
    session.flush()
    from privet.audit.service import record

    record(
        session,
        actor=service.SYSTEM,
        action="request.backups_reminder",
        object_type=service.OBJECT,
        object_id="-",
        details={"erasures": len(due), "sent": bool(told)},
    )
    log.info("backups: %d erasures past their backup date, reminder %s", len(due), "sent" if told else "not sent")
    return {"due": len(due), "sent": told}
