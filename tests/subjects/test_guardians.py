"""Guardian links: who may be linked, and from when to when a verified guardian can act for a child."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from faker import Faker
from sqlalchemy import select
from sqlalchemy.orm import Session

from privet.audit.models import AuditEvent
from privet.kit.clock import frozen_at
from privet.kit.crypto import Keyring
from privet.kit.errors import Conflict, InvalidInput
from privet.subjects import ages, guardians, service
from privet.subjects.ages import AgePolicy
from privet.subjects.models import Identity, Subject

PIPL = AgePolicy("pipl", 14, False)
T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


def _person(db: Session, keyring: Keyring, fake: Faker, born: date | None, *, verified: bool = False) -> Subject:
    subject = service.create_subject(db, keyring, [("email", fake.email(), verified)], actor="test")
    if born is not None:
        ages.set_birth_date(db, keyring, subject, born, policy=PIPL, actor="test")
    return subject


@pytest.fixture
def family(db: Session, keyring: Keyring, fake: Faker) -> tuple[Subject, Subject]:
    with frozen_at(T0 - timedelta(days=30)):
        return _person(db, keyring, fake, date(1985, 4, 2)), _person(db, keyring, fake, date(2016, 9, 9))


@pytest.mark.promise("P27")
def test_link_rules(db: Session, keyring: Keyring, fake: Faker, family: tuple[Subject, Subject]) -> None:
    parent, child = family
    teen = _person(db, keyring, fake, date(2009, 1, 1))  # 17 in 2026: a minor, not a child under PIPL
    unknown = _person(db, keyring, fake, None)
    with frozen_at(T0):
        for guardian, kid, relationship in (
            (parent, child, "uncle"),
            (child, child, "parent"),
            (child, teen, "parent"),
            (parent, teen, "parent"),
            (parent, unknown, "parent"),
        ):
            with pytest.raises(InvalidInput):
                guardians.link_guardian(
                    db, guardian, kid, relationship, verified_method=None, evidence={}, actor="test"
                )
        with pytest.raises(InvalidInput):
            guardians.link_guardian(
                db, parent, child, "parent", verified_method=None, evidence={"contact": fake.email()}, actor="test"
            )
        with pytest.raises(InvalidInput):
            guardians.link_guardian(
                db, parent, child, "parent", verified_method="Not a method!", evidence={}, actor="test"
            )
        assert guardians.links_of(db, child.id) == []
        link = guardians.link_guardian(
            db,
            parent,
            child,
            "legal_guardian",
            verified_method="sms_code",
            evidence={"client": keyring.fingerprint(fake.ipv4()), "notice_version": 3},
            actor="test",
        )
        again = guardians.link_guardian(
            db, parent, child, "legal_guardian", verified_method=None, evidence={}, actor="test"
        )
    assert again.id == link.id and link.verified_at == T0 and link.verification_method == "sms_code"
    assert link.attested_at == T0 and link.relationship == "legal_guardian"
    event = db.execute(select(AuditEvent).where(AuditEvent.action == "guardian.linked")).scalar_one()
    assert event.details["evidence_keys"] == ["client", "notice_version"] and event.details["child_id"] == child.id
    service.close_subject(db, teen, actor="test")
    with pytest.raises(Conflict):
        guardians.link_guardian(db, parent, teen, "parent", verified_method=None, evidence={}, actor="test")


def test_verified_guardian_time_semantics(db: Session, family: tuple[Subject, Subject], keyring: Keyring) -> None:
    parent, child = family
    t_verify, t_revoke = T0 + timedelta(hours=2), T0 + timedelta(days=10)
    with frozen_at(T0):
        link = guardians.link_guardian(db, parent, child, "parent", verified_method=None, evidence={}, actor="test")
    assert link.verified_at is None and guardians.verified_guardian(db, child.id, T0 + timedelta(hours=1)) is None
    identity = service.identities_of(db, keyring, parent)[0]
    with frozen_at(t_verify):  # the guardian proves control of their e-mail: the waiting link becomes verified
        service.mark_verified(db, db.get(Identity, identity.id), actor="test", method="email_code")
    db.refresh(link)
    assert link.verified_at == t_verify and link.verification_method == "email_code"
    assert guardians.verified_guardian(db, child.id, t_verify - timedelta(seconds=1)) is None
    assert guardians.verified_guardian(db, child.id, t_verify).id == link.id
    assert guardians.is_guardian_of(db, parent.id, child.id, t_verify)
    with frozen_at(t_revoke):
        guardians.revoke_link(db, link, actor="test", reason="court_order")
        guardians.revoke_link(db, link, actor="test")  # idempotent
    assert guardians.verified_guardian(db, child.id, t_revoke - timedelta(seconds=1)).id == link.id  # as it stood
    assert guardians.verified_guardian(db, child.id, t_revoke) is None
    assert not guardians.is_guardian_of(db, parent.id, child.id, t_revoke + timedelta(days=1))
    assert guardians.verified_guardian(db, child.id, T0 - timedelta(days=1)) is None
    assert db.query(AuditEvent).filter(AuditEvent.action == "guardian.revoked").count() == 1


def test_an_already_verified_guardian_counts_from_the_link(db: Session, keyring: Keyring, fake: Faker) -> None:
    with frozen_at(T0 - timedelta(days=60)):
        parent = _person(db, keyring, fake, date(1980, 1, 1), verified=True)
        child = _person(db, keyring, fake, date(2018, 5, 5))
    with frozen_at(T0):
        link = guardians.link_guardian(db, parent, child, "parent", verified_method=None, evidence={}, actor="test")
    assert link.verification_method == "identity" and link.verified_at == T0 - timedelta(days=60)
    assert guardians.verified_guardian(db, child.id, T0 - timedelta(days=1)) is None  # not linked yet
    assert guardians.verified_guardian(db, child.id, T0).id == link.id


def test_merge_carries_guardian_links(
    db: Session, keyring: Keyring, fake: Faker, family: tuple[Subject, Subject]
) -> None:
    parent, child = family
    with frozen_at(T0):
        link = guardians.link_guardian(db, parent, child, "parent", verified_method="token", evidence={}, actor="test")
    duplicate = _person(db, keyring, fake, None)
    service.merge(db, duplicate, parent, actor="test")  # the parent's other account survives
    db.refresh(link)
    assert (
        link.guardian_id == duplicate.id and guardians.verified_guardian(db, child.id, T0).guardian_id == duplicate.id
    )
    service.merge(db, duplicate, child, actor="test")  # absurd but possible: the link would point at itself
    db.refresh(link)
    assert link.revoked_at is not None


def test_merging_two_accounts_linked_to_the_same_child_keeps_one_link(
    db: Session, keyring: Keyring, fake: Faker, family: tuple[Subject, Subject]
) -> None:
    parent, child = family
    with frozen_at(T0 - timedelta(days=20)):
        other = _person(db, keyring, fake, date(1986, 7, 1))
    with frozen_at(T0):
        unverified = guardians.link_guardian(
            db, other, child, "parent", verified_method=None, evidence={}, actor="test"
        )
        verified = guardians.link_guardian(
            db, parent, child, "parent", verified_method="sms_code", evidence={}, actor="test"
        )
    assert unverified.verified_at is None
    service.merge(db, other, parent, actor="test")  # the two accounts were one person all along
    db.refresh(unverified)
    db.refresh(verified)
    assert verified.revoked_at is None and unverified.revoked_at is not None  # the verified link is the one kept
    again = guardians.link_guardian(db, other, child, "parent", verified_method=None, evidence={}, actor="test")
    assert again.id == verified.id
