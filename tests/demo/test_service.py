"""`load_demo` end to end on a real store: databases generated, secrets registered, data map applied, audited."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from privet.audit.models import AuditEvent
from privet.datamap.models import DatamapVersion
from privet.datamap.secrets import known_secrets
from privet.db.engine import make_engine
from privet.demo.service import load_demo, load_demo_if_empty
from privet.kit.errors import InvalidInput, Unavailable
from privet.settings import Settings
from tests.support.services import create_pg_database


def migrated(url: str) -> Engine:
    """An engine on a store with Privet's schema (migrations once they exist, else create_all)."""
    from privet.db import migrate
    from privet.tables import metadata

    engine = make_engine(url)
    if migrate.head_revision():
        migrate.upgrade(engine)
    else:
        metadata.create_all(engine)
    return engine


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A fresh store of each kind; the demo commits into it, so it is not the shared rolled-back one."""
    url, drop = (
        (f"sqlite:///{tmp_path / 'privet.db'}", lambda: None) if request.param == "sqlite" else create_pg_database()
    )
    engine = migrated(url)
    yield engine
    engine.dispose()
    drop()


def _count(engine: Engine, model: type, *where: object) -> int:
    with Session(engine) as session:
        return session.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def test_load_demo_generates_registers_and_applies(settings: Settings, store: Engine) -> None:
    summary = load_demo(settings, store, "keptek", customers=15)
    assert "Data map applied: version 1" in summary and "crm" in summary
    folder = Path(settings.data_dir) / "demo" / "keptek"
    assert sorted(p.name for p in folder.glob("*.sqlite")) == [
        "analytics.sqlite",
        "crm.sqlite",
        "devices.sqlite",
        "training.sqlite",
    ]
    secrets = known_secrets(settings)
    assert secrets["keptek_crm"].endswith("/demo/keptek/crm.sqlite")
    crm = sa.create_engine(secrets["keptek_crm"])
    with crm.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM customers")).scalar_one() == 15
    crm.dispose()
    with Session(store) as session:
        event = session.execute(select(AuditEvent).where(AuditEvent.action == "demo.loaded")).scalar_one()
    assert event.object_id == "keptek" and event.details["datamap_version"] == 1
    assert "sqlite" not in str(event.details)  # counts and keys only, no URLs

    from privet.datamap.manifest import load_manifest
    from privet.datamap.service import canonical, current
    from privet.settings import REPO_ROOT

    with Session(store) as session:  # the store holds exactly the YAML's meaning
        applied = canonical(current(session))
    assert applied == canonical(load_manifest(REPO_ROOT / "examples" / "keptek" / "datamap").manifest)

    again = load_demo(settings, store, "keptek", customers=15)
    assert "Data map unchanged (version 1)" in again and "already there, kept" in again

    switched = load_demo(settings, store, "zkteco", customers=10)
    assert "version 2" in switched
    assert _count(store, DatamapVersion) == 2
    assert {"keptek_crm", "zkteco_cloud_us"} <= set(known_secrets(settings))


def test_init_loads_only_into_an_empty_store(settings: Settings, store: Engine) -> None:
    first = load_demo_if_empty(settings, store, "zkteco")
    assert "version 1" in first
    second = load_demo_if_empty(settings, store, "keptek")
    assert second.startswith("Already set up: the store holds ZKTeco (demo)'s data map (version 1), kept as it is")
    assert "privet demo --company keptek" in second and "not loaded" not in second
    again = load_demo_if_empty(settings, store, "zkteco")  # `make run` a second time
    assert again == (
        "Already set up: the store and the ZKTeco (demo) company with its data map (version 1) are kept as they are."
    )
    assert _count(store, DatamapVersion) == 1


def test_one_url_holds_every_datastore(settings: Settings, store: Engine, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'all.sqlite'}"
    load_demo(settings, store, "zkteco", datastore_url=url, customers=8)
    secrets = known_secrets(settings)
    assert {secrets[f"zkteco_{k}"] for k in ("accounts_cn", "accounts_eu", "cloud_us", "support_sg")} == {url}
    engine = sa.create_engine(url)
    assert {"accounts", "eu_accounts", "video_clips", "support_tickets"} <= set(sa.inspect(engine).get_table_names())
    engine.dispose()


def test_unknown_company_changes_nothing(settings: Settings, store: Engine) -> None:
    with pytest.raises(InvalidInput) as err:
        load_demo(settings, store, "acme")
    assert "keptek" in err.value.render() and "zkteco" in err.value.render()
    with pytest.raises(InvalidInput):
        load_demo_if_empty(settings, store, "acme")
    assert _count(store, DatamapVersion) == 0 and known_secrets(settings) == {}
    assert not (Path(settings.data_dir) / "demo").exists()


def test_missing_example_folder_is_a_clear_error(settings: Settings, store: Engine, tmp_path: Path) -> None:
    moved = settings.model_copy(update={"examples_dir": tmp_path / "nowhere"})
    with pytest.raises(InvalidInput, match="PRIVET_EXAMPLES_DIR"):
        load_demo(moved, store, "keptek")
    assert _count(store, DatamapVersion) == 0


def test_store_without_migrations_is_refused_before_generating(settings: Settings, tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        with pytest.raises(Unavailable, match="privet db upgrade"):
            load_demo(settings, engine, "keptek", customers=5)
    finally:
        engine.dispose()
    assert not (Path(settings.data_dir) / "demo").exists() and known_secrets(settings) == {}
