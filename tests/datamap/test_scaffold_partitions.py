"""Scaffold lists a partitioned table once: PostgreSQL partitions (foreign keys on some of them, none on others,
sub-partitions) fold into their parent; a MariaDB partitioned table is one table already."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from privet.datamap import matching
from privet.datamap.scaffold import scaffold
from privet.datamap.schemas import Manifest
from tests.support.services import create_mysql_database, create_pg_database

PG_SCHEMA = """
CREATE TABLE customers (id int PRIMARY KEY, email text);
CREATE TABLE stores (id int PRIMARY KEY);
CREATE TABLE devices (id int PRIMARY KEY);
CREATE TABLE staff (id int PRIMARY KEY, email text);
CREATE TABLE orders (id int PRIMARY KEY, customer_id int REFERENCES customers (id));
CREATE TABLE events (id int, at date, customer_id int, store_id int, staff_id int,
                     device_id int REFERENCES devices (id), order_ref int, contact_email text,
                     PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
CREATE INDEX ix_events_customer ON events (customer_id);
CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
ALTER TABLE events_2024 ADD FOREIGN KEY (customer_id) REFERENCES customers (id);
CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')
    PARTITION BY RANGE (id);
CREATE TABLE events_2025_low PARTITION OF events_2025 FOR VALUES FROM (0) TO (1000);
ALTER TABLE events_2025_low ADD FOREIGN KEY (store_id) REFERENCES stores (id);
CREATE TABLE events_2025_rest PARTITION OF events_2025 DEFAULT;
CREATE TABLE old_customers (id int PRIMARY KEY);
ALTER TABLE events_2025_rest ADD FOREIGN KEY (customer_id) REFERENCES old_customers (id);
CREATE TABLE events_other PARTITION OF events DEFAULT;
CREATE TABLE event_notes (id int PRIMARY KEY, event_id int, event_at date, body text,
                          FOREIGN KEY (event_id, event_at) REFERENCES events (id, at));
CREATE TABLE archive_parent (id int PRIMARY KEY);
CREATE TABLE archive_child (extra int) INHERITS (archive_parent);
"""


def _fields(draft: dict, table: str) -> dict[str, dict]:
    found = next(t for t in draft["datasets"][0]["tables"] if t["name"] == table)
    return {f["name"]: f for f in found["fields"]}


def _ref(field: dict) -> tuple:
    return field.get("references"), field.get("relation"), field.get("inferred")


@pytest.fixture(scope="module")
def pg_draft() -> dict:
    url, drop = create_pg_database()
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(PG_SCHEMA)
            conn.exec_driver_sql(matching.index_statement("events", "contact_email", "casefold", "postgresql"))
        return scaffold(url, dataset_key="events", datastore_key="events_db")
    finally:
        engine.dispose()
        drop()


def test_postgres_partitions_fold_into_their_parent(pg_draft: dict) -> None:
    Manifest.model_validate(pg_draft)
    tables = {t["name"]: t for t in pg_draft["datasets"][0]["tables"]}
    # plain INHERITS children are tables of their own; only declarative partitions fold
    assert set(tables) == {
        "customers",
        "stores",
        "devices",
        "staff",
        "orders",
        "events",
        "event_notes",
        "archive_parent",
        "archive_child",
        "old_customers",
    }
    events = tables["events"]
    assert events["primary_key"] == ["id", "at"]
    assert [f["name"] for f in events["fields"]] == [
        "id",
        "at",
        "customer_id",
        "store_id",
        "staff_id",
        "device_id",
        "order_ref",
        "contact_email",
    ]
    assert "5 partitions" in events["description"] and "events_2025_low" in events["description"]


def test_foreign_keys_of_any_partition_are_the_parents(pg_draft: dict) -> None:
    events = _fields(pg_draft, "events")
    assert _ref(events["customer_id"]) == ("customers.id", "belongs_to", None)  # on one partition only
    # another partition points the same column elsewhere: the first is drafted, the other noted
    assert "another foreign key points at old_customers.id" in events["customer_id"]["description"]
    assert _ref(events["store_id"]) == ("stores.id", "belongs_to", None)  # on a sub-partition only
    assert _ref(events["device_id"]) == ("devices.id", "belongs_to", None)  # on the parent
    # no foreign key anywhere: inferred, and the staff member on a customer's event is someone else
    assert _ref(events["staff_id"]) == ("staff.id", "points_to", True)
    assert _ref(events["order_ref"]) == ("orders.id", "belongs_to", True)


def test_references_to_a_partitioned_table_name_the_parent(pg_draft: dict) -> None:
    notes = _fields(pg_draft, "event_notes")
    assert _ref(notes["event_id"]) == ("events.id", "belongs_to", None)
    assert _ref(notes["event_at"]) == ("events.at", "belongs_to", None)
    assert "description" not in notes["event_id"]  # the copies PostgreSQL keeps per partition are one key


def test_parent_indexes_serve_identities(pg_draft: dict) -> None:
    contact = _fields(pg_draft, "events")["contact_email"]
    assert contact["identity"] == "email" and contact["indexed"] is True


def test_table_filter_sees_parents_only() -> None:
    url, drop = create_pg_database()
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(PG_SCHEMA)
        draft = scaffold(url, dataset_key="events", datastore_key="events_db", include=["events*"])
    finally:
        engine.dispose()
        drop()
    assert [t["name"] for t in draft["datasets"][0]["tables"]] == ["events"]


def test_mariadb_partitioned_table_is_one_table() -> None:
    url, drop = create_mysql_database()
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE customers (id int PRIMARY KEY, email varchar(100))")
            # MariaDB allows no foreign keys on a partitioned table: its references can only be inferred
            conn.exec_driver_sql(
                "CREATE TABLE events (id int, at date, customer_id int, email varchar(100), "
                "PRIMARY KEY (id, at), KEY ix_customer (customer_id), KEY ix_email (email)) "
                "PARTITION BY RANGE (YEAR(at)) (PARTITION p2024 VALUES LESS THAN (2025), "
                "PARTITION pmax VALUES LESS THAN MAXVALUE)"
            )
        draft = scaffold(url, dataset_key="events", datastore_key="events_db")
    finally:
        engine.dispose()
        drop()
    Manifest.model_validate(draft)
    assert [t["name"] for t in draft["datasets"][0]["tables"]] == ["customers", "events"]
    events = _fields(draft, "events")
    assert _ref(events["customer_id"]) == ("customers.id", "belongs_to", True)
    assert events["email"]["indexed"] is False  # the plain index cannot serve casefold on MariaDB
