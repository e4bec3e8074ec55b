"""Public disclosures (P13) and corporate transfers (P12, P36)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from privet.audit.models import AuditEvent
from privet.consent.ledger import service as ledger
from privet.kit.errors import Conflict, InvalidInput, NotFound
from privet.registers import corporate, disclosures
from privet.registers.models import CorporateTransfer, Disclosure

pytestmark = pytest.mark.usefixtures("keptek")
CATS = ["user.name", "user.professional.training_record"]


def _count(db: Session, model) -> int:
    return db.execute(select(func.count()).select_from(model)).scalar_one()


@pytest.mark.promise("P13")
def test_disclosure_without_consent_or_ground_is_refused(db: Session) -> None:
    before = _count(db, AuditEvent)
    with pytest.raises(InvalidInput) as caught:
        disclosures.disclose(db, title="Certified partner directory", categories=CATS, actor="test")
    assert "separate consent" in caught.value.detail and "--reference" in caught.value.hint
    with pytest.raises(InvalidInput, match="needs a reference"):
        disclosures.disclose(db, title="Court notice", categories=CATS, legal_ground="judicial_procedure", actor="test")
    with pytest.raises(InvalidInput, match="categories"):
        disclosures.disclose(db, title="Court notice", categories=[], reference="Art 1", actor="test")
    assert _count(db, Disclosure) == 0 and _count(db, AuditEvent) == before


@pytest.mark.promise("P13")
def test_disclosure_on_separate_consent_filters_the_others(db: Session, make_subject) -> None:
    people = [make_subject() for _ in range(3)]
    for subject in people[:2]:
        record = ledger.record(
            db, subject_id=subject.id, purpose="sharing.public_disclosure", event="given", method="form", actor="test"
        )
        assert record.separate_kind == "disclosure"
    outcome = disclosures.disclose(
        db, title="Certified partner directory", categories=CATS, subject_ids=[p.id for p in people], actor="test"
    )
    row = outcome.event
    assert (row.basis, row.requested, row.disclosed, row.filtered_out) == ("consent", 3, 2, 1)
    assert row.purpose == "sharing.public_disclosure" and row.reasons == {"NO_CONSENT": 1}
    assert outcome.allowed == [p.id for p in people[:2]]
    assert [d.id for d in disclosures.list_disclosures(db)] == [row.id]


@pytest.mark.promise("P13")
def test_disclosure_on_a_legal_reference(db: Session, make_subject) -> None:
    subject = make_subject()
    outcome = disclosures.disclose(
        db,
        title="Enforcement notice",
        categories=["user.name"],
        subject_ids=[subject.id],
        reference="Civil Procedure Law Art 262",
        actor="test",
    )
    row = outcome.event
    assert (row.basis, row.legal_ground, row.disclosed) == ("legal_ground", "law_required", 1)
    audit = db.execute(select(AuditEvent).where(AuditEvent.object_id == row.id)).scalar_one()
    assert audit.action == "registers.disclosed" and subject.id not in str(audit.details)


@pytest.mark.promise("P12")
@pytest.mark.promise("P36")
def test_corporate_transfer_campaign_counts(db: Session, make_subject) -> None:
    people = [make_subject() for _ in range(4)]
    people[3].status = "closed"
    db.flush()
    row = corporate.record_transfer(
        db,
        successor="Keptek Holdings Ltd",
        kind="acquisition",
        transfer_date=date(2026, 12, 31),
        categories=["user.name", "user.contact"],
        binding_statement="The successor continues to be bound by this Privacy Policy.",
        reference="SPA-2026-17",
        actor="test",
    )
    assert (row.campaign_kind, row.campaign_status, row.campaign_subjects, row.subject_count) == (
        "notification",
        "prepared",
        3,
        3,
    )
    unbound = corporate.record_transfer(
        db,
        successor="Buyer Co",
        kind="asset_sale",
        transfer_date=date(2027, 1, 5),
        binding_statement="Not bound: the buyer will ask for consent again.",
        bound=False,
        subject_count=2,
        actor="test",
    )
    assert (unbound.campaign_kind, unbound.subject_count, unbound.campaign_subjects) == ("reconsent", 2, 3)
    assert [t.id for t in corporate.list_transfers(db)] == [unbound.id, row.id]
    assert corporate.get_transfer(db, row.id).successor == "Keptek Holdings Ltd"
    with pytest.raises(NotFound):
        corporate.get_transfer(db, "nope")
    assert corporate.mark_campaign_sent(db, row.id, actor="test").campaign_status == "sent"
    with pytest.raises(Conflict):
        corporate.mark_campaign_sent(db, row.id, actor="test")
    audit = (
        db.execute(select(AuditEvent).where(AuditEvent.object_id == row.id).order_by(AuditEvent.seq)).scalars().first()
    )
    assert audit.details["campaign_subjects"] == 3


@pytest.mark.parametrize(
    "bad",
    [
        {"kind": "gift"},
        {"binding_statement": "  "},
        {"successor": ""},
        {"categories": ["user.nothing"]},
        {"subject_count": -1},
    ],
)
def test_corporate_transfer_bad_input(db: Session, bad: dict) -> None:
    values = (
        dict(
            successor="Keptek Holdings Ltd",
            kind="merger",
            transfer_date=date(2026, 12, 31),
            binding_statement="Bound by the policy.",
            actor="test",
        )
        | bad
    )
    with pytest.raises(InvalidInput):
        corporate.record_transfer(db, **values)
    assert _count(db, CorporateTransfer) == 0
