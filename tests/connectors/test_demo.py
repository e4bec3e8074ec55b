"""The demo companies' real data maps and databases: every SQL datastore plans, fetches and erases."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from privet.connectors.base import DatastorePlan
from privet.connectors.plan import SQL_KINDS, build_plans
from privet.connectors.registry import open_connector
from privet.connectors.sql import engines, schema
from privet.datamap.service import validate_and_apply
from privet.demo.generator import company, fill
from privet.settings import Settings
from tests.connectors.conftest import new_database

CHANGES = ("deleted", "nulled", "masked", "hashed")


@pytest.fixture(
    params=[("keptek", "sqlite"), ("zkteco", "sqlite"), ("keptek", "postgresql"), ("zkteco", "mysql")],
    ids=lambda p: "-".join(p),
)
def demo(
    request: pytest.FixtureRequest, tmp_path: Path, settings: Settings
) -> Iterator[tuple[list[DatastorePlan], Settings]]:
    """A demo company's databases (one SQLite file per datastore, or one server database) and its plans."""
    key, kind = request.param
    comp = company(key)
    if kind == "sqlite":
        urls = {store: f"sqlite:///{tmp_path / f'{store}.sqlite'}" for store in comp.datastores()}
        drop = lambda: None  # noqa: E731
    else:
        url, drop = new_database(kind, tmp_path)
        urls = dict.fromkeys(comp.datastores(), url)
    fill(key, urls, customers=12, seed=7)
    settings = settings.model_copy(update={"secrets": {comp.secret(s): u for s, u in urls.items()}})
    store = sa.create_engine(f"sqlite:///{tmp_path / 'store.sqlite'}")
    from privet.db.engine import SETTINGS_INFO
    from privet.tables import metadata

    metadata.create_all(store)
    with Session(store, info={SETTINGS_INFO: settings}) as session:
        validate_and_apply(session, Path(settings.examples_dir) / key / "datamap", actor="test")
        session.flush()
        plans = [p for p in build_plans(session, settings) if p.kind in SQL_KINDS]
    store.dispose()
    yield plans, settings
    engines.dispose_all()
    schema.forget()
    drop()


def _sample_identities(plan: DatastorePlan, settings: Settings) -> dict[str, list[str]]:
    """One stored value of each entry column (a real person of the generated data)."""
    out: dict[str, list[str]] = {}
    url = settings.secrets[plan.secret]
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        for table, column, kind in plan.entries:
            t = sa.Table(table, sa.MetaData(), autoload_with=conn)
            value = conn.execute(
                sa.select(t.c[column]).where(t.c[column].is_not(None)).order_by(*t.primary_key.columns).limit(1)
            ).scalar()
            if value is not None:
                out.setdefault(kind, []).append(str(value))
    engine.dispose()
    return out


def test_every_sql_datastore_fetches_and_erases(demo) -> None:
    plans, settings = demo
    assert plans
    for plan in plans:
        identities = _sample_identities(plan, settings)
        with open_connector(plan, settings) as connector:
            found = connector.fetch(identities)
            entry_tables = {t for t, _, kind in plan.entries if kind in identities}
            assert any(found.counts[t]["found"] for t in entry_tables), plan.datastore
            first = connector.erase(identities, retain_from=date(2025, 1, 1))
            again = connector.erase(identities, retain_from=date(2025, 1, 1))
        assert sum(first.counts[t][k] for t in first.counts for k in CHANGES) > 0, plan.datastore
        assert all(again.counts[t][k] == 0 for t in again.counts for k in CHANGES), plan.datastore
        for item in first.retained:
            assert item["reason"]
