"""Reading requests: filtered lists, deadline lists, a subject's own requests, and one request's full record."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from privet.kit.errors import InvalidInput
from privet.requests import service
from privet.requests.models import STATUSES, TYPES, AccessPackage, DsrRequest, ManualTask, RequestStep

DUE = func.coalesce(DsrRequest.extended_to, DsrRequest.due_on)


def list_requests(
    session: Session,
    *,
    status: str | None = None,
    request_type: str | None = None,
    due_before: date | None = None,
    subject_id: str | None = None,
    limit: int = 50,
    offset: int = 0,
    profile: str | None = None,
    organisation: str | None = None,
) -> tuple[list[DsrRequest], int]:
    """Requests newest first with the total for paging; filters by status, type, deadline, subject, the law they
    are handled under (`profile`: pipl, gdpr, ccpa; P41) and the organisation their requester acts for (P6: the
    exact reference, case and spacing aside), so each law's or organisation's requests go to whoever handles them."""
    from privet.requests.law.deadlines import PROFILES
    from privet.subjects.jurisdiction import check_organisation

    stmt = select(DsrRequest)
    if profile is not None:
        if profile not in PROFILES:
            raise InvalidInput(f"Unknown law {profile!r}", "use one of: " + ", ".join(PROFILES))
        stmt = stmt.where(DsrRequest.profile == profile)
    if organisation is not None:
        wanted = check_organisation(organisation)
        if wanted:
            stmt = stmt.where(func.lower(DsrRequest.organisation_ref) == wanted.lower())
    if status is not None:
        if status not in STATUSES:
            raise InvalidInput(f"Unknown status {status!r}", "use one of: " + ", ".join(STATUSES))
        stmt = stmt.where(DsrRequest.status == status)
    if request_type is not None:
        if request_type not in TYPES:
            raise InvalidInput(f"Unknown request type {request_type!r}", "use one of: " + ", ".join(TYPES))
        stmt = stmt.where(DsrRequest.type == request_type)
    if due_before is not None:
        stmt = stmt.where(due_before >= DUE, DsrRequest.status.in_(service.ACTIVE))
    if subject_id is not None:
        stmt = stmt.where(DsrRequest.subject_id == subject_id)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(
        stmt.order_by(DsrRequest.received_at.desc(), DsrRequest.id.desc())
        .limit(max(1, min(limit, 500)))
        .offset(max(0, offset))
    )
    return list(rows), int(total)


def due_soon(session: Session, *, days: int, today: date) -> list[DsrRequest]:
    """Active requests due from today up to `days` days ahead, soonest first."""
    return list(
        session.scalars(
            select(DsrRequest)
            .where(DsrRequest.status.in_(service.ACTIVE), today <= DUE, today + timedelta(days=days) >= DUE)
            .order_by(DUE, DsrRequest.received_at)
        )
    )


def overdue(session: Session, *, today: date) -> list[DsrRequest]:
    """Active requests past their deadline, most overdue first."""
    return list(
        session.scalars(
            select(DsrRequest)
            .where(DsrRequest.status.in_(service.ACTIVE), today > DUE)
            .order_by(DUE, DsrRequest.received_at)
        )
    )


def of_subject(session: Session, subject_id: str) -> list[DsrRequest]:
    """The requests of a subject (and of the subjects merged into it), newest first."""
    from privet.subjects.service import get_subject, holder_ids

    ids = holder_ids(session, get_subject(session, subject_id))
    return list(
        session.scalars(
            select(DsrRequest).where(DsrRequest.subject_id.in_(ids)).order_by(DsrRequest.received_at.desc())
        )
    )


def owned_by(session: Session, reference: str, subject_id: str) -> DsrRequest:
    """The request with this reference if the subject (or one merged into it) owns it; otherwise NotFound, the same
    answer as for a reference that does not exist, so a reference reveals nothing about anyone else."""
    from privet.kit.errors import NotFound
    from privet.subjects.service import get_subject, holder_ids

    try:
        request = service.by_reference(session, reference)
        if request.subject_id in holder_ids(session, get_subject(session, subject_id)):
            return request
    except NotFound:
        pass
    raise NotFound("None of your requests has this reference", "list yours: GET /api/v1/public/requests/mine")


def steps_of(session: Session, request: DsrRequest) -> list[RequestStep]:
    """The request's steps in order."""
    return list(
        session.scalars(select(RequestStep).where(RequestStep.request_id == request.id).order_by(RequestStep.position))
    )


def tasks_of(session: Session, request: DsrRequest) -> list[ManualTask]:
    """The manual tasks of the request."""
    return list(
        session.scalars(select(ManualTask).where(ManualTask.request_id == request.id).order_by(ManualTask.created_at))
    )


def package_of(session: Session, request: DsrRequest) -> AccessPackage | None:
    """The request's access package, if one was built."""
    return session.scalars(select(AccessPackage).where(AccessPackage.request_id == request.id)).first()


def trail(session: Session, request: DsrRequest) -> list:
    """The audit events about the request and its package, in chain order."""
    from privet.audit.models import AuditEvent

    package = package_of(session, request)
    objects = [(service.OBJECT, request.id)] + ([("access_package", package.id)] if package else [])
    conditions = [(AuditEvent.object_type == t) & (AuditEvent.object_id == i) for t, i in objects]
    return list(session.scalars(select(AuditEvent).where(or_(*conditions)).order_by(AuditEvent.seq)))
