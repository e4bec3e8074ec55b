"""Recipients and sharing events (P10, P11, P37): bulk shares filtered on consent, legal grounds with a reference,
unregistered recipients refused, purpose changes needing re-consent, audit events without personal data."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from privet.audit.models import AuditEvent
from privet.consent.ledger import service as ledger
from privet.kit.errors import Conflict, InvalidInput
from privet.registers import sharing
from privet.registers.models import Recipient, SharingEvent

pytestmark = pytest.mark.usefixtures("keptek")


def _count(db: Session, model) -> int:
    return db.execute(select(func.count()).select_from(model)).scalar_one()


def _affiliates(db: Session) -> Recipient:
    return sharing.add_recipient(
        db,
        key="keptek_affiliates",
        name="Keptek affiliates",
        kind="affiliate",
        purposes=["sharing.affiliates"],
        categories=["user.name", "user.contact.phone"],
        region="CN",
        actor="test",
    )


def _give(db: Session, subject, purpose: str = "sharing.affiliates", event: str = "given") -> None:
    ledger.record(db, subject_id=subject.id, purpose=purpose, event=event, method="api", actor="test")
    db.flush()


def test_recipient_create_list_and_bad_input(db: Session) -> None:
    made = _affiliates(db)
    assert [r.key for r in sharing.list_recipients(db)] == ["keptek_affiliates"]
    assert made.purposes == ["sharing.affiliates"] and made.reconsent_since is None
    with pytest.raises(Conflict):
        _affiliates(db)
    for bad in (
        {"purposes": []},
        {"purposes": ["nope"]},
        {"kind": "friend"},
        {"region": "mars"},
        {"legal_grounds": ["because"]},
    ):
        values = dict(key="other", name="Other", purposes=["sharing.partners"], actor="test") | bad
        with pytest.raises(InvalidInput):
            sharing.add_recipient(db, **values)
    assert _count(db, Recipient) == 1


@pytest.mark.promise("P11")
@pytest.mark.promise("P10")
def test_bulk_share_filters_out_subjects_without_consent(db: Session, make_subject, ring) -> None:
    _affiliates(db)
    consenting = [make_subject() for _ in range(3)]
    for subject in consenting:
        _give(db, subject)
    withdrawn, silent = make_subject(), make_subject()
    _give(db, withdrawn)
    _give(db, withdrawn, event="withdrawn")
    _give(db, silent, purpose="marketing.communications")  # consent to something else does not count
    ids = [s.id for s in (consenting[0], withdrawn, consenting[1], silent, consenting[2])]
    ids += ["0" * 26, consenting[0].id]  # an unknown id, a repeat
    outcome = sharing.share(db, recipient="keptek_affiliates", subject_ids=ids, actor="test")
    assert outcome.allowed == [s.id for s in consenting] and outcome.positions == [0, 2, 4]
    event = outcome.event
    assert (event.requested, event.shared, event.filtered_out) == (7, 3, 4)
    assert event.reasons == {"CONSENT_WITHDRAWN": 1, "DUPLICATE": 1, "NO_CONSENT": 1, "UNKNOWN_SUBJECT": 1}
    assert event.basis == "consent" and event.categories == ["user.name", "user.contact.phone"]
    listed = sharing.list_shares(db)
    assert [(e.id, k) for e, k in listed] == [(event.id, "keptek_affiliates")]


def test_bulk_share_by_identity(db: Session, ring, faker_multi) -> None:
    from privet.subjects import service

    _affiliates(db)
    emails = [faker_multi.unique.email() for _ in range(3)]
    people = [service.create_subject(db, ring, [("email", e, True)], actor="test") for e in emails]
    _give(db, people[1])
    outcome = sharing.share(
        db,
        recipient="keptek_affiliates",
        actor="test",
        keyring=ring,
        identities=[("email", e) for e in emails] + [("email", faker_multi.unique.email())],
    )
    assert outcome.allowed == [people[1].id] and outcome.positions == [1]
    assert outcome.event.reasons == {"NO_CONSENT": 2, "UNKNOWN_SUBJECT": 1}
    stored = json.dumps([e.details for e in db.execute(select(AuditEvent)).scalars()])
    assert not any(e in stored for e in emails)


@pytest.mark.promise("P11")
def test_share_to_unregistered_recipient_is_refused_and_nothing_recorded(db: Session, make_subject) -> None:
    subject = make_subject()
    _give(db, subject)
    before = _count(db, AuditEvent)
    with pytest.raises(InvalidInput) as caught:
        sharing.share(db, recipient="data_broker", subject_ids=[subject.id], actor="test")
    assert "not registered" in caught.value.detail and "recipient-add" in caught.value.hint
    assert _count(db, SharingEvent) == 0 and _count(db, AuditEvent) == before


@pytest.mark.promise("P10")
def test_share_refuses_more_than_registered(db: Session, make_subject) -> None:
    _affiliates(db)
    subject = make_subject()
    with pytest.raises(InvalidInput, match="More data than"):
        sharing.share(
            db,
            recipient="keptek_affiliates",
            subject_ids=[subject.id],
            actor="test",
            categories=["user.name", "user.contact.email"],
        )
    with pytest.raises(InvalidInput, match="not registered for purpose"):
        sharing.share(
            db, recipient="keptek_affiliates", subject_ids=[subject.id], actor="test", purpose="sharing.partners"
        )
    with pytest.raises(InvalidInput, match="No subjects"):
        sharing.share(db, recipient="keptek_affiliates", subject_ids=[], actor="test")
    assert _count(db, SharingEvent) == 0


@pytest.mark.promise("P11")
@pytest.mark.promise("P37")
def test_legal_ground_share_needs_a_reference(db: Session, make_subject) -> None:
    sharing.add_recipient(
        db,
        key="courts",
        name="People's court",
        kind="authority",
        purposes=["sharing.authorities"],
        categories=["user.name"],
        region="CN",
        legal_grounds=["judicial_procedure", "criminal_investigation"],
        actor="test",
    )
    people = [make_subject() for _ in range(2)]
    with pytest.raises(InvalidInput, match="needs a reference"):
        sharing.share(
            db, recipient="courts", subject_ids=[p.id for p in people], legal_ground="judicial_procedure", actor="test"
        )
    with pytest.raises(InvalidInput, match="not registered for the legal ground"):
        sharing.share(
            db,
            recipient="courts",
            subject_ids=[p.id for p in people],
            legal_ground="made_public",
            reference="n/a",
            actor="test",
        )
    with pytest.raises(InvalidInput, match="Unknown legal ground"):
        sharing.share(
            db, recipient="courts", subject_ids=[p.id for p in people], legal_ground="G", reference="n/a", actor="test"
        )
    outcome = sharing.share(
        db,
        recipient="courts",
        subject_ids=[p.id for p in people],
        legal_ground="judicial_procedure",
        reference="(2026) Jing 0105 Min Chu 1234",
        actor="test",
    )
    event = outcome.event
    assert (event.basis, event.legal_ground, event.reference) == (
        "legal_ground",
        "judicial_procedure",
        "(2026) Jing 0105 Min Chu 1234",
    )
    assert (event.shared, event.filtered_out) == (2, 0) and sorted(outcome.allowed) == sorted(p.id for p in people)
    audit = db.execute(select(AuditEvent).where(AuditEvent.object_id == event.id)).scalar_one()
    assert audit.action == "registers.shared" and audit.details["legal_ground"] == "judicial_procedure"
    assert not any(p.id in json.dumps(audit.details) for p in people)


@pytest.mark.promise("P10")
def test_purpose_change_requires_reconsent(db: Session, make_subject) -> None:
    sharing.add_recipient(
        db,
        key="certified_partners",
        name="Certified partners",
        kind="partner",
        purposes=["sharing.affiliates"],
        actor="test",
    )
    before, later = make_subject(), make_subject()
    _give(db, before, "sharing.partners")
    changed = sharing.change_purposes(
        db, "certified_partners", purposes=["sharing.partners"], reason="installs", actor="test"
    )
    assert changed.reconsent_since is not None and changed.purpose_changes[0]["old"] == ["sharing.affiliates"]
    outcome = sharing.share(db, recipient="certified_partners", subject_ids=[before.id, later.id], actor="test")
    assert outcome.allowed == [] and outcome.event.reasons == {"NO_CONSENT": 1, "RECONSENT_REQUIRED": 1}
    _give(db, before, "sharing.partners")  # asked again after the change
    again = sharing.share(db, recipient="certified_partners", subject_ids=[before.id, later.id], actor="test")
    assert again.allowed == [before.id]
    with pytest.raises(InvalidInput, match="did not change"):
        sharing.change_purposes(db, "certified_partners", purposes=["sharing.partners"], actor="test")
    events = db.execute(select(AuditEvent.action).where(AuditEvent.object_id == changed.id)).scalars().all()
    assert events == ["registers.recipient.added", "registers.recipient.purpose_changed"]


def test_large_share_uses_the_snapshot_with_the_same_answers(db: Session, make_subject) -> None:
    _affiliates(db)
    people = [make_subject() for _ in range(60)]
    for subject in people[::3]:
        _give(db, subject)
    outcome = sharing.share(db, recipient="keptek_affiliates", subject_ids=[p.id for p in people], actor="test")
    assert outcome.allowed == [p.id for p in people[::3]]
    assert outcome.event.reasons == {"NO_CONSENT": 40}


def test_share_of_categories_the_data_map_does_not_declare_is_refused(db: Session, make_subject) -> None:
    sharing.add_recipient(
        db,
        key="certified_partners",
        name="Certified partners",
        kind="partner",
        purposes=["sharing.partners"],
        categories=["user.contact.email"],
        actor="test",
    )
    subject = make_subject()
    _give(db, subject, "sharing.partners")
    with pytest.raises(InvalidInput) as caught:
        sharing.share(db, recipient="certified_partners", subject_ids=[subject.id], actor="test")
    assert "does not declare these categories for 'sharing.partners'" in caught.value.detail
    assert caught.value.problems[0].where == "categories"
    assert _count(db, SharingEvent) == 0


def test_share_to_a_recipient_abroad_needs_cross_border_consent(db: Session, make_subject) -> None:
    sharing.add_recipient(
        db,
        key="us_affiliate",
        name="Keptek US",
        kind="affiliate",
        purposes=["sharing.affiliates"],
        categories=["user.name"],
        region="US",
        actor="test",
    )
    subject = make_subject()
    _give(db, subject)
    outcome = sharing.share(db, recipient="us_affiliate", subject_ids=[subject.id], actor="test")
    assert outcome.allowed == [] and outcome.event.reasons == {"CROSS_BORDER_CONSENT_REQUIRED": 1}
