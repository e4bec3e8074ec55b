"""Fixtures: the shop database on SQLite, PostgreSQL and MariaDB, and its plan built from the applied data map."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from privet.connectors.base import DatastorePlan
from privet.connectors.plan import build_plan
from privet.connectors.sql import engines, schema
from privet.settings import Settings
from tests.connectors import shop
from tests.support.services import create_mysql_database, create_pg_database

KINDS = ["sqlite", "postgresql", "mysql"]


def new_database(kind: str, tmp: Path) -> tuple[str, callable]:
    """An empty database of `kind` and a function that drops it."""
    if kind == "sqlite":
        path = tmp / "shop.sqlite"
        sa.create_engine(f"sqlite:///{path}").connect().close()  # the connector never creates files
        return f"sqlite:///{path}", lambda: None
    return create_pg_database() if kind == "postgresql" else create_mysql_database()


def applied_plan(tmp: Path, manifest: str, datastore: str, settings: Settings) -> DatastorePlan:
    """Apply `manifest` to a scratch SQLite store (`<tmp>/store.sqlite`) and build the datastore's plan from it."""
    from privet.datamap.service import validate_and_apply
    from privet.db.engine import SETTINGS_INFO
    from privet.tables import metadata

    folder = tmp / f"datamap-{datastore}"
    folder.mkdir(exist_ok=True)
    (folder / "datamap.yaml").write_text(manifest, encoding="utf-8")
    store = sa.create_engine(f"sqlite:///{tmp / 'store.sqlite'}")
    metadata.create_all(store)
    try:
        with Session(store, info={SETTINGS_INFO: settings}) as session:
            validate_and_apply(session, folder, actor="test")
            session.commit()  # kept, so a test can build plans from this store again
            return build_plan(session, settings, datastore)
    finally:
        store.dispose()


@pytest.fixture(params=KINDS)
def shop_db(request: pytest.FixtureRequest, tmp_path: Path, settings: Settings) -> Iterator[tuple[str, Settings]]:
    """A filled shop database of each kind, its URL registered as the secret `shop_db`."""
    url, drop = new_database(request.param, tmp_path)
    shop.create(url)
    settings = settings.model_copy(update={"secrets": {"shop_db": url}})
    yield url, settings
    engines.dispose_all()
    schema.forget()
    drop()


@pytest.fixture
def shop_plan(shop_db: tuple[str, Settings], tmp_path: Path) -> DatastorePlan:
    """The shop datastore's plan from its data map (kind matching the database)."""
    url, settings = shop_db
    kind = sa.engine.make_url(url).get_backend_name().replace("mariadb", "mysql")
    return applied_plan(tmp_path, shop.DATAMAP.replace("__KIND__", kind), "shop_db", settings)
