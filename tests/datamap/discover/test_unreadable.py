"""A table the connection may not read (PostgreSQL: a role without SELECT on it; MariaDB: a user without the grant)
is named in the report as skipped with the reason, and the scan goes on to the others."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
import sqlalchemy as sa

from privet.datamap.discover.scan import scan
from tests.connectors.conftest import new_database


def _tables(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        for name in ("open_stuff", "secret_stuff"):
            conn.exec_driver_sql(f"CREATE TABLE {name} (id INTEGER PRIMARY KEY, email VARCHAR(100))")
            conn.exec_driver_sql(f"INSERT INTO {name} (id, email) VALUES (1, 'someone@example.com')")
    engine.dispose()


@pytest.mark.parametrize("kind", ["postgresql", "mysql"])
def test_a_table_the_connection_may_not_read_is_skipped_with_the_reason(kind: str, tmp_path: Path) -> None:
    url, drop = new_database(kind, tmp_path)
    _tables(url)
    parsed = sa.engine.make_url(url)
    role = f"privet_reader_{secrets.token_hex(4)}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if kind == "postgresql":
            conn.exec_driver_sql(f"CREATE ROLE {role} LOGIN")
            conn.exec_driver_sql(f"GRANT SELECT ON open_stuff TO {role}")  # and nothing on secret_stuff
        else:
            for host in ("%%", "localhost", "127.0.0.1"):  # %% is % (the driver formats the statement)
                conn.exec_driver_sql(f"CREATE USER '{role}'@'{host}'")
                conn.exec_driver_sql(f"GRANT SELECT ON `{parsed.database}`.open_stuff TO '{role}'@'{host}'")
                conn.exec_driver_sql(f"GRANT INSERT ON `{parsed.database}`.secret_stuff TO '{role}'@'{host}'")
    try:
        result = scan(parsed.set(username=role).render_as_string(hide_password=False), sample=50, timeout=10)
        tables = {t["name"]: t for t in result.tables}
        assert tables["secret_stuff"]["skipped"] == "the connection may not read it (permission denied)"
        assert tables["open_stuff"]["rows_sampled"] == 1 and "skipped" not in tables["open_stuff"]
    finally:
        with admin.connect() as conn:
            if kind == "postgresql":
                conn.exec_driver_sql(f"DROP OWNED BY {role}")
                conn.exec_driver_sql(f"DROP ROLE {role}")
            else:
                for host in ("%%", "localhost", "127.0.0.1"):
                    conn.exec_driver_sql(f"DROP USER IF EXISTS '{role}'@'{host}'")
        admin.dispose()
        drop()
