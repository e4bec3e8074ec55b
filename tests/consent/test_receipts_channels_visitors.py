"""Receipts verify and tampered ones do not; channel preferences; cookie banner, GPC and visitor linking."""

from __future__ import annotations

import copy

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from privet.audit.models import AuditEvent
from privet.consent import channels, visitors
from privet.consent.ledger import projection, receipts
from privet.consent.ledger import service as ledger
from privet.consent.ledger.rules import current_policy
from privet.consent.models import ConsentRecord
from privet.kit.crypto import Keyring
from privet.kit.errors import Conflict, InvalidInput
from tests.support.tamper import lift_guards

pytestmark = pytest.mark.usefixtures("keptek")


def _receipt(db: Session, ring: Keyring, subject) -> tuple[ConsentRecord, dict]:
    entry = ledger.record(
        db,
        subject_id=subject.id,
        purpose="marketing.communications",
        event="given",
        method="form",
        actor="test",
        categories=["user.contact.email"],
        language="zh_CN",
    )
    controller = receipts.controller_from(current_policy(db).organisation)
    return entry, receipts.receipt(ring, entry, controller=controller)


def test_receipt_fields_and_verification(db: Session, ring: Keyring, make_subject) -> None:
    subject = make_subject()
    entry, doc = _receipt(db, ring, subject)
    assert doc["consentReceiptID"] == entry.id and doc["purpose"] == "marketing.communications"
    assert doc["piiPrincipalId"] == f"subject:{subject.id}" and doc["jurisdiction"] == "CN"
    assert doc["piiControllers"][0]["piiController"] == "Keptek Technologies (demo)"
    assert doc["legalBasis"] == "consent" and doc["piiCategories"] == ["user.contact.email"]
    assert doc["language"] == "zh_CN" and doc["collectionMethod"] == "form" and doc["event"] == "given"
    check = receipts.verify_receipt(db, ring, doc)
    assert check.valid, check.reason


def test_tampered_receipts_do_not_verify(db: Session, ring: Keyring, make_subject) -> None:
    _entry, doc = _receipt(db, ring, make_subject())
    changed = copy.deepcopy(doc)
    changed["event"] = "withdrawn"
    assert not receipts.verify_receipt(db, ring, changed).valid
    bad_signature = {
        **doc,
        "signature": doc["signature"][:-4] + ("AAAA" if doc["signature"][-4:] != "AAAA" else "BBBB"),
    }
    assert "signature" in receipts.verify_receipt(db, ring, bad_signature).reason
    other_key = Keyring(b"x" * 32)
    assert not receipts.verify_receipt(db, other_key, doc).valid
    assert not receipts.verify_receipt(db, ring, {k: v for k, v in doc.items() if k != "signature"}).valid
    # a correctly signed receipt for a record the ledger does not hold
    forged = {k: v for k, v in doc.items() if k != "signature"}
    forged["consentReceiptID"] = "0" * 26
    resigned = {**forged, "signature": receipts._b64(ring.signing_key("receipts").sign(receipts.canonical(forged)))}
    assert receipts.verify_receipt(db, ring, resigned).reason.startswith("the ledger holds no record")


def test_receipt_signed_but_ledger_differs(db: Session, ring: Keyring, make_subject) -> None:
    entry, doc = _receipt(db, ring, make_subject())
    lift_guards(db)  # someone with DDL rights drops the append-only triggers first
    db.execute(
        ConsentRecord.__table__.update()
        .where(ConsentRecord.__table__.c.id == entry.id)
        .values(purpose="analytics.usage")
    )  # someone edited the append-only ledger behind Privet's back
    db.expire_all()
    check = receipts.verify_receipt(db, ring, doc)
    assert not check.valid and "purpose" in check.reason


def test_public_key_verifies_signatures(ring: Keyring) -> None:
    import base64

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    key = receipts.public_key(ring)
    raw = base64.urlsafe_b64decode(key["public_key"] + "=" * (-len(key["public_key"]) % 4))
    Ed25519PublicKey.from_public_bytes(raw).verify(ring.signing_key("receipts").sign(b"x"), b"x")
    assert key["pem"].startswith("-----BEGIN PUBLIC KEY-----")


def test_channels_marketing_optional_notices_locked(db: Session, make_subject) -> None:
    subject = make_subject()
    channels.set_preference(db, subject.id, "marketing.communications", "sms", False, actor="test")
    channels.set_preference(db, subject.id, "marketing.communications", "email", True, actor="test")
    with pytest.raises(InvalidInput, match="cannot be switched off"):
        channels.set_preference(db, subject.id, "notice.updates", "sms", False, actor="test")
    channels.set_preference(db, subject.id, "notice.updates", "sms", True, actor="test")  # opting in is fine
    for purpose, channel in (
        ("marketing.communications", "fax"),
        ("service.order", "email"),
        ("marketing.advertising", "email"),
    ):
        with pytest.raises(InvalidInput):
            channels.set_preference(db, subject.id, purpose, channel, True, actor="test")
    prefs = channels.preferences(db, subject.id)
    assert prefs["marketing.communications"]["channels"] == {"email": True, "sms": False, "push": None}
    assert prefs["notice.updates"] == {
        "type": "notice",
        "locked": True,
        "channels": {"email": True, "sms": True, "push": True},
    }
    actions = db.execute(
        select(AuditEvent.action, AuditEvent.details).where(AuditEvent.action == "consent.channel_set")
    ).all()
    assert len(actions) == 3 and all("purpose" in d for _, d in actions)


def test_cookie_choice_records_each_declared_category(db: Session, ring: Keyring) -> None:
    result = visitors.record_cookie_choice(
        db,
        visitor_id="vis-1234567890",
        categories={"necessary": False, "analytics": True, "marketing": False},
        gpc=False,
        client_ip="198.51.100.7",
        user_agent="Mozilla/5.0",
        actor="banner",
        keyring=ring,
    )
    assert result["choice"] == {"necessary": True, "preferences": False, "analytics": True, "marketing": False}
    assert result["purposes"] == {
        "preferences": None,
        "analytics": "analytics.usage",
        "marketing": "marketing.personalisation",
    }
    assert {(r["purpose"], r["event"]) for r in result["records"]} == {
        ("analytics.usage", "given"),
        ("marketing.personalisation", "refused"),
    }
    stored = ledger.history(db, ["v:vis-1234567890"])
    assert all(r.method == "banner" and r.evidence["gpc"] is False and "198.51" not in str(r.evidence) for r in stored)
    assert projection.state(db, "v:vis-1234567890", "analytics.usage").event == "given"
    with pytest.raises(InvalidInput):
        visitors.record_cookie_choice(
            db, visitor_id="vis-1234567890", categories={"tracking": True}, gpc=False, actor="banner"
        )


def test_gpc_is_honoured_and_recorded(db: Session) -> None:
    result = visitors.record_cookie_choice(
        db, visitor_id="vis-gpc-000001", categories={"analytics": True, "marketing": True}, gpc=True, actor="banner"
    )
    assert result["choice"]["marketing"] is False and result["gpc_honoured"] is True
    by_purpose = {r.purpose: r for r in ledger.history(db, ["v:vis-gpc-000001"])}
    marketing = by_purpose["marketing.personalisation"]
    assert marketing.event == "refused" and marketing.method == "gpc" and marketing.evidence["gpc_honoured"] is True
    assert by_purpose["analytics.usage"].event == "given"  # GPC is about sale/sharing/ads, not analytics
    shared = [p for p in by_purpose if p.startswith("sharing.")]
    assert shared and all(by_purpose[p].event == "refused" and by_purpose[p].method == "gpc" for p in shared)


def test_visitor_linking(db: Session, make_subject) -> None:
    subject, other = make_subject(), make_subject()
    visitors.record_cookie_choice(
        db, visitor_id="vis-link-00001", categories={"analytics": True}, gpc=False, actor="banner"
    )
    link = visitors.link_visitor(db, "vis-link-00001", subject.id, actor="test")
    assert visitors.link_visitor(db, "vis-link-00001", subject.id, actor="test") is link  # idempotent
    with pytest.raises(Conflict):
        visitors.link_visitor(db, "vis-link-00001", other.id, actor="test")
    assert visitors.visitor_ids(db, subject.id) == ["vis-link-00001"]
    assert visitors.holders(db, [subject.id]) == [f"s:{subject.id}", "v:vis-link-00001"]
    assert {r.purpose for r in ledger.history(db, visitors.holders(db, [subject.id]))} >= {"analytics.usage"}
    with pytest.raises(InvalidInput):
        visitors.link_visitor(db, "bad id!", subject.id, actor="test")


def test_gpc_document(db: Session) -> None:
    doc = visitors.gpc_document(db)
    assert doc["gpc"] is True and len(doc["lastUpdate"]) == 10
