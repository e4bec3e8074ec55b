"""Register routes: processors and their alerts, recipients and sharing events, public disclosures, corporate
transfers. Reading needs `registers:read`; every change needs `registers:write` and is audited under the caller."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request, status
from sqlalchemy.orm import Session

from privet.auth.deps import Caller, require
from privet.http.routes import DB
from privet.kit.errors import InvalidInput
from privet.registers import alerts as register_alerts
from privet.registers import corporate, disclosures, policy, processors, sharing
from privet.registers.models import SharingEvent
from privet.registers.schemas import (
    AlertOut,
    CorporateTransferIn,
    CorporateTransferOut,
    DisclosureIn,
    DisclosureOut,
    DisclosureResultOut,
    GroundOut,
    PolicyIn,
    PolicyOut,
    ProcessorIn,
    ProcessorOut,
    PurposeChangeIn,
    RecipientIn,
    RecipientOut,
    RecipientUpdateIn,
    ShareIn,
    ShareResultOut,
    SharingEventOut,
)

router = APIRouter(prefix="/registers", tags=["registers"])
Reader = [Depends(require("registers:read"))]
Writer = [Depends(require("registers:write"))]


def _event_out(event: SharingEvent, recipient_key: str) -> SharingEventOut:
    return SharingEventOut(
        recipient=recipient_key, **{k: getattr(event, k) for k in SharingEventOut.model_fields if k != "recipient"}
    )


@router.get("/processors", dependencies=Reader, response_model=list[ProcessorOut])
def list_processors(db: DB) -> list[ProcessorOut]:
    """Registered processors with their agreements and the data map activities naming them."""
    uses = processors.activities_by_processor(db)
    return [ProcessorOut.model_validate(p).with_activities(uses) for p in processors.list_processors(db)]


@router.post("/processors", dependencies=Writer, response_model=ProcessorOut, status_code=status.HTTP_201_CREATED)
def add_processor(body: ProcessorIn, db: DB, caller: Caller) -> ProcessorOut:
    """Register a processor entrusted with personal data (409 if the key is taken)."""
    return ProcessorOut.model_validate(processors.add_processor(db, actor=caller.actor, **body.model_dump()))


@router.get("/processors/{key}", dependencies=Reader, response_model=ProcessorOut)
def show_processor(key: str, db: DB) -> ProcessorOut:
    """One registered processor."""
    return ProcessorOut.model_validate(processors.get_processor(db, key)).with_activities(
        processors.activities_by_processor(db)
    )


@router.put("/processors/{key}", dependencies=Writer, response_model=ProcessorOut)
def update_processor(key: str, body: ProcessorIn, db: DB, caller: Caller) -> ProcessorOut:
    """Replace a registered processor's entry (e.g. a renewed agreement); the key in the body must match."""
    processors.get_processor(db, key)
    if body.key != key:
        raise InvalidInput("The body's key differs from the path's", "send the same key in both")
    return ProcessorOut.model_validate(
        processors.add_processor(db, actor=caller.actor, replace=True, **body.model_dump())
    )


@router.get("/alerts", dependencies=Reader, response_model=list[AlertOut])
def processor_alerts(
    db: DB,
    days: int = Query(
        processors.DEFAULT_ALERT_DAYS,
        ge=0,
        le=3650,
        description="Warn about agreements expiring within this many days.",
    ),
) -> list[AlertOut]:
    """Processors and recipients named by the data map but unregistered; missing, expired and soon expiring
    agreements (of processors, and of recipients other than authorities); processors the data map gives more
    purposes or categories than their entry entrusts; recipients registered for grounds the policy lacks."""
    return [AlertOut(**a.as_dict()) for a in register_alerts.all_alerts(db, days=days)]


@router.get("/grounds", dependencies=Reader, response_model=list[GroundOut])
def legal_grounds(db: DB) -> list[GroundOut]:
    """Every ground for sharing or disclosing without consent, of the law and of each policy, with its policy
    reference, its text and whether the company's policy has it."""
    return [GroundOut(**g) for g in policy.catalogue_view(db)]


def _policy_out(db: Session) -> PolicyOut:
    row = policy.current(db)
    return PolicyOut(
        name=row.name if row else None,
        grounds=policy.accepted(db),
        declared=row is not None,
        declared_by=row.declared_by if row else None,
        updated_at=row.updated_at if row else None,
    )


@router.get("/policy", dependencies=Reader, response_model=PolicyOut)
def show_policy(db: DB) -> PolicyOut:
    """The grounds the company's policy declares (the law's until it declares its own)."""
    return _policy_out(db)


@router.put("/policy", dependencies=Writer, response_model=PolicyOut)
def declare_policy(body: PolicyIn, db: DB, caller: Caller) -> PolicyOut:
    """Declare the grounds of the company's policy: shares and disclosures on any other ground are refused."""
    policy.declare(db, name=body.name, codes=body.grounds, actor=caller.actor)
    return _policy_out(db)


@router.get("/recipients", dependencies=Reader, response_model=list[RecipientOut])
def list_recipients(db: DB) -> list[RecipientOut]:
    """Registered recipients (other controllers)."""
    return [RecipientOut.model_validate(r) for r in sharing.list_recipients(db)]


@router.post("/recipients", dependencies=Writer, response_model=RecipientOut, status_code=status.HTTP_201_CREATED)
def add_recipient(body: RecipientIn, db: DB, caller: Caller) -> RecipientOut:
    """Register a recipient with its purposes, the most it may receive and the legal grounds it may rely on."""
    return RecipientOut.model_validate(sharing.add_recipient(db, actor=caller.actor, **body.model_dump()))


@router.get("/recipients/{key}", dependencies=Reader, response_model=RecipientOut)
def show_recipient(key: str, db: DB) -> RecipientOut:
    """One registered recipient with its purpose changes."""
    return RecipientOut.model_validate(sharing.get_recipient(db, key))


@router.put("/recipients/{key}", dependencies=Writer, response_model=RecipientOut)
def update_recipient(key: str, body: RecipientUpdateIn, db: DB, caller: Caller) -> RecipientOut:
    """Replace a registered recipient's entry (e.g. a renewed agreement); a change of its purposes is recorded as
    a purpose change needing re-consent. The body's key must match the path's."""
    sharing.get_recipient(db, key)
    if body.key != key:
        raise InvalidInput("The body's key differs from the path's", "send the same key in both")
    return RecipientOut.model_validate(sharing.add_recipient(db, actor=caller.actor, replace=True, **body.model_dump()))


@router.post("/recipients/{key}/purposes", dependencies=Writer, response_model=RecipientOut)
def change_recipient_purposes(key: str, body: PurposeChangeIn, db: DB, caller: Caller) -> RecipientOut:
    """Record a recipient's change of purpose: its consent-based shares need consent given after the change."""
    return RecipientOut.model_validate(
        sharing.change_purposes(db, key, purposes=body.purposes, reason=body.reason, actor=caller.actor)
    )


@router.get("/shares", dependencies=Reader, response_model=list[SharingEventOut])
def list_shares(
    db: DB,
    recipient: str | None = Query(None, max_length=80, description="Only this recipient."),
    limit: int = Query(100, ge=1, le=1000, description="At most this many events."),
) -> list[SharingEventOut]:
    """Sharing events newest first (counts only)."""
    return [_event_out(e, k) for e, k in sharing.list_shares(db, recipient=recipient, limit=limit)]


@router.post("/shares", dependencies=Writer, response_model=ShareResultOut, status_code=status.HTTP_201_CREATED)
def share(body: ShareIn, db: DB, request: Request, caller: Caller) -> ShareResultOut:
    """Share with a registered recipient: on consent (subjects without it are filtered out) or on a legal ground
    with a reference. Returns who may be shared; the register keeps counts only."""
    outcome = sharing.share(
        db,
        recipient=body.recipient,
        actor=caller.actor,
        subject_ids=body.subject_ids,
        identities=[(i.type, i.value) for i in body.identities],
        purpose=body.purpose,
        categories=body.categories,
        legal_ground=body.legal_ground,
        reference=body.reference,
        note=body.note,
        keyring=request.app.state.keyring,
    )
    return ShareResultOut(
        event=_event_out(outcome.event, body.recipient),
        allowed_subject_ids=outcome.allowed,
        allowed_positions=outcome.positions,
    )


@router.get("/disclosures", dependencies=Reader, response_model=list[DisclosureOut])
def list_disclosures(
    db: DB, limit: int = Query(100, ge=1, le=1000, description="At most this many.")
) -> list[DisclosureOut]:
    """Public disclosures newest first (counts only)."""
    return [DisclosureOut.model_validate(d) for d in disclosures.list_disclosures(db, limit)]


@router.post(
    "/disclosures", dependencies=Writer, response_model=DisclosureResultOut, status_code=status.HTTP_201_CREATED
)
def disclose(body: DisclosureIn, db: DB, request: Request, caller: Caller) -> DisclosureResultOut:
    """Record a public disclosure: on each subject's separate consent, or on a legal reference; neither: 422."""
    outcome = disclosures.disclose(
        db,
        title=body.title,
        actor=caller.actor,
        categories=body.categories,
        subject_ids=body.subject_ids,
        identities=[(i.type, i.value) for i in body.identities],
        legal_ground=body.legal_ground,
        reference=body.reference,
        purpose=body.purpose,
        keyring=request.app.state.keyring,
    )
    return DisclosureResultOut(
        disclosure=DisclosureOut.model_validate(outcome.event),
        allowed_subject_ids=outcome.allowed,
        allowed_positions=outcome.positions,
    )


@router.get("/corporate-transfers", dependencies=Reader, response_model=list[CorporateTransferOut])
def list_transfers(db: DB) -> list[CorporateTransferOut]:
    """Corporate transfers with their notification campaigns."""
    return [CorporateTransferOut.model_validate(t) for t in corporate.list_transfers(db)]


@router.post(
    "/corporate-transfers",
    dependencies=Writer,
    response_model=CorporateTransferOut,
    status_code=status.HTTP_201_CREATED,
)
def record_transfer(body: CorporateTransferIn, db: DB, caller: Caller) -> CorporateTransferOut:
    """Record a transfer to a successor and prepare the campaign telling the people concerned."""
    return CorporateTransferOut.model_validate(corporate.record_transfer(db, actor=caller.actor, **body.model_dump()))


@router.get("/corporate-transfers/{transfer_id}", dependencies=Reader, response_model=CorporateTransferOut)
def show_transfer(transfer_id: str, db: DB) -> CorporateTransferOut:
    """One corporate transfer."""
    return CorporateTransferOut.model_validate(corporate.get_transfer(db, transfer_id))


@router.post(
    "/corporate-transfers/{transfer_id}/campaign-sent", dependencies=Writer, response_model=CorporateTransferOut
)
def campaign_sent(transfer_id: str, db: DB, caller: Caller) -> CorporateTransferOut:
    """Record that the prepared notification or re-consent campaign was sent."""
    return CorporateTransferOut.model_validate(corporate.mark_campaign_sent(db, transfer_id, actor=caller.actor))
