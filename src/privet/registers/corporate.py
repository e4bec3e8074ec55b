"""Corporate transfers (P12, P36): personal data passing to a successor in a merger, acquisition, asset sale or
bankruptcy. The successor is bound by the privacy policy (the binding statement), or must seek consent again; either
way the people concerned are told. The campaign is recorded as prepared with the number of people to reach."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from privet.audit.service import record as audit
from privet.kit.errors import Conflict, NotFound
from privet.registers import common
from privet.registers.models import CorporateTransfer

KINDS = ("merger", "acquisition", "asset_sale", "bankruptcy", "other")


def subjects_to_notify(session: Session) -> int:
    """People the transfer concerns: every active subject (not closed, not merged into another)."""
    from privet.subjects.models import Subject

    return session.execute(
        select(func.count()).select_from(Subject).where(Subject.status == "active", Subject.merged_into_id.is_(None))
    ).scalar_one()


def record_transfer(
    session: Session,
    *,
    successor: str,
    kind: str,
    transfer_date: date,
    binding_statement: str,
    actor: str,
    bound: bool = True,
    categories: list[str] | None = None,
    subject_count: int | None = None,
    reference: str | None = None,
) -> CorporateTransfer:
    """Record a transfer to a successor and prepare the notification (bound) or re-consent (not bound) campaign."""
    successor = common.check_text(successor, "successor")
    if kind not in KINDS:
        raise common.bad(f"Unknown transfer kind {kind!r}", "kind", "use one of: " + ", ".join(KINDS))
    statement = common.check_text(binding_statement, "binding_statement", limit=4000)
    if transfer_date is None:
        raise common.bad("transfer_date is required", "transfer_date", "give the date the data passes (YYYY-MM-DD)")
    categories = common.check_categories(session, categories)
    to_notify = subjects_to_notify(session)
    if subject_count is not None and subject_count < 0:
        raise common.bad("subject_count cannot be negative", "subject_count", "give the number of people concerned")
    row = CorporateTransfer(
        successor=successor,
        kind=kind,
        transfer_date=transfer_date,
        binding_statement=statement,
        bound=bound,
        categories=categories,
        subject_count=to_notify if subject_count is None else subject_count,
        reference=common.check_text(reference, "reference", required=False),
        campaign_kind="notification" if bound else "reconsent",
        campaign_status="prepared",
        campaign_subjects=to_notify,
        created_by=actor,
    )
    session.add(row)
    session.flush()
    audit(
        session,
        actor=actor,
        action="registers.corporate_transfer.recorded",
        object_type="corporate_transfer",
        object_id=row.id,
        details={
            "kind": kind,
            "bound": bound,
            "categories": categories,
            "subject_count": row.subject_count,
            "campaign": row.campaign_kind,
            "campaign_subjects": to_notify,
        },
    )
    return row


def list_transfers(session: Session) -> list[CorporateTransfer]:
    """Corporate transfers, newest first."""
    return list(
        session.execute(
            select(CorporateTransfer).order_by(
                CorporateTransfer.transfer_date.desc(), CorporateTransfer.created_at.desc()
            )
        ).scalars()
    )


def get_transfer(session: Session, transfer_id: str) -> CorporateTransfer:
    """One corporate transfer; NotFound otherwise."""
    row = session.get(CorporateTransfer, transfer_id)
    if row is None:
        raise NotFound(f"No corporate transfer {transfer_id!r}", "list them with privet registers corporate-transfers")
    return row


def mark_campaign_sent(session: Session, transfer_id: str, *, actor: str) -> CorporateTransfer:
    """Record that the company sent the prepared campaign (through its own channels)."""
    row = get_transfer(session, transfer_id)
    if row.campaign_status == "sent":
        raise Conflict("The campaign is already recorded as sent", "nothing to do")
    row.campaign_status = "sent"
    session.flush()
    audit(
        session,
        actor=actor,
        action="registers.corporate_transfer.campaign_sent",
        object_type="corporate_transfer",
        object_id=row.id,
        details={"campaign": row.campaign_kind, "campaign_subjects": row.campaign_subjects},
    )
    return row
