"""Every register change writes one audit event, with keys and counts and never personal data."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from privet.audit.models import AuditEvent
from privet.audit.service import verify
from privet.consent.ledger import service as ledger
from privet.registers import corporate, disclosures, processors, sharing

pytestmark = pytest.mark.usefixtures("keptek")


def test_register_events_hold_no_personal_data(db: Session, ring, faker_multi) -> None:
    from privet.subjects import service

    emails = [faker_multi.unique.email() for _ in range(3)]
    people = [service.create_subject(db, ring, [("email", e, True)], actor="test") for e in emails]
    for subject in people[:2]:
        ledger.record(
            db, subject_id=subject.id, purpose="sharing.affiliates", event="given", method="api", actor="test"
        )
        ledger.record(
            db, subject_id=subject.id, purpose="sharing.public_disclosure", event="given", method="api", actor="test"
        )
    processors.add_processor(
        db,
        key="sms_gateway",
        name="SMS gateway",
        agreement_ref="DPA-1",
        signed_on=date(2025, 1, 1),
        expires_on=date(2027, 1, 1),
        actor="test",
    )
    sharing.add_recipient(
        db,
        key="keptek_affiliates",
        name="Affiliates",
        purposes=["sharing.affiliates"],
        categories=["user.name"],
        legal_grounds=["authority_request"],
        actor="test",
    )
    sharing.share(
        db, recipient="keptek_affiliates", identities=[("email", e) for e in emails], keyring=ring, actor="test"
    )
    sharing.share(
        db,
        recipient="keptek_affiliates",
        subject_ids=[p.id for p in people],
        actor="test",
        legal_ground="authority_request",
        reference="Letter 2026-88",
    )
    sharing.change_purposes(db, "keptek_affiliates", purposes=["sharing.partners"], actor="test")
    disclosures.disclose(
        db, title="Directory", categories=["user.name"], subject_ids=[p.id for p in people], actor="test"
    )
    corporate.record_transfer(
        db,
        successor="Keptek Holdings",
        kind="merger",
        transfer_date=date(2026, 12, 31),
        binding_statement="Bound by the policy.",
        actor="test",
    )
    events = (
        db.execute(select(AuditEvent).where(AuditEvent.action.like("registers.%")).order_by(AuditEvent.seq))
        .scalars()
        .all()
    )
    assert [e.action for e in events] == [
        "registers.processor.added",
        "registers.recipient.added",
        "registers.shared",
        "registers.shared",
        "registers.recipient.purpose_changed",
        "registers.disclosed",
        "registers.corporate_transfer.recorded",
    ]
    dumped = json.dumps([e.details for e in events], ensure_ascii=False)
    assert not any(value in dumped for value in emails + [p.id for p in people])
    shares = [e.details for e in events if e.action == "registers.shared"]
    assert [(d["shared"], d["filtered_out"]) for d in shares] == [(2, 1), (3, 0)]
    assert verify(db).ok
