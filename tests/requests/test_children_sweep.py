"""The children sweep (P27) files verified closure requests that erase a child's data across datastores."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from privet.audit.models import AuditEvent
from privet.kit.clock import frozen_at, utcnow
from privet.kit.crypto import Keyring
from privet.requests.models import DsrRequest
from privet.settings import Settings
from privet.subjects import ages, guardians
from privet.subjects.service import get_or_create_subject
from tests.requests.shop import LOGINS


def _person(store: Session, keyring: Keyring, email: str, born: date):
    subject, _ = get_or_create_subject(store, keyring, "email", email, actor="test", verified=True)
    ages.set_birth_date(store, keyring, subject, born, policy=ages.age_policy(store), actor="test")
    return subject


def test_children_without_a_verified_guardian_are_erased_after_the_grace(
    store: Session, keyring: Keyring, conf: Settings, shop_db, drain, fake
) -> None:
    from privet.retention import children

    today = date.today()
    child_born = today.replace(year=today.year - 10)
    with frozen_at(utcnow() - timedelta(days=conf.children_grace_days + 1)):
        orphan = _person(store, keyring, shop_db.customers[2].email, child_born)
        guarded = _person(store, keyring, fake.unique.email(domain="example.com"), child_born)
        parent = _person(store, keyring, fake.unique.email(domain="example.com"), today.replace(year=today.year - 40))
        guardians.link_guardian(store, parent, guarded, "parent", verified_method="sms_code", evidence={}, actor="test")
    _person(store, keyring, fake.unique.email(domain="example.com"), child_born)  # new: still inside the grace
    store.flush()
    assert [d.subject.id for d in children.due(store, conf)] == [orphan.id]
    preview = children.sweep(store, keyring, conf, actor="test", dry_run=True)
    assert preview["filed"] == 1 and store.execute(select(DsrRequest)).first() is None
    counts = children.sweep(store, keyring, conf, actor="test")
    assert counts == {**counts, "due": 1, "filed": 1, "by_reason": {children.CHILD_REASON: 1}}
    request = store.execute(select(DsrRequest).where(DsrRequest.subject_id == orphan.id)).scalar_one()
    assert request.type == "closure" and request.channel == "system" and request.verified_at is not None
    drain()
    store.refresh(request)
    assert request.status == "completed", request.result
    assert shop_db.count(LOGINS, customer_id=shop_db.customers[2].id) == 0
    again = children.sweep(store, keyring, conf, actor="test")  # closed now: nothing due, nothing filed
    assert again["filed"] == 0
    events = store.execute(select(AuditEvent).where(AuditEvent.action == "retention.child_erasure_filed")).scalars()
    assert [e.object_id for e in events] == [orphan.id]


def test_adults_only_erases_flagged_minors(store: Session, keyring: Keyring, conf: Settings, fake) -> None:
    from privet.datamap.models import DatamapOrganisation
    from privet.retention import children

    store.execute(select(DatamapOrganisation)).scalar_one().adults_only = True
    store.flush()
    today = date.today()
    minor = _person(store, keyring, fake.unique.email(domain="example.com"), today.replace(year=today.year - 16))
    _person(store, keyring, fake.unique.email(domain="example.com"), today.replace(year=today.year - 30))
    assert minor.deletion_flagged_at is not None
    counts = children.sweep(store, keyring, conf, actor="test")
    assert counts["filed"] == 1 and counts["by_reason"] == {children.MINOR_REASON: 1}
    assert children.sweep(store, keyring, conf, actor="test")["already_open"] == 1  # not filed twice
