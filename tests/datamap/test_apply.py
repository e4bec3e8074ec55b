"""Applying a manifest is declarative, idempotent, versioned and audited; bad input changes nothing."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, event, func, insert, select
from sqlalchemy.orm import Session

from privet.audit.models import AuditEvent
from privet.audit.service import verify
from privet.datamap import service
from privet.datamap.models import DatamapActivity, DatamapDataset, DatamapField, DatamapTable, DatamapVersion
from privet.db.engine import make_engine, make_sessionmaker, session_scope
from privet.db.migrate import upgrade
from privet.kit.clock import utcnow
from privet.kit.errors import Conflict, InvalidInput, NotFound
from privet.settings import Settings
from tests.datamap.factories import CRM_YAML, crm_doc, crm_manifest, write_folder
from tests.support.services import create_pg_database

ACTOR = "test:apply"


def _count(db: Session, model: type) -> int:
    return db.execute(select(func.count()).select_from(model)).scalar_one()


def _events(db: Session) -> list[AuditEvent]:
    return list(db.scalars(select(AuditEvent).order_by(AuditEvent.seq)))


def test_first_apply_creates_rows_version_and_audit_events(db: Session) -> None:
    result = service.apply(db, crm_manifest(), actor=ACTOR)
    assert result.changed and result.version == 1
    assert result.diff.counts() == {"created": 1 + 1 + 2 + 2 + 3, "updated": 0, "deleted": 0}
    assert _count(db, DatamapTable) == 4 and _count(db, DatamapField) == 16
    email = db.scalars(
        select(DatamapField).where(DatamapField.dataset_key == "mailing", DatamapField.name == "email")
    ).one()
    assert (email.table_name, email.category, email.identity, email.indexed) == (
        "subscribers",
        "user.contact.email",
        "email",
        True,
    )
    street = db.scalars(select(DatamapField).where(DatamapField.name == "street")).one()
    assert street.erasure_action == "mask"
    orgs = db.scalars(select(DatamapTable).where(DatamapTable.name == "organisations")).one()
    assert (orgs.erasure_action, orgs.erasure_duration) == ("retain", "P5Y")
    version = db.get(DatamapVersion, 1)
    assert version.actor == ACTOR and len(version.sha256) == 64
    assert version.document == service.canonical(crm_manifest())
    events = _events(db)
    assert events[-1].action == "datamap.applied" and events[-1].details["version"] == 1
    assert events[-1].details["created"] == 9
    created = [e for e in events if e.action.endswith(".created") and e.action.startswith("datamap.")]
    assert {(e.object_type, e.object_id) for e in created} >= {
        ("dataset", "crm"),
        ("datastore", "mail_db"),
        ("processing_activity", "accounting"),
    }
    assert verify(db).ok


def test_second_apply_of_same_manifest_changes_nothing(db: Session) -> None:
    service.apply(db, crm_manifest(), actor=ACTOR)
    events, versions = len(_events(db)), _count(db, DatamapVersion)
    result = service.apply(db, crm_manifest(), actor="someone-else")
    assert not result.changed and result.version == 1 and result.diff.empty
    assert len(_events(db)) == events and _count(db, DatamapVersion) == versions


def test_reordering_sections_is_not_a_change(db: Session) -> None:
    service.apply(db, crm_manifest(), actor=ACTOR)
    doc = crm_doc()
    result = service.apply(
        db,
        crm_manifest(datasets=doc["datasets"][::-1], processing_activities=doc["processing_activities"][::-1]),
        actor=ACTOR,
    )
    assert not result.changed


def test_what_disappears_from_the_manifest_disappears_from_the_store(db: Session) -> None:
    service.apply(db, crm_manifest(), actor=ACTOR)
    doc = crm_doc()
    doc["datasets"] = [d for d in doc["datasets"] if d["key"] != "mailing"]
    doc["datastores"] = [d for d in doc["datastores"] if d["key"] != "mail_db"]
    doc["processing_activities"] = [a for a in doc["processing_activities"] if a["key"] != "marketing_emails"]
    result = service.apply(db, crm_manifest(**doc), actor=ACTOR)
    assert result.version == 2
    assert result.diff.sections["datasets"].deleted == ["mailing"]
    assert db.scalars(select(DatamapDataset.key)).all() == ["crm"]
    assert _count(db, DatamapField) == 12 and _count(db, DatamapTable) == 3
    assert db.scalars(select(DatamapActivity.key).order_by(DatamapActivity.key)).all() == [
        "accounting",
        "customer_service",
    ]
    deleted = {(e.object_type, e.object_id) for e in _events(db) if e.action.endswith(".deleted")}
    assert deleted == {("dataset", "mailing"), ("datastore", "mail_db"), ("processing_activity", "marketing_emails")}


def test_update_changes_rows_in_place(db: Session) -> None:
    service.apply(db, crm_manifest(), actor=ACTOR)
    field_id = db.scalars(select(DatamapField.id).where(DatamapField.name == "phone")).one()
    doc = crm_doc()
    customers = doc["datasets"][0]["tables"][1]
    customers["fields"][4]["category"] = "user.contact"
    customers["fields"].append(
        {"name": "wechat", "category": "user.account.third_party_id", "identity": "wechat_openid"}
    )
    doc["datasets"][0]["tables"].pop(2)  # addresses
    result = service.apply(db, crm_manifest(**doc), actor=ACTOR)
    assert result.diff.sections["datasets"].updated == ["crm"]
    phone = db.get(DatamapField, field_id)
    assert phone.category == "user.contact"
    assert db.scalars(
        select(DatamapField.name).where(DatamapField.table_name == "customers").order_by(DatamapField.position)
    ).all() == ["id", "organisation_id", "name", "email", "phone", "closed_at", "wechat"]
    assert _count(db, DatamapTable) == 3
    assert service.canonical(service.current(db)) == service.canonical(crm_manifest(**doc))


def test_invalid_manifest_is_refused_and_nothing_changes(db: Session) -> None:
    service.apply(db, crm_manifest(), actor=ACTOR)
    before = (len(_events(db)), _count(db, DatamapField), _count(db, DatamapVersion))
    doc = crm_doc()
    doc["datasets"][1]["datastore"] = "missing_db"
    doc["datasets"][1]["tables"][0]["fields"][2]["category"] = "user.nonsense"
    with pytest.raises(InvalidInput) as caught:
        service.apply(db, crm_manifest(**doc), actor=ACTOR)
    assert len(caught.value.problems) == 2
    assert "datasets.1.datastore" in caught.value.problems[0].where
    assert (len(_events(db)), _count(db, DatamapField), _count(db, DatamapVersion)) == before


def test_dry_run_reports_changes_without_writing(db: Session) -> None:
    result = service.apply(db, crm_manifest(), actor=ACTOR, dry_run=True)
    assert result.dry_run and result.changed and result.version is None
    assert result.diff.counts()["created"] == 9
    assert _count(db, DatamapVersion) == 0 and _events(db) == [] and service.current(db) is None


def test_versions_and_diff(db: Session) -> None:
    service.apply(db, crm_manifest(), actor=ACTOR)
    doc = crm_doc()
    doc["systems"].append({"key": "web", "name": "Website"})
    doc["systems"][0]["owner"] = "customer success"
    service.apply(db, crm_manifest(**doc), actor=ACTOR)
    assert [v.number for v in service.versions(db)] == [1, 2]
    v2 = service.version(db, 2)
    assert v2.summary["systems"] == {"created": ["web"], "updated": ["crm"]}
    changes = service.diff(service.manifest_of(service.version(db, 1)), service.manifest_of(v2))
    assert changes.lines() == ["+ systems.web", "~ systems.crm"]
    with pytest.raises(NotFound, match="No data map version 3"):
        service.version(db, 3)


def test_taxonomy_section_is_stored_as_the_extension(db: Session) -> None:
    from privet.taxonomy.service import effective

    taxonomy = {"categories": [{"key": "user.loyalty", "name": {"en": "Loyalty points"}}]}
    doc = crm_doc()
    doc["datasets"][0]["tables"][1]["fields"][2]["category"] = "user.loyalty"
    result = service.apply(db, crm_manifest(**doc, taxonomy=taxonomy), actor=ACTOR)
    assert result.diff.taxonomy_changed
    assert "user.loyalty" in effective(db).categories
    assert service.current(db).taxonomy == taxonomy
    assert any(e.action == "taxonomy.extension_set" for e in _events(db))


def test_organisation_rename_replaces_the_row(db: Session) -> None:
    service.apply(db, crm_manifest(), actor=ACTOR)
    doc = crm_doc()
    doc["organisation"]["key"] = "acme_cn"
    result = service.apply(db, crm_manifest(**doc), actor=ACTOR)
    assert result.diff.sections["organisation"].created == ["acme_cn"]
    assert service.current(db).organisation.key == "acme_cn"


def test_validate_and_apply_reads_a_folder(db: Session, tmp_path: Path) -> None:
    result = service.validate_and_apply(db, write_folder(tmp_path), actor=ACTOR)
    assert result.version == 1
    assert service.canonical(service.current(db)) == service.canonical(crm_manifest())


def test_yaml_taxonomy_section_applies_idempotently(db: Session, tmp_path: Path) -> None:
    addition = "taxonomy:\n  categories:\n    - key: user.loyalty\n      name: {en: Loyalty points, zh_CN: 积分}\n"
    files = {"map.yaml": CRM_YAML.replace("category: user.name}", "category: user.loyalty}"), "taxonomy.yaml": addition}
    folder = write_folder(tmp_path, files)
    assert service.validate_and_apply(db, folder, actor=ACTOR).version == 1
    events = len(_events(db))
    assert not service.validate_and_apply(db, folder, actor=ACTOR).changed
    assert len(_events(db)) == events


def test_first_apply_with_a_taxonomy_reports_it_created_then_updated_then_deleted(db: Session) -> None:
    taxonomy = {"categories": [{"key": "user.loyalty", "name": {"en": "Loyalty points"}}]}
    first = service.apply(db, crm_manifest(taxonomy=taxonomy), actor=ACTOR)
    assert "+ taxonomy" in first.diff.lines() and "~ taxonomy" not in first.diff.lines()
    assert first.diff.counts() == {"created": 10, "updated": 0, "deleted": 0}
    assert service.version(db, 1).summary["taxonomy"] == "created"
    taxonomy["categories"][0]["name"]["zh_CN"] = "积分"
    second = service.apply(db, crm_manifest(taxonomy=taxonomy), actor=ACTOR)
    assert second.diff.lines() == ["~ taxonomy"] and second.diff.counts()["updated"] == 1
    third = service.apply(db, crm_manifest(), actor=ACTOR)
    assert third.diff.lines() == ["- taxonomy"] and third.diff.counts()["deleted"] == 1
    assert not service.apply(db, crm_manifest(), actor=ACTOR).changed


def test_a_version_written_meanwhile_is_a_conflict_not_a_crash(db: Session) -> None:
    """Another writer inserting the same version number (as a concurrent apply without a lock would)."""

    def other_writer(session: Session, _context: object, _instances: object) -> None:
        for obj in session.new:
            if isinstance(obj, DatamapVersion):
                session.connection().execute(
                    insert(DatamapVersion).values(
                        number=obj.number, applied_at=utcnow(), actor="other", sha256="0" * 64, document={}, summary={}
                    )
                )

    event.listen(db, "before_flush", other_writer)
    try:
        with pytest.raises(Conflict, match="Another apply finished first") as caught:
            service.apply(db, crm_manifest(), actor=ACTOR)
    finally:
        event.remove(db, "before_flush", other_writer)
    assert caught.value.status == 409 and caught.value.hint == "run the command again"


@pytest.fixture(params=["sqlite", "postgresql"])
def migrated_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A fresh store of its own (not the per-test transaction: the applies must commit to race)."""
    url, drop = (
        (f"sqlite:///{tmp_path / 'race.db'}", lambda: None) if request.param == "sqlite" else create_pg_database()
    )
    engine = make_engine(url)
    try:
        upgrade(engine)
        yield engine
    finally:
        engine.dispose()
        drop()


def test_concurrent_applies_both_finish_as_consecutive_versions(migrated_engine: Engine, settings: Settings) -> None:
    doc = crm_doc()
    doc["systems"][0]["owner"] = "customer success"
    manifests = {"a": crm_manifest(), "b": crm_manifest(**doc)}
    start, outcome = threading.Barrier(len(manifests), timeout=30), {}

    def run(name: str) -> None:
        try:
            with session_scope(make_sessionmaker(migrated_engine, settings)) as session:
                start.wait()
                outcome[name] = service.apply(session, manifests[name], actor=f"test:{name}")
        except Exception as exc:  # noqa: BLE001 - the assertion below shows it
            outcome[name] = exc

    threads = [threading.Thread(target=run, args=(name,)) for name in manifests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert all(isinstance(r, service.ApplyResult) and r.changed for r in outcome.values()), outcome
    assert sorted(r.version for r in outcome.values()) == [1, 2]
    with session_scope(make_sessionmaker(migrated_engine, settings)) as session:
        assert [v.number for v in service.versions(session)] == [1, 2]
        assert verify(session).ok


def test_the_map_version_read_once_per_transaction_follows_an_apply_in_that_transaction(db: Session) -> None:
    assert service.version_key(db) is None  # nothing applied yet
    service.apply(db, crm_manifest(), actor=ACTOR)
    first = service.version_key(db)
    assert first is not None and first[0] == 1
    datasets = crm_doc()["datasets"]
    datasets[0]["description"] = "changed for the test"
    service.apply(db, crm_manifest(datasets=datasets), actor=ACTOR)
    assert service.version_key(db)[0] == 2 and service.version_key(db)[1] != first[1]
