"""The company's extension is stored with its data map; the effective taxonomy reads it (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from privet.audit.models import AuditEvent
from privet.kit.errors import InvalidInput
from privet.taxonomy import service
from privet.taxonomy.loader import default_taxonomy
from privet.taxonomy.models import TaxonomyExtension

ACTOR = "test:taxonomy"
EXTENSION = {
    "categories": [{"key": "user.contact.wechat_id", "name": {"en": "WeChat ID", "zh_CN": "微信号"}}],
    "purposes": [{"key": "marketing.wechat", "name": {"en": "WeChat marketing"}}],
}


def _events(db: Session) -> list[AuditEvent]:
    return list(
        db.scalars(select(AuditEvent).where(AuditEvent.action == "taxonomy.extension_set").order_by(AuditEvent.seq))
    )


def test_empty_store_gives_the_default(db: Session) -> None:
    assert service.effective(db) is default_taxonomy()
    assert service.set_extension(db, None, actor=ACTOR) is False and _events(db) == []


def test_set_then_effective_then_unchanged_is_silent(db: Session) -> None:
    assert service.set_extension(db, EXTENSION, actor=ACTOR) is True
    taxonomy = service.effective(db)
    assert taxonomy.categories["user.contact.wechat_id"].source == "company"
    assert taxonomy.purposes["marketing.wechat"].type == "marketing"
    [event] = _events(db)
    assert event.actor == ACTOR and event.details["company_entries"]["categories"] == 1
    assert event.details["company_entries"]["purposes"] == 1 and "WeChat" not in str(event.details)
    assert service.set_extension(db, dict(EXTENSION), actor=ACTOR) is False  # same meaning: no new event
    assert len(_events(db)) == 1


def test_clearing_the_extension_returns_to_the_default(db: Session) -> None:
    service.set_extension(db, EXTENSION, actor=ACTOR)
    assert service.set_extension(db, None, actor=ACTOR) is True
    assert service.effective(db) is default_taxonomy() and len(_events(db)) == 2
    assert db.get(TaxonomyExtension, 1).content is None


def test_bad_extension_changes_nothing(db: Session) -> None:
    service.set_extension(db, EXTENSION, actor=ACTOR)
    bad = {"categories": [{"key": "user.contact.fax.home", "name": {"en": "Home fax"}}]}
    with pytest.raises(InvalidInput) as caught:
        service.set_extension(db, bad, actor=ACTOR, source="datamap/taxonomy.yaml")
    assert caught.value.problems[0].where == "datamap/taxonomy.yaml"
    assert "user.contact.wechat_id" in service.effective(db).categories
    assert len(_events(db)) == 1 and db.scalar(select(func.count()).select_from(TaxonomyExtension)) == 1
