"""Shared rules of data-subject requests: finding a request, its statuses, its audit events and its requester.

The lifecycle lives in subpackages beside this module, each importing only those listed before it:
`law` (deadlines, refusal codes, repeats and fees), `packages` (the explanation and the access package),
`messages` (texts, sending by a job), `execution` (steps against the datastores, legal holds' effect, the package
or the proof), `intake` (filing, verification, the law a request falls under), then `holds`, `manual` (tasks a
person does) and `workflow` (officer actions and sweeps). Beside this module: `models`, `crypto`, `queries`
(lists), `schemas`, the staff routes (`api`), the CLI (`cli`) and the job handlers (`tasks`). Services take a
session and never commit.
"""

from __future__ import annotations

import secrets
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from privet.audit.service import record
from privet.kit.crypto import Keyring
from privet.kit.errors import Conflict, NotFound
from privet.requests.crypto import identity_context
from privet.requests.models import DsrRequest
from privet.subjects.models import Subject

SYSTEM = "system:requests"
OBJECT = "dsr_request"
# Filed, not yet finished (an officer or a worker still has something to do).
OPEN = ("unverified", "pending_approval", "fee_due", "running", "waiting", "failed")
# Verified and not finished: the deadline clock is running (while a fee is due too: the earlier date is kept).
ACTIVE = ("pending_approval", "fee_due", "running", "waiting", "failed")
FINISHED = ("completed", "completed_with_exceptions", "refused", "expired")
DONE = ("completed", "completed_with_exceptions")  # carried out (with exceptions: what was not is said)
# Types answered with a download (a package); erasure-like types change the company's datastores.
PACKAGE_TYPES = ("access", "portability", "explanation")
ERASURE_TYPES = ("erasure", "closure")
_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: references are read out on the phone


def new_reference() -> str:
    """A short code people can read out, e.g. R-7K3M9Q2P (32^8 possibilities; never derived from the person)."""
    return "R-" + "".join(secrets.choice(_ALPHABET) for _ in range(8))


def normalise_reference(reference: str) -> str:
    """The reference as stored: upper case, `R-` prefix, spaces dropped (people type them in many ways)."""
    text = "".join((reference or "").split()).upper()
    return text if text.startswith("R-") else f"R-{text}"


def get_request(session: Session, request_id: str) -> DsrRequest:
    """A request by id, or NotFound."""
    found = session.get(DsrRequest, request_id)
    if found is None:
        raise NotFound("No request has this id", "list requests: GET /api/v1/requests or `privet requests list`")
    return found


def by_reference(session: Session, reference: str, *, lock: bool = False) -> DsrRequest:
    """A request by its reference (or its id), or NotFound; `lock` takes the row lock for a state change."""
    stmt = select(DsrRequest).where(DsrRequest.reference == normalise_reference(reference))
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    found = session.execute(stmt).scalar_one_or_none()
    if found is None and reference and not reference.upper().startswith("R-"):
        found = session.get(DsrRequest, reference, with_for_update=lock or None)
    if found is None:
        raise NotFound("No request has this reference", "check the reference (it looks like R-7K3M9Q2P)")
    return found


def lock(session: Session, request: DsrRequest | str) -> DsrRequest:
    """Take the request's row lock and refresh it, in one query (two workers or officers must not both advance
    it); takes the request or its id."""
    request_id = request if isinstance(request, str) else request.id
    return session.execute(
        select(DsrRequest)
        .where(DsrRequest.id == request_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()


def require_status(request: DsrRequest, allowed: tuple[str, ...], doing: str) -> None:
    """Conflict unless the request is in one of `allowed` statuses."""
    if request.status not in allowed:
        raise Conflict(
            f"Request {request.reference} is {request.status}; it cannot be {doing}",
            f"this is possible while it is {' or '.join(allowed)}",
        )


def audit(session: Session, request: DsrRequest, what: str, *, actor: str, **details: object) -> None:
    """One audit event `request.<what>` about a request (ids, codes and counts only)."""
    record(
        session,
        actor=actor,
        action=f"request.{what}",
        object_type=OBJECT,
        object_id=request.id,
        details={"reference": request.reference, **details},
    )


def day(value: date | str | None) -> str | None:
    """A date for audit details, e.g. `27 Oct 2025` (the audit guard takes bare ISO dates for phone numbers)."""
    if value is None:
        return None
    return (date.fromisoformat(value[:10]) if isinstance(value, str) else value).strftime("%d %b %Y")


def identity_value(keyring: Keyring, request: DsrRequest) -> str | None:
    """The identity the requester gave (normalised), or None once purged."""
    if not request.identity_enc:
        return None
    return keyring.decrypt_text(request.identity_enc, context=identity_context(request.id, request.identity_type))


def effective_due(request: DsrRequest) -> date | None:
    """The deadline in force: the extended one if there is one."""
    return request.extended_to or request.due_on


def organisation_profile(session: Session) -> str:
    """The jurisdiction profile of the applied data map's organisation (pipl when none is applied)."""
    from privet.datamap.models import DatamapOrganisation

    profile = session.execute(select(DatamapOrganisation.profile).limit(1)).scalar_one_or_none()
    return profile or "pipl"


def region_of(session: Session, request: DsrRequest) -> str | None:
    """Where the request's person is: their subject's recorded region, else the region declared with it."""
    if request.subject_id:
        subject = session.get(Subject, request.subject_id)
        if subject is not None and subject.region:
            return subject.region
    return request.declared_region
