"""Recording consent: the legal-basis matrix, separate consent, guardians, append-only withdrawal, audit."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from privet.audit.models import AuditEvent
from privet.consent.ledger import projection
from privet.consent.ledger import service as ledger
from privet.consent.models import ConsentRecord, ConsentState
from privet.kit.clock import utcnow
from privet.kit.errors import InvalidInput, NotFound

pytestmark = pytest.mark.usefixtures("keptek")


def _count(db: Session) -> int:
    return db.execute(select(func.count()).select_from(ConsentRecord)).scalar()


def _rec(db: Session, subject, purpose: str, event: str = "given", **kw):
    return ledger.record(db, subject_id=subject.id, purpose=purpose, event=event, method="api", actor="test", **kw)


@pytest.mark.parametrize(
    ("purpose", "event", "basis", "kind"),
    [
        ("marketing.communications", "given", "consent", None),
        ("marketing.communications", "refused", "consent", None),
        ("analytics.usage", "withdrawn", "consent", None),
        ("sharing.affiliates", "given", "separate_consent", "third_party"),
        ("sharing.public_disclosure", "given", "separate_consent", "disclosure"),
        ("transfer.cross_border", "given", "separate_consent", "cross_border"),
        ("service.account", "given", "separate_consent", "sensitive"),  # children's accounts: user.minor
        ("service.order", "objected", "contract", None),
        ("security", "restricted", "legal_obligation", None),
        ("service.account", "objected", "contract", None),  # the contract activity of a mixed purpose
    ],
)
def test_legal_basis_matrix_accepts(
    db: Session, make_subject, purpose: str, event: str, basis: str, kind: str | None
) -> None:
    entry = _rec(db, make_subject(), purpose, event)
    assert (entry.legal_basis, entry.separate_kind, entry.event) == (basis, kind, event)
    assert entry.jurisdiction == "CN" and entry.notice_key == "privacy-policy"


@pytest.mark.parametrize(
    ("purpose", "event", "message"),
    [
        ("service.order", "given", "does not rely on consent; record an objection instead"),
        ("legal.accounting", "withdrawn", "does not rely on consent"),
        ("marketing.communications", "objected", "relies on consent only"),
        ("marketing.advertising", "given", "undeclared purpose"),
        ("no.such.purpose", "given", "Unknown purpose"),
        ("marketing.communications", "liked", "Unknown event"),
    ],
)
def test_legal_basis_matrix_refuses_and_writes_nothing(
    db: Session, make_subject, purpose: str, event: str, message: str
) -> None:
    subject = make_subject()
    before = (_count(db), db.execute(select(func.count()).select_from(AuditEvent)).scalar())
    with pytest.raises(InvalidInput) as caught:
        _rec(db, subject, purpose, event)
    assert message in caught.value.render()
    assert (_count(db), db.execute(select(func.count()).select_from(AuditEvent)).scalar()) == before


def test_bad_inputs_are_refused(db: Session, make_subject) -> None:
    subject = make_subject()
    cases = [
        dict(categories=["user.nonsense"]),
        dict(method="carrier_pigeon"),
        dict(legal_basis="contract"),
        dict(separate_kind="whimsical"),
        dict(at=utcnow() + timedelta(days=2)),
        dict(expires_at=utcnow() - timedelta(days=1)),
        dict(language="english"),
        dict(notice_version=99),
        dict(evidence={"email": "x"}),
    ]
    for extra in cases:
        kwargs = {"method": "api", **extra}
        with pytest.raises(InvalidInput):
            ledger.record(
                db, subject_id=subject.id, purpose="marketing.communications", event="given", actor="test", **kwargs
            )
    with pytest.raises(NotFound):
        ledger.record(
            db, subject_id="0" * 26, purpose="marketing.communications", event="given", method="api", actor="test"
        )
    with pytest.raises(InvalidInput):  # both a subject and a visitor
        ledger.record(
            db,
            subject_id=subject.id,
            visitor_id="visitor-0001",
            purpose="analytics.usage",
            event="given",
            method="banner",
            actor="test",
        )
    assert _count(db) == 0


def test_sensitive_categories_force_separate_consent(db: Session, make_subject) -> None:
    entry = _rec(
        db,
        make_subject(),
        "marketing.communications",
        categories=["user.contact.email", "user.location.track"],
        legal_basis="consent",
    )
    assert (entry.legal_basis, entry.separate_kind) == ("separate_consent", "sensitive")
    assert entry.categories == ["user.contact.email", "user.location.track"]


def test_child_needs_a_verified_guardian(db: Session, make_subject, ring) -> None:
    from privet.subjects.guardians import link_guardian

    today = date.today()
    child = make_subject(birth=today.replace(year=today.year - 10))
    with pytest.raises(InvalidInput, match="child"):
        _rec(db, child, "marketing.communications")
    parent = make_subject(birth=today.replace(year=today.year - 40))
    stranger = make_subject(birth=today.replace(year=today.year - 35))
    with pytest.raises(InvalidInput, match="verified guardian"):
        _rec(db, child, "marketing.communications", guardian_id=stranger.id)
    link_guardian(db, parent, child, "parent", verified_method="sms_code", evidence={}, actor="test")
    entry = ledger.record(
        db,
        subject_id=child.id,
        purpose="marketing.communications",
        event="given",
        method="guardian",
        actor="test",
        guardian_id=parent.id,
    )
    assert entry.guardian_id == parent.id
    # the child may still say no on their own: refusing never widens use
    assert _rec(db, child, "marketing.communications", "withdrawn").event == "withdrawn"
    # an adult needs no guardian
    assert _rec(db, parent, "marketing.communications").guardian_id is None


def test_adults_only_refuses_a_minor(db: Session, make_subject) -> None:
    from privet.datamap.service import validate_and_apply
    from tests.consent.conftest import ZKTECO

    validate_and_apply(db, ZKTECO, actor="test")
    from privet.consent.ledger.rules import current_policy

    purpose = next(
        k
        for k, r in current_policy(db).purposes.items()
        if r.consent_bases and not r.sensitive and r.type == "marketing"
    )
    today = date.today()
    minor = make_subject(birth=today.replace(year=today.year - 16))
    with pytest.raises(InvalidInput, match="adults only"):
        _rec(db, minor, purpose)
    assert _rec(db, make_subject(birth=today.replace(year=today.year - 30)), purpose).event == "given"


def test_withdrawal_appends_and_leaves_earlier_records_untouched(db: Session, make_subject) -> None:
    subject = make_subject()
    given = _rec(db, subject, "marketing.communications", at=utcnow() - timedelta(days=3))
    snapshot = {c: getattr(given, c) for c in ("id", "event", "at", "legal_basis", "categories", "recorded_at")}
    withdrawn = ledger.withdraw(
        db, subject_id=subject.id, purpose="marketing.communications", method="form", actor="test"
    )
    db.expire_all()
    again = ledger.get_record(db, given.id)
    assert {c: getattr(again, c) for c in snapshot} == snapshot
    assert withdrawn.seq > given.seq and _count(db) == 2
    assert [r.event for r in ledger.history(db, [subject.id])] == ["given", "withdrawn"]
    assert [r.event for r in ledger.history(db, [f"s:{subject.id}"], "marketing.communications")] == [
        "given",
        "withdrawn",
    ]
    assert projection.state(db, f"s:{subject.id}", "marketing.communications").event == "withdrawn"


def test_backdated_record_does_not_overwrite_newer_state(db: Session, make_subject) -> None:
    subject = make_subject()
    _rec(db, subject, "marketing.communications", "withdrawn")
    old = _rec(db, subject, "marketing.communications", "given", at=utcnow() - timedelta(days=400))
    state = projection.state(db, f"s:{subject.id}", "marketing.communications")
    assert state.event == "withdrawn" and state.record_seq != old.seq


def test_one_audit_event_per_record_without_identity(db: Session, make_subject, ring) -> None:
    subject = make_subject()
    before = db.execute(select(func.max(AuditEvent.seq))).scalar()
    entry = _rec(
        db, subject, "marketing.communications", client_ip="203.0.113.9", user_agent="Mozilla/5.0", keyring=ring
    )
    events = db.execute(select(AuditEvent).where(AuditEvent.seq > before)).scalars().all()
    assert [e.action for e in events] == ["consent.recorded"]
    assert events[0].object_id == entry.id
    assert events[0].details["purpose"] == "marketing.communications" and events[0].details["event"] == "given"
    assert subject.id not in str(events[0].details)
    assert "203.0.113.9" not in str(entry.evidence) and len(entry.evidence["client"]) == 32
    assert entry.evidence["user_agent"] == "Mozilla/5.0"


def test_notice_version_defaults_to_the_current_policy(db: Session, make_subject) -> None:
    from privet.notices import service as notices

    entry = _rec(db, make_subject(), "marketing.communications")
    assert entry.notice_version is None  # nothing published yet
    text = "# Privacy policy\n\n## 1. What we collect\n\nNames.\n\n## 2. Why\n\nTo serve you.\n"
    published = notices.publish(db, key="privacy-policy", texts={"en": text}, effective_date=date.today(), actor="test")
    entry = _rec(db, make_subject(), "marketing.communications")
    assert entry.notice_version == published.version and entry.evidence["notice_id"] == published.id
    assert (
        _rec(db, make_subject(), "marketing.communications", notice_version=published.version).notice_version
        == published.version
    )


def test_state_counts_match_records(db: Session, make_subject) -> None:
    subject = make_subject()
    for purpose in ("marketing.communications", "analytics.usage", "marketing.events"):
        _rec(db, subject, purpose)
    assert (
        db.execute(
            select(func.count()).select_from(ConsentState).where(ConsentState.holder == f"s:{subject.id}")
        ).scalar()
        == 3
    )
