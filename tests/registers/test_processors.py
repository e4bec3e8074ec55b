"""The processor register (P9): create, list, update, bad input, and the alerts."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from privet.audit.models import AuditEvent
from privet.kit.errors import Conflict, InvalidInput
from privet.registers import processors
from privet.registers.models import Processor

pytestmark = pytest.mark.usefixtures("keptek")
TODAY = date(2026, 6, 1)


def _add(db: Session, key: str, **kw) -> Processor:
    values = dict(
        name=key.replace("_", " ").title(),
        agreement_ref=f"DPA-{key}",
        signed_on=TODAY - timedelta(days=300),
        expires_on=TODAY + timedelta(days=400),
        purposes=["sharing.processors"],
        categories=["user.contact.phone"],
        regions=["CN"],
        security_measures=["encryption at rest"],
    )
    values.update(kw)
    return processors.add_processor(db, key=key, actor="test", **values)


def test_create_list_update(db: Session) -> None:
    added = _add(db, "sms_gateway")
    assert [p.key for p in processors.list_processors(db)] == ["sms_gateway"]
    assert added.regions == ["CN"] and added.security_measures == ["encryption at rest"]
    with pytest.raises(Conflict):
        _add(db, "sms_gateway")
    renewed = _add(db, "sms_gateway", expires_on=TODAY + timedelta(days=800), replace=True)
    assert renewed.id == added.id and renewed.expires_on == TODAY + timedelta(days=800)
    actions = db.execute(select(AuditEvent.action).where(AuditEvent.object_id == added.id)).scalars().all()
    assert actions == ["registers.processor.added", "registers.processor.updated"]


@pytest.mark.parametrize(
    ("changes", "where"),
    [
        ({"purposes": ["no.such.purpose"]}, "purposes.0"),
        ({"categories": ["user.nothing"]}, "categories.0"),
        ({"regions": ["china"]}, "regions.0"),
        ({"expires_on": TODAY - timedelta(days=400)}, "expires_on"),
        ({"agreement_ref": None}, "agreement_ref"),
    ],
)
def test_bad_input_changes_nothing(db: Session, changes: dict, where: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        _add(db, "cloud_host", **changes)
    assert caught.value.problems[0].where == where and caught.value.hint
    assert db.execute(select(func.count()).select_from(Processor)).scalar_one() == 0
    with pytest.raises(InvalidInput):
        _add(db, "Bad Key")


@pytest.mark.promise("P9")
def test_alerts_missing_expiring_expired(db: Session) -> None:
    # The Keptek map names sms_gateway, customer_support_vendor, email_service_provider, cloud_host,
    # payment_provider and courier.
    _add(db, "sms_gateway", expires_on=TODAY + timedelta(days=10), purposes=[], categories=[])
    _add(db, "customer_support_vendor", expires_on=TODAY - timedelta(days=1), purposes=[], categories=[])
    _add(db, "cloud_host", agreement_ref=None, signed_on=None, expires_on=None, purposes=[], categories=[])
    found = processors.alerts(db, days=30, today=TODAY)
    kinds = {(a.kind, a.processor) for a in found}
    assert kinds == {
        ("unregistered", "email_service_provider"),
        ("unregistered", "payment_provider"),
        ("unregistered", "courier"),
        ("expired", "customer_support_vendor"),
        ("no_agreement", "cloud_host"),
        ("expiring", "sms_gateway"),
    }
    expiring = next(a for a in found if a.kind == "expiring")
    assert expiring.days_left == 10 and "account_registration" in expiring.activities
    unregistered = next(a for a in found if a.kind == "unregistered" and a.key == "email_service_provider")
    assert "marketing_messages" in unregistered.activities
    # a shorter window: the agreement 10 days out is no longer "expiring"
    shorter = processors.alerts(db, days=5, today=TODAY)
    assert ("expiring", "sms_gateway") not in {(a.kind, a.processor) for a in shorter}
    with pytest.raises(InvalidInput):
        processors.alerts(db, days=-1)


@pytest.mark.promise("P9")
def test_alert_when_the_data_map_entrusts_more_than_the_entry(db: Session) -> None:
    # sms_gateway serves account_registration (service.account), marketing_messages (marketing.communications),
    # update_notices (notice.updates) and entrusted_processing (sharing.processors) in the Keptek map.
    _add(db, "sms_gateway", purposes=["service", "marketing", "notice"], categories=[])
    scope = [a for a in processors.alerts(db, today=TODAY) if a.kind == "out_of_scope"]
    assert len(scope) == 1 and "sharing.processors" in scope[0].message and "marketing" not in scope[0].message
    _add(
        db,
        "sms_gateway",
        purposes=["service", "marketing", "notice", "sharing"],
        categories=["user.name"],
        replace=True,
    )
    scope = [a for a in processors.alerts(db, today=TODAY) if a.kind == "out_of_scope"]
    assert len(scope) == 1 and "user.contact.phone" in scope[0].message and "service" not in scope[0].message
    _add(db, "sms_gateway", purposes=["service", "marketing", "notice", "sharing"], categories=["user"], replace=True)
    assert not [a for a in processors.alerts(db, today=TODAY) if a.kind == "out_of_scope"]
    assert processors.activities_by_processor(db)["sms_gateway"][0][0] == "account_registration"
