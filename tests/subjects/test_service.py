"""Subjects and identities in the store: encrypted at rest, found by blind index, merged, closed, audited."""

from __future__ import annotations

import pytest
from faker import Faker
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from privet.audit.models import AuditEvent
from privet.audit.service import verify
from privet.kit.crypto import Keyring
from privet.kit.errors import Conflict, InvalidInput, NotFound
from privet.subjects import service
from privet.subjects.models import Identity, Subject
from privet.tables import metadata


def _everything_stored(db: Session) -> str:
    """Every value of every row of every table, read with plain SQL, as one text."""
    parts = []
    for table in metadata.sorted_tables:
        for row in db.execute(text(f'SELECT * FROM "{table.name}"')):
            for value in row:
                parts.append(bytes(value).decode("latin-1") if isinstance(value, (bytes, memoryview)) else str(value))
    return "\n".join(parts)


def _audit_details(db: Session, since: int = 0) -> str:
    events = db.execute(select(AuditEvent).where(AuditEvent.seq > since)).scalars()
    return "\n".join(f"{e.action} {e.object_id} {e.details}" for e in events)


@pytest.mark.promise("P24")
def test_identities_are_encrypted_at_rest(db: Session, keyring: Keyring, fake: Faker, fake_cn: Faker) -> None:
    email, mobile, serial = fake.email(), fake_cn.phone_number(), fake.bothify("SN-####-????").upper()
    subject, created = service.get_or_create_subject(db, keyring, "email", email, actor="test", subject_type="customer")
    assert created and subject.status == "active"
    service.add_identity(db, keyring, subject, "phone", mobile, actor="test", verified=True)
    service.add_identity(db, keyring, subject, "device_serial", serial, actor="test")
    db.flush()
    stored = _everything_stored(db).lower()
    for plain in (email, mobile, f"+86{mobile}", serial, serial.replace("-", ""), email.split("@")[0]):
        assert plain.lower() not in stored
    views = service.identities_of(db, keyring, subject)
    assert [(v.type, v.value, v.verified_at is not None) for v in views] == [
        ("email", email.lower(), False),
        ("phone", f"+86{mobile}", True),
        ("device_serial", serial.replace("-", ""), False),
    ]


def test_lookup_by_blind_index_and_wrong_identity_finds_nothing(
    db: Session, keyring: Keyring, fake: Faker, fake_cn: Faker
) -> None:
    email, mobile = fake.email(), fake_cn.phone_number()
    subject = service.create_subject(db, keyring, [("email", email, False), ("phone", mobile, False)], actor="test")
    assert service.find_subject(db, keyring, "email", email.upper()).id == subject.id
    assert service.find_subject(db, keyring, "phone", f"+86 {mobile[:3]} {mobile[3:]}").id == subject.id
    assert service.find_subject(db, keyring, "email", "x" + email) is None
    assert service.find_subject(db, keyring, "user_id", email) is None  # same text, other type: other index
    index = keyring.blind_index("email", email.lower())
    assert service.subject_of_blind_index(db, index).id == subject.id
    assert service.subject_of_blind_index(db, "0" * 64) is None
    other = Keyring(b"k" * 32)  # another installation's key cannot find it
    assert service.find_subject(db, other, "email", email) is None
    with pytest.raises(InvalidInput):
        service.find_subject(db, keyring, "phone", "12345")


def test_get_or_create_returns_the_existing_subject_and_can_verify(db: Session, keyring: Keyring, fake: Faker) -> None:
    email = fake.email()
    first, created = service.get_or_create_subject(db, keyring, "email", email, actor="test")
    again, created_again = service.get_or_create_subject(db, keyring, "email", email, actor="test", verified=True)
    assert created and not created_again and again.id == first.id
    assert service.find_identity(db, keyring, "email", email).verified_at is not None
    with pytest.raises(InvalidInput):
        service.get_or_create_subject(db, keyring, "email", fake.email(), actor="test", subject_type="martian")


def test_duplicate_identity_conflicts_and_changes_nothing(db: Session, keyring: Keyring, fake: Faker) -> None:
    email = fake.email()
    alice = service.create_subject(db, keyring, [("email", email, False)], actor="test")
    bob = service.create_subject(db, keyring, [("user_id", fake.uuid4(), False)], actor="test")
    with pytest.raises(Conflict) as caught:
        service.add_identity(db, keyring, bob, "email", email.upper(), actor="test")
    assert "merge" in caught.value.hint and email not in caught.value.render()
    with pytest.raises(Conflict):
        service.create_subject(db, keyring, [("user_id", fake.uuid4(), False), ("email", email, False)], actor="test")
    with pytest.raises(InvalidInput):
        service.create_subject(db, keyring, [("email", email, False), ("email", email.upper(), False)], actor="test")
    assert [i.type for i in db.execute(select(Identity).where(Identity.subject_id == bob.id)).scalars()] == ["user_id"]
    # adding one's own identity again is harmless
    assert service.add_identity(db, keyring, alice, "email", email, actor="test").subject_id == alice.id
    assert db.scalar(select(Subject.id).where(Subject.id.not_in([alice.id, bob.id])).limit(1)) is None


def test_merge_moves_identities_and_lookup_returns_the_survivor(
    db: Session, keyring: Keyring, fake: Faker, fake_cn: Faker
) -> None:
    email, mobile, old_mobile = fake.email(), fake_cn.phone_number(), fake_cn.phone_number()
    keep = service.create_subject(db, keyring, [("email", email, True)], actor="test")
    absorb = service.create_subject(db, keyring, [("phone", mobile, False)], actor="test")
    older = service.create_subject(db, keyring, [("user_id", fake.uuid4(), False)], actor="test")
    service.merge(db, absorb, older, actor="test")  # an earlier merge into the one now absorbed
    seq = db.scalar(select(AuditEvent.seq).order_by(AuditEvent.seq.desc()).limit(1))
    survivor = service.merge(db, keep, absorb, actor="user:officer")
    assert survivor.id == keep.id and absorb.status == "merged" and absorb.merged_into_id == keep.id
    assert older.merged_into_id == keep.id  # flattened
    assert service.find_subject(db, keyring, "phone", mobile).id == keep.id
    assert service.get_subject(db, absorb.id).id == keep.id
    assert service.get_subject(db, absorb.id, follow_merge=False).id == absorb.id
    assert set(service.holder_ids(db, keep)) == {keep.id, absorb.id, older.id}
    assert service.holder_ids(db, keep)[0] == keep.id
    assert {v.type for v in service.identities_of(db, keyring, keep)} == {"email", "phone", "user_id"}
    event = db.execute(
        select(AuditEvent).where(AuditEvent.seq > seq, AuditEvent.action == "subject.merged")
    ).scalar_one()
    assert event.details["absorbed_id"] == absorb.id and event.details["identities_moved"] == 2
    details = _audit_details(db)
    for plain in (email, mobile, old_mobile, email.split("@")[0]):
        assert plain not in details
    # the absorbed subject can no longer change, and nothing merges into itself
    with pytest.raises(Conflict):
        service.add_identity(db, keyring, absorb, "phone", old_mobile, actor="test")
    with pytest.raises(Conflict):
        service.merge(db, keep, absorb, actor="test")
    with pytest.raises(InvalidInput):
        service.merge(db, keep, keep, actor="test")
    assert verify(db).ok


def test_close_subject_and_unknown_ids(db: Session, keyring: Keyring, fake: Faker) -> None:
    subject = service.create_subject(db, keyring, [("email", fake.email(), False)], actor="test")
    service.close_subject(db, subject, actor="test", reason="account_deleted")
    assert subject.status == "closed"
    assert service.close_subject(db, subject, actor="test").status == "closed"
    with pytest.raises(Conflict):
        service.add_identity(db, keyring, subject, "user_id", fake.uuid4(), actor="test")
    with pytest.raises(NotFound):
        service.get_subject(db, "nonexistent")


def test_audit_details_hold_no_identity_values(db: Session, keyring: Keyring, fake: Faker, fake_cn: Faker) -> None:
    values = [
        ("email", fake.email()),
        ("phone", fake_cn.phone_number()),
        ("wechat_openid", fake.pystr(20, 28)),
        ("user_id", fake.user_name()),
    ]
    subject = service.create_subject(db, keyring, [(values[0][0], values[0][1], False)], actor="test")
    for kind, value in values[1:]:
        identity = service.add_identity(db, keyring, subject, kind, value, actor="test")
        service.mark_verified(db, identity, actor="test", method="sms_code")
    details = _audit_details(db)
    assert "subject.identity_verified" in details and "subject.created" in details
    for _kind, value in values:
        assert value not in details and value.lower() not in details
