"""The decision watch's own connection on PostgreSQL: replaced at once when the server ends it, paced by back-off
(503s, no connection attempt each time) while the database refuses connections, and back when it accepts them."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from privet.consent.decisions.watch import GenerationWatch
from privet.db.engine import make_engine, make_sessionmaker
from privet.kit.errors import Unavailable
from tests.support.services import PG_ADMIN_URL, create_pg_database


@pytest.fixture
def pg(pg_migrated_template: str) -> Iterator[tuple[sa.Engine, sa.Engine, str]]:
    """A migrated PostgreSQL store, its engine, an admin engine and the database's name."""
    url, drop = create_pg_database(template=pg_migrated_template)
    engine, admin = make_engine(url), sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    yield engine, admin, sa.engine.make_url(url).database
    engine.dispose()
    with admin.connect() as conn:
        conn.execute(sa.text(f'ALTER DATABASE "{sa.engine.make_url(url).database}" ALLOW_CONNECTIONS true'))
    admin.dispose()
    drop()


def _terminate(admin: sa.Engine, name: str) -> None:
    with admin.connect() as conn:
        conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"), {"n": name})
    time.sleep(0.1)  # termination is asynchronous


def test_a_terminated_connection_is_replaced_at_once(pg) -> None:
    engine, admin, name = pg
    watch = GenerationWatch(make_sessionmaker(engine))
    first = watch()
    _terminate(admin, name)
    assert watch() == first  # the same answer, on a new connection, without an error
    assert watch.reconnects == 1
    _terminate(admin, name)
    assert watch() == first and watch.reconnects == 2


def test_a_refusing_database_gets_503s_paced_by_back_off_then_recovers(pg) -> None:
    engine, admin, name = pg
    watch = GenerationWatch(make_sessionmaker(engine))
    first = watch()
    with admin.connect() as conn:
        conn.execute(sa.text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
    _terminate(admin, name)
    with pytest.raises(Unavailable) as refused:
        watch()
    assert refused.value.status == 503 and watch.backoff.failures == 1
    with pytest.raises(Unavailable):
        watch()  # within the back-off: answered without a connection attempt
    assert watch.backoff.failures == 1
    with admin.connect() as conn:
        conn.execute(sa.text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
    deadline = time.monotonic() + 2
    while True:
        try:
            assert watch() == first
            break
        except Unavailable:
            assert time.monotonic() < deadline, "the watch did not reconnect within 2 s"
            time.sleep(0.01)
    assert watch.backoff.failures == 0
