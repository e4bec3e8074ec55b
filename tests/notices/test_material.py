"""Material changes judged from the data map, marked ones, and the moments the decision engine relies on."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy.orm import Session

from privet.datamap.schemas import Manifest
from privet.datamap.service import apply
from privet.kit.clock import frozen_at
from privet.notices import service
from tests.datamap.factories import crm_doc
from tests.notices.conftest import POLICY_V1

DAY = date(2025, 11, 28)


def _activity(doc: dict, key: str) -> dict:
    return next(a for a in doc["processing_activities"] if a["key"] == key)


def _apply(db: Session, doc: dict) -> None:
    apply(db, Manifest.model_validate(doc), actor="test")


def _publish(db: Session, text: str, key: str = "main", **kw):
    return service.publish(db, key=key, texts={"en": text}, effective_date=kw.pop("effective", DAY), actor="test", **kw)


def _widened() -> dict:
    doc = crm_doc()
    marketing = _activity(doc, "marketing_emails")
    marketing["required_categories"].append("user.contact.phone")
    marketing["processors"] = ["sms_gateway"]
    return doc


def test_widened_purpose_is_material_with_its_reasons(db: Session) -> None:
    _apply(db, crm_doc())
    v1 = _publish(db, POLICY_V1)
    assert v1.material_purposes == [] and v1.change_summary["datamap_version"] == 1
    _apply(db, _widened())
    v2 = _publish(db, POLICY_V1 + "5. SMS\nWe may also text you offers.\n")
    assert v2.change_summary["datamap_version"] == 2
    assert v2.material_purposes == ["marketing.communications.email"]  # service.support, legal.accounting untouched
    reasons = v2.change_summary["material"]["marketing.communications.email"]
    assert {"code": "categories_widened", "added": ["user.contact.phone"], "datamap_version": 2} in reasons
    assert {"code": "processors_widened", "added": ["sms_gateway"], "datamap_version": 2} in reasons


def test_new_purpose_and_new_transfer_are_material(db: Session) -> None:
    _apply(db, crm_doc())
    _publish(db, POLICY_V1)
    doc = crm_doc()
    _activity(doc, "customer_service")["transfers"] = [{"destination": "SG", "recipient": "support_vendor"}]
    doc["processing_activities"].append(
        {
            "key": "surveys",
            "name": "Surveys",
            "purpose": "marketing.surveys",
            "legal_basis": "consent",
            "required_categories": ["user.contact.email"],
        }
    )
    _apply(db, doc)
    v2 = _publish(db, POLICY_V1 + "5. Surveys\nWe may ask your opinion.\n")
    material = v2.change_summary["material"]
    assert sorted(material) == ["marketing.surveys", "service.support"]
    assert material["marketing.surveys"] == [{"code": "purpose_added", "datamap_version": 2}]
    assert material["service.support"] == [
        {"code": "transfers_widened", "added": ["SG:support_vendor"], "datamap_version": 2}
    ]


def test_narrowing_or_an_unchanged_map_is_not_material(db: Session) -> None:
    _apply(db, _widened())
    _publish(db, POLICY_V1)
    v2 = _publish(db, POLICY_V1 + "5. Cookies\nNone.\n")  # same data map: text change only
    assert v2.material_purposes == [] and v2.change_summary["datamap_version"] == 1
    _apply(db, crm_doc())  # marketing narrowed back
    v3 = _publish(db, POLICY_V1 + "5. Cookies\nNone at all.\n")
    assert v3.material_purposes == []


def test_a_notice_judges_only_the_purposes_it_covers(db: Session) -> None:
    _apply(db, crm_doc())
    _publish(db, "Our newsletter.", key="newsletter", kind="just_in_time", purposes=["marketing"])
    _publish(db, "Our camera app.", key="camera", kind="product", product="camera", purposes=["service.support"])
    _apply(db, _widened())
    newsletter = _publish(db, "Our newsletter, now also by SMS.", key="newsletter", kind="just_in_time")
    camera = _publish(db, "Our camera app, v2.", key="camera", kind="product", product="camera")
    assert newsletter.material_purposes == ["marketing.communications.email"]  # a sub-purpose of marketing
    assert camera.material_purposes == []


def test_a_reduced_right_is_marked_explicitly(db: Session) -> None:
    _publish(db, POLICY_V1, purposes=["legal.accounting", "service.account"])
    v2 = _publish(db, POLICY_V1.replace("access, correct and delete", "access"), material=["legal.accounting"])
    assert v2.material_purposes == ["legal.accounting"]
    assert v2.change_summary["material"] == {"legal.accounting": [{"code": "marked"}]}


def test_a_purpose_added_to_the_notice_is_material(db: Session) -> None:
    _publish(db, POLICY_V1, purposes=["service.account"])
    v2 = _publish(db, POLICY_V1, purposes=["service.account", "marketing.surveys"])
    assert v2.change_summary["material"] == {"marketing.surveys": [{"code": "purpose_added_to_notice"}]}


def test_material_changes_gives_the_latest_moment_per_purpose(db: Session) -> None:
    t1 = datetime(2026, 1, 10, 9, 30, tzinfo=UTC)
    t2 = datetime(2026, 2, 1, 12, 0, tzinfo=UTC)
    with frozen_at(datetime(2026, 1, 1, tzinfo=UTC)):
        _publish(db, POLICY_V1, purposes=["marketing", "service.account", "legal.accounting"])
        _publish(db, "Newsletter.", key="newsletter", kind="just_in_time", purposes=["marketing"])
    assert service.material_changes(db) == {}
    with frozen_at(t1):  # effective earlier than publication: the moment is the publication
        _publish(
            db, POLICY_V1 + "5. More\nText.\n", material=["marketing", "legal.accounting"], effective=date(2026, 1, 5)
        )
    with frozen_at(t2):  # effective later than publication: the moment is that day's midnight UTC
        _publish(
            db,
            "Newsletter, changed.",
            key="newsletter",
            kind="just_in_time",
            material=["marketing"],
            effective=date(2026, 3, 1),
        )
    assert service.material_changes(db) == {"marketing": datetime(2026, 3, 1, tzinfo=UTC), "legal.accounting": t1}
