"""The per-process caches behind recording (policy, notice versions, webhook endpoints) follow every change."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from privet.consent.ledger import service as ledger
from privet.consent.ledger import stamp
from privet.consent.ledger.rules import current_policy
from privet.consent.models import WebhookDelivery
from privet.consent.webhooks import service as webhooks
from privet.kit.crypto import Keyring
from privet.kit.errors import InvalidInput

pytestmark = pytest.mark.usefixtures("keptek")
TEXT = "# Privacy policy\n\n## 1. What we collect\n\nNames.\n\n## 2. Why\n\nTo serve you.\n"


def _rec(db: Session, subject, purpose: str = "marketing.communications", **kw):
    return ledger.record(db, subject_id=subject.id, purpose=purpose, event="given", method="api", actor="test", **kw)


def _deliveries(db: Session, record_id: str) -> list[str]:
    return list(
        db.execute(
            select(WebhookDelivery.endpoint_id).where(WebhookDelivery.payload["record_id"].as_string() == record_id)
        ).scalars()
    )


def test_a_published_notice_version_is_used_at_once_even_after_a_rolled_back_one(db: Session, make_subject) -> None:
    from privet.notices import service as notices

    person = make_subject()
    assert _rec(db, person).notice_version is None  # cached: no version yet
    savepoint = db.begin_nested()
    notices.publish(db, key="privacy-policy", texts={"en": TEXT}, effective_date=date.today(), actor="test")
    assert _rec(db, person).notice_version == 1  # cached: version 1
    savepoint.rollback()
    assert _rec(db, person).notice_version is None  # the rolled-back publication is not remembered
    published = notices.publish(
        db, key="privacy-policy", texts={"en": TEXT + "More.\n"}, effective_date=date.today(), actor="test"
    )
    entry = _rec(db, person)
    assert entry.notice_version == published.version and entry.evidence["notice_id"] == published.id
    with pytest.raises(InvalidInput, match="no version 7"):
        _rec(db, person, notice_version=7)
    with pytest.raises(InvalidInput, match="no version 7"):  # the cached answer refuses it again
        _rec(db, person, notice_version=7)


def test_webhook_endpoints_added_deactivated_or_rolled_back_are_followed(
    db: Session, make_subject, ring: Keyring
) -> None:
    person = make_subject()
    assert _deliveries(db, _rec(db, person).id) == []
    savepoint = db.begin_nested()
    ghost, _ = webhooks.add_endpoint(db, ring, url="https://hooks.example.com/a", actor="test")
    assert _deliveries(db, _rec(db, person).id) == [ghost.id]
    savepoint.rollback()  # the cache saw an endpoint that never existed
    first, _ = webhooks.add_endpoint(db, ring, url="https://hooks.example.com/b", actor="test")
    assert _deliveries(db, _rec(db, person).id) == [first.id]
    second, _ = webhooks.add_endpoint(db, ring, url="https://hooks.example.com/c", actor="test")
    assert sorted(_deliveries(db, _rec(db, person).id)) == sorted([first.id, second.id])
    webhooks.deactivate_endpoint(db, first.id, actor="test")
    assert _deliveries(db, _rec(db, person).id) == [second.id]
    webhooks.deactivate_endpoint(db, second.id, actor="test")
    assert _deliveries(db, _rec(db, person).id) == []
    assert db.execute(select(func.count()).select_from(WebhookDelivery)).scalar() == 4


def test_a_new_data_map_version_changes_what_may_be_recorded(db: Session, make_subject) -> None:
    from privet.datamap.service import validate_and_apply
    from tests.consent.conftest import ZKTECO

    person = make_subject()
    keptek = current_policy(db)
    assert stamp.policy(db, stamp.read(db)) is keptek
    validate_and_apply(db, ZKTECO, actor="test")
    zkteco = stamp.policy(db, stamp.read(db))
    assert zkteco is not keptek and zkteco.version == current_policy(db).version
    gone = sorted(k for k, r in keptek.purposes.items() if r.consent_bases and k not in zkteco.purposes)
    assert gone, "the two example maps declare different purposes"
    with pytest.raises(InvalidInput, match="undeclared purpose"):
        _rec(db, person, gone[0])
