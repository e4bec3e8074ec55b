"""Decisions: the rule matrix, each reason code, answered alike by the in-memory Decider and from the store."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from privet.consent.decisions import rules as d
from privet.consent.decisions.service import Decider, decide
from privet.consent.ledger import service as ledger
from privet.consent.models import VisitorLink
from privet.kit.clock import utcnow

pytestmark = pytest.mark.usefixtures("keptek")
ADULT = date.today().replace(year=date.today().year - 35)
CHILD = date.today().replace(year=date.today().year - 8)


def rec(db: Session, purpose: str, event: str = "given", subject=None, **kw):
    """Record through the ledger (the real path)."""
    who = {"subject_id": subject.id} if subject is not None else {}
    return ledger.record(db, purpose=purpose, event=event, method=kw.pop("method", "api"), actor="test", **who, **kw)


def both(db: Session, ring, purpose: str, **kw) -> d.Decision:
    """Decide in memory and from the store; both must agree."""
    db.flush()
    fast = Decider.load(db).decide(purpose, session=db, keyring=ring, **kw)
    slow = decide(db, purpose=purpose, keyring=ring, **kw)
    assert fast == slow, (fast, slow)
    return fast


def test_consent_purpose_lifecycle(db: Session, ring, make_subject) -> None:
    s = make_subject(ADULT)
    assert both(db, ring, "marketing.communications", subject_id=s.id).reason == d.NO_CONSENT
    given = rec(db, "marketing.communications", subject=s)
    got = both(db, ring, "marketing.communications", subject_id=s.id)
    assert (got.allowed, got.reason, got.legal_basis, got.record_id) == (True, d.CONSENT_GIVEN, "consent", given.id)
    withdrawn = rec(db, "marketing.communications", "withdrawn", subject=s)
    got = both(db, ring, "marketing.communications", subject_id=s.id)
    assert (got.allowed, got.reason, got.record_id) == (False, d.CONSENT_WITHDRAWN, withdrawn.id)
    rec(db, "marketing.communications", "refused", subject=s)
    assert both(db, ring, "marketing.communications", subject_id=s.id).reason == d.CONSENT_REFUSED
    rec(db, "marketing.communications", "renewed", subject=s)
    assert both(db, ring, "marketing.communications", subject_id=s.id).reason == d.CONSENT_GIVEN
    rec(db, "marketing.communications", "expired", subject=s)
    assert both(db, ring, "marketing.communications", subject_id=s.id).reason == d.CONSENT_EXPIRED


def test_expiry_time_and_identity_lookup(db: Session, ring, make_subject, faker_multi) -> None:
    from privet.subjects import service

    email = faker_multi.unique.email()
    s = service.create_subject(db, ring, [("email", email, True)], actor="test")
    past = utcnow() - timedelta(days=10)
    rec(db, "analytics.usage", subject=s, at=past, expires_at=past + timedelta(days=1))
    got = both(db, ring, "analytics.usage", identity=("email", email))
    assert (got.allowed, got.reason) == (False, d.CONSENT_EXPIRED)
    earlier = both(db, ring, "analytics.usage", identity=("email", email), at=past + timedelta(hours=1))
    assert (earlier.allowed, earlier.reason) == (True, d.CONSENT_GIVEN)
    unknown = both(db, ring, "analytics.usage", identity=("email", faker_multi.unique.email()))
    assert (unknown.allowed, unknown.reason) == (False, d.UNKNOWN_SUBJECT)


def test_non_consent_bases_objection_and_restriction(db: Session, ring, make_subject) -> None:
    s = make_subject(ADULT)
    got = both(db, ring, "service.order", subject_id=s.id)
    assert (got.allowed, got.reason, got.legal_basis, got.record_id) == (True, "CONTRACT", "contract", None)
    assert both(db, ring, "security", subject_id=s.id).reason == "LEGAL_OBLIGATION"
    objected = rec(db, "service.order", "objected", subject=s)
    got = both(db, ring, "service.order", subject_id=s.id)
    assert (got.allowed, got.reason, got.record_id) == (False, d.OBJECTED, objected.id)
    rec(db, "service.order", "lifted", subject=s)
    assert both(db, ring, "service.order", subject_id=s.id).allowed
    rec(db, "security", "restricted", subject=s)
    assert both(db, ring, "security", subject_id=s.id).reason == d.RESTRICTED
    # the adult holder of a mixed purpose (contract for adults, guardian consent for children) rests on contract
    assert both(db, ring, "service.account", subject_id=s.id).reason == "CONTRACT"


def test_unknown_and_undeclared(db: Session, ring, make_subject) -> None:
    s = make_subject(ADULT)
    rec(db, "marketing.communications", subject=s)
    assert both(db, ring, "marketing.advertising", subject_id=s.id).reason == d.UNDECLARED_PURPOSE
    assert both(db, ring, "no.such.purpose", subject_id=s.id).reason == d.UNKNOWN_PURPOSE
    assert (
        both(db, ring, "marketing.communications", subject_id=s.id, categories=["user.no_such"]).reason
        == d.UNKNOWN_CATEGORY
    )
    assert (
        both(db, ring, "marketing.communications", subject_id=s.id, categories=["user.government_id"]).reason
        == d.CATEGORY_NOT_DECLARED
    )
    assert both(db, ring, "marketing.communications", subject_id=s.id, categories=["user.contact.email"]).allowed
    assert both(db, ring, "marketing.communications", subject_id="0" * 26).reason == d.UNKNOWN_SUBJECT
    # a narrower purpose than a declared one is decided by the declared one
    assert both(db, ring, "marketing.communications.email", subject_id=s.id).allowed


def test_categories_consented_narrowly(db: Session, ring, make_subject) -> None:
    s = make_subject(ADULT)
    rec(db, "marketing.communications", subject=s, categories=["user.contact.email"])
    assert both(db, ring, "marketing.communications", subject_id=s.id, categories=["user.contact.email"]).allowed
    assert (
        both(db, ring, "marketing.communications", subject_id=s.id, categories=["user.contact.phone"]).reason
        == d.CATEGORY_NOT_CONSENTED
    )


def test_sensitive_categories_need_separate_consent(db: Session, ring, make_subject) -> None:
    s = make_subject(ADULT)
    plain = rec(db, "partner.certification", subject=s)  # PIPL: a third-party separate consent, not sensitive data
    assert plain.separate_kind == "third_party"
    got = both(db, ring, "partner.certification", subject_id=s.id)  # the purpose's own categories: an ID document
    assert (got.allowed, got.reason, got.record_id) == (False, d.SEPARATE_CONSENT_REQUIRED, plain.id)
    assert both(db, ring, "partner.certification", subject_id=s.id, categories=["user.name"]).allowed
    sensitive = rec(db, "partner.certification", subject=s, categories=["user.government_id", "user.name"])
    assert sensitive.separate_kind == "sensitive"
    got = both(db, ring, "partner.certification", subject_id=s.id, categories=["user.government_id"])
    assert (got.allowed, got.legal_basis, got.record_id) == (True, "separate_consent", sensitive.id)
    # a later non-sensitive consent does not undo the separate one
    rec(db, "partner.certification", subject=s, categories=["user.name"])
    assert both(db, ring, "partner.certification", subject_id=s.id, categories=["user.government_id"]).allowed


def test_cross_border(db: Session, ring, make_subject) -> None:
    s = make_subject(ADULT)
    rec(db, "marketing.communications", subject=s)
    assert both(db, ring, "marketing.communications", subject_id=s.id, region="CN").allowed
    got = both(db, ring, "marketing.communications", subject_id=s.id, region="US")
    assert got.reason == d.CROSS_BORDER_CONSENT_REQUIRED
    assert both(db, ring, "service.order", subject_id=s.id, region="US").reason == d.CROSS_BORDER_CONSENT_REQUIRED
    rec(db, "marketing.communications", subject=s, separate_kind="cross_border")
    assert both(db, ring, "marketing.communications", subject_id=s.id, region="US").allowed
    assert not both(db, ring, "service.order", subject_id=s.id, region="US").allowed
    rec(db, "transfer.cross_border", subject=s)  # the declared cross-border transfer purpose covers every use abroad
    assert both(db, ring, "service.order", subject_id=s.id, region="US").allowed


def test_withdrawal_denies_from_its_moment_not_before(db: Session, ring, make_subject) -> None:
    s = make_subject(ADULT)
    t0 = utcnow() - timedelta(days=30)
    given = rec(db, "analytics.usage", subject=s, at=t0)
    withdrawn = rec(db, "analytics.usage", "withdrawn", subject=s, at=t0 + timedelta(days=10))
    before = both(db, ring, "analytics.usage", subject_id=s.id, at=t0 - timedelta(seconds=1))
    assert before.reason == d.NO_CONSENT
    during = both(db, ring, "analytics.usage", subject_id=s.id, at=t0 + timedelta(days=5))
    assert (during.allowed, during.record_id) == (True, given.id)
    after = both(db, ring, "analytics.usage", subject_id=s.id, at=t0 + timedelta(days=10))
    assert (after.allowed, after.reason, after.record_id) == (False, d.CONSENT_WITHDRAWN, withdrawn.id)
    assert not both(db, ring, "analytics.usage", subject_id=s.id).allowed


def test_material_change(db: Session, ring, make_subject) -> None:
    from privet.notices import service as notices

    text = "Privacy policy\n1. Marketing\nWe send offers.\n2. Analytics\nWe count visits.\n"
    purposes = ["marketing.communications", "analytics.usage"]
    notices.publish(
        db, key="privacy-policy", texts={"en": text}, effective_date=date.today(), purposes=purposes, actor="test"
    )
    s = make_subject(ADULT)
    before = rec(db, "marketing.communications", subject=s, at=utcnow() - timedelta(days=2))
    rec(db, "analytics.usage", subject=s, at=utcnow() - timedelta(days=2))
    assert both(db, ring, "marketing.communications", subject_id=s.id).allowed
    notices.publish(
        db,
        key="privacy-policy",
        texts={"en": text + "3. Partners\nWe now share offers.\n"},
        effective_date=date.today(),
        purposes=purposes,
        material=["marketing.communications"],
        actor="test",
    )
    got = both(db, ring, "marketing.communications", subject_id=s.id)
    assert (got.allowed, got.reason, got.record_id) == (False, d.CONSENT_BEFORE_MATERIAL_CHANGE, before.id)
    assert both(db, ring, "analytics.usage", subject_id=s.id).allowed  # not affected by that change
    # as it stood before the change, the consent sufficed
    assert both(db, ring, "marketing.communications", subject_id=s.id, at=utcnow() - timedelta(days=1)).allowed
    renewed = rec(db, "marketing.communications", "renewed", subject=s)
    got = both(db, ring, "marketing.communications", subject_id=s.id)
    assert (got.allowed, got.record_id) == (True, renewed.id)
    notices.publish(
        db,
        key="privacy-policy",
        texts={"en": text + "3. Partners\nWe now share offers (typo fixed).\n"},
        effective_date=date.today(),
        purposes=purposes,
        actor="test",
    )  # not material
    assert both(db, ring, "marketing.communications", subject_id=s.id).allowed


def test_child_needs_verified_guardian_consent(db: Session, ring, make_subject) -> None:
    from privet.subjects import ages, guardians

    child, parent = make_subject(CHILD), make_subject(ADULT)
    assert both(db, ring, "marketing.communications", subject_id=child.id).reason == d.GUARDIAN_CONSENT_REQUIRED
    assert both(db, ring, "service.order", subject_id=child.id).reason == "CONTRACT"
    assert both(db, ring, "service.account", subject_id=child.id).reason == d.GUARDIAN_CONSENT_REQUIRED
    guardians.link_guardian(db, parent, child, "parent", verified_method="sms_code", evidence={}, actor="test")
    given = rec(db, "marketing.communications", subject=child, guardian_id=parent.id, method="guardian")
    got = both(db, ring, "marketing.communications", subject_id=child.id)
    assert (got.allowed, got.record_id) == (True, given.id)
    rec(
        db,
        "service.account",
        subject=child,
        guardian_id=parent.id,
        method="guardian",
        categories=["user.minor", "user.account.guardian_consent"],
    )
    assert both(db, ring, "service.account", subject_id=child.id).allowed
    # consent the person gave themselves before their age was known does not count once they are known a child
    late = make_subject()
    own = rec(db, "marketing.communications", subject=late)
    ages.set_birth_date(db, ring, late, CHILD, policy=ages.age_policy(db), actor="test")
    got = both(db, ring, "marketing.communications", subject_id=late.id)
    assert (got.allowed, got.reason, got.record_id) == (False, d.GUARDIAN_CONSENT_REQUIRED, own.id)


def test_gpc_opts_out_of_marketing_and_sharing(db: Session, ring, make_subject) -> None:
    visitor = "vis-" + utcnow().strftime("%H%M%S%f")
    ledger.record(
        db,
        visitor_id=visitor,
        purpose="marketing.personalisation",
        event="given",
        method="banner",
        actor="test",
        at=utcnow() - timedelta(hours=1),
    )
    ledger.record(
        db,
        visitor_id=visitor,
        purpose="analytics.usage",
        event="given",
        method="banner",
        actor="test",
        at=utcnow() - timedelta(hours=1),
    )
    assert both(db, ring, "marketing.personalisation", visitor_id=visitor).allowed
    gpc = ledger.record(
        db,
        visitor_id=visitor,
        purpose="marketing.personalisation",
        event="refused",
        method="gpc",
        actor="test",
        evidence={"gpc": True},
        at=utcnow() - timedelta(minutes=30),
    )
    got = both(db, ring, "marketing.personalisation", visitor_id=visitor)
    assert (got.allowed, got.reason, got.record_id) == (False, d.GPC_OPT_OUT, gpc.id)
    ledger.record(
        db,
        visitor_id=visitor,
        purpose="marketing.communications",
        event="given",
        method="banner",
        actor="test",
        at=utcnow() - timedelta(minutes=45),
    )
    assert both(db, ring, "marketing.communications", visitor_id=visitor).reason == d.GPC_OPT_OUT
    assert both(db, ring, "analytics.usage", visitor_id=visitor).allowed  # not sale, sharing or advertising
    ledger.record(
        db, visitor_id=visitor, purpose="marketing.communications", event="given", method="form", actor="test"
    )  # an explicit opt-in after the signal
    assert both(db, ring, "marketing.communications", visitor_id=visitor).allowed


def test_merged_subjects_and_linked_visitors(db: Session, ring, make_subject) -> None:
    from privet.subjects import service

    keep, absorb = make_subject(ADULT), make_subject(ADULT)
    given = rec(db, "marketing.communications", subject=absorb)
    service.merge(db, keep, absorb, actor="test")
    for who in (keep.id, absorb.id):
        got = both(db, ring, "marketing.communications", subject_id=who)
        assert (got.allowed, got.record_id) == (True, given.id)
    visitor = "vis-" + utcnow().strftime("%H%M%S%f")
    cookie = ledger.record(
        db, visitor_id=visitor, purpose="analytics.usage", event="given", method="banner", actor="test"
    )
    assert not both(db, ring, "analytics.usage", subject_id=keep.id).allowed
    db.add(VisitorLink(visitor_id=visitor, subject_id=absorb.id, linked_at=utcnow()))
    got = both(db, ring, "analytics.usage", subject_id=keep.id)
    assert (got.allowed, got.record_id) == (True, cookie.id)
    assert both(db, ring, "marketing.communications", visitor_id=visitor).allowed  # the visitor is that subject
    rec(db, "analytics.usage", "withdrawn", subject=keep)  # the later choice wins across holders
    assert not both(db, ring, "analytics.usage", visitor_id=visitor).allowed


def test_decision_as_dict_and_bad_calls(db: Session) -> None:
    assert d.Decision(True, d.CONSENT_GIVEN, "consent", "r1").as_dict() == {
        "allowed": True,
        "reason": "CONSENT_GIVEN",
        "legal_basis": "consent",
        "record_id": "r1",
    }
    decider = Decider.load(db)
    with pytest.raises(ValueError):
        decider.decide("marketing.communications")
    with pytest.raises(ValueError):
        decider.decide("marketing.communications", subject_id="x", at=datetime.now(UTC))
