"""Erasure on SQLite, PostgreSQL and MariaDB with foreign keys enforced: actions, order, retention, idempotence."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from privet.connectors.base import ConnectorError
from privet.connectors.registry import open_connector
from tests.connectors import shop
from tests.connectors.shop import ALICE, BOB, NOBODY

SINCE = date(2025, 3, 31)
CHANGES = ("deleted", "nulled", "masked", "hashed")


def _erase(plan, settings, identities):
    with open_connector(plan, settings) as connector:
        return connector.erase(identities, retain_from=SINCE)


def _rows(snap: dict, table: str) -> dict:
    return {row[0]: row for row in snap[table]}


def _bob(snap: dict) -> dict:
    """Everything of Bob's (and the shared rows), to show erasing Alice leaves it alone."""
    return {
        "customers": _rows(snap, "customers")[2],
        "addresses": _rows(snap, "addresses")[3],
        "orders": _rows(snap, "orders")[3],
        "devices": _rows(snap, "devices")[2],
        "sims": _rows(snap, "sims")[2],
        "comments": _rows(snap, "comments")[3],
        "items": [r for r in snap["order_items"] if r[0] == 3],
        "notes": _rows(snap, "item_notes")[3],
        "teams": snap["teams"],
        "products": snap["products"],
    }


def test_each_action_is_applied_children_first(shop_db, shop_plan) -> None:
    url, settings = shop_db
    before = shop.snapshot(url)
    result = _erase(shop_plan, settings, {"user_id": [ALICE["user_id"]]})
    after = shop.snapshot(url)

    customer = _rows(after, "customers")[1]
    cols = [c.name for c in shop.metadata().tables["customers"].columns]
    alice = dict(zip(cols, customer))
    assert alice["email"].startswith("sha256:") and alice["phone"] is None and alice["name"] == "***"
    assert alice["birth_date"] is None and alice["default_address_id"] is None
    assert alice["loyalty_points"] == 10 and alice["crm_note"] == "note 1"  # NOT NULL integer; undeclared
    assert 1 not in _rows(after, "addresses") and 2 not in _rows(after, "addresses")
    assert {r[0] for r in after["orders"]} == {1, 2, 3}  # retained accounting records ...
    assert _rows(after, "orders")[1][2] is None  # ... without the deleted shipping address
    items = {(r[0], r[1]): r for r in after["order_items"]}
    assert set(items) == {(1, 1), (1, 2), (2, 1), (3, 1)}  # a retained price keeps the row ...
    assert items[(1, 1)][4] is None and items[(2, 1)][4] is None  # ... its other personal fields go
    assert set(_rows(after, "item_notes")) == {3}
    assert set(_rows(after, "devices")) == {2} and set(_rows(after, "sims")) == {2}  # a cycle, cut first
    comments = _rows(after, "comments")
    assert set(comments) == {1, 3} and comments[1][3] is None  # Bob's reply keeps Alice's comment, emptied
    assert _bob(after) == _bob(before)

    counts = {t: {k: v for k, v in c.items() if v} for t, c in result.counts.items()}
    # one row changed in place (nulled, masked and hashed columns); its id is retained with a reason, and its
    # NOT NULL loyalty points cannot be emptied: an exception, not a success
    assert counts["customers"] == {
        "found": 1,
        "updated": 1,
        "nulled": 1,
        "masked": 1,
        "hashed": 1,
        "retained": 1,
        "cannot_empty": 1,
    }
    assert counts["addresses"] == {"found": 2, "deleted": 2} and counts["item_notes"] == {"found": 2, "deleted": 2}
    # Bob's reply refers to Alice's first comment: it stays, emptied; the other is deleted
    assert counts["comments"] == {"found": 2, "deleted": 1, "updated": 1, "nulled": 1, "referenced": 1}
    assert counts["orders"] == {"found": 2, "updated": 1, "nulled": 1, "retained": 2}
    assert counts["order_items"]["nulled"] == 2 and counts["order_items"]["retained"] == 3
    assert counts["teams"] == {"found": 1, "shared": 1}  # her own team, shared: never erased for one member
    assert [(x["table"], x["reason"], x["rows"]) for x in result.exceptions] == [("customers", "cannot_empty", 1)]


def test_retained_fields_carry_reason_end_date_and_law(shop_db, shop_plan) -> None:
    result = _erase(shop_plan, shop_db[1], {"email": [ALICE["email"]]})
    retained = {(r["table"], r["field"]): r for r in result.retained}
    total = retained[("orders", "total")]
    assert total == {
        "table": "orders",
        "field": "total",
        "category": "user.behavior.purchase_history",
        "reason": "Accounting records.",
        "until": "2035-03-31",
        "legal_reference": "Tax law",
        "rows": 2,
        "kind": "retained",
    }
    assert retained[("order_items", "price")]["until"] == "2030-03-31"
    kept = retained[("customers", "loyalty_points")]
    assert kept["until"] is None and "NOT NULL" in kept["reason"]
    text = repr(result.counts) + repr(result.retained)
    for value in (ALICE["email"], ALICE["phone"], "Alice", "Example Road", "Happy birthday"):
        assert value not in text


def test_erasing_again_changes_nothing(shop_db, shop_plan) -> None:
    url, settings = shop_db
    first = _erase(shop_plan, settings, {"user_id": [ALICE["user_id"]]})
    once = shop.snapshot(url)
    again = _erase(shop_plan, settings, {"user_id": [ALICE["user_id"]], "email": [ALICE["email"]]})
    assert shop.snapshot(url) == once
    assert all(again.counts[t][k] == 0 for t in again.counts for k in CHANGES)
    assert again.counts["orders"]["found"] == 2 and again.retained  # retained rows are still reported
    assert sum(first.counts[t][k] for t in first.counts for k in CHANGES) > 0


def test_nobody_erases_nothing(shop_db, shop_plan) -> None:
    url, settings = shop_db
    before = shop.snapshot(url)
    result = _erase(shop_plan, settings, {"email": [NOBODY["email"]]})
    assert shop.snapshot(url) == before and result.retained == []
    assert all(c["found"] == 0 for c in result.counts.values())


def test_foreign_keys_stay_intact(shop_db, shop_plan) -> None:
    url, settings = shop_db
    _erase(shop_plan, settings, {"user_id": [ALICE["user_id"], BOB["user_id"]]})
    after = shop.snapshot(url)
    assert set(_rows(after, "addresses")) == set() and set(_rows(after, "devices")) == set()
    assert set(_rows(after, "comments")) == set()  # both people's comments: replies go with them
    if url.startswith("sqlite"):
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == []
        engine.dispose()


def test_a_failure_midway_leaves_everything_as_it_was(shop_db, shop_plan) -> None:
    url, settings = shop_db
    engine = sa.create_engine(url)
    with engine.begin() as conn:  # deleting sims (late in the order) fails, standing in for any database error
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("CREATE TABLE audit_log (id INTEGER)")
            conn.exec_driver_sql(
                "CREATE TRIGGER no_sims AFTER DELETE ON sims BEGIN INSERT INTO audit_log VALUES (1); END"
            )
            conn.exec_driver_sql("DROP TABLE audit_log")  # the trigger now fails at run time
        elif engine.dialect.name == "postgresql":
            conn.exec_driver_sql(
                "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION "
                "'refused'; END $$ LANGUAGE plpgsql"
            )
            conn.exec_driver_sql("CREATE TRIGGER no_sims BEFORE DELETE ON sims FOR EACH ROW EXECUTE FUNCTION refuse()")
        else:
            conn.exec_driver_sql(
                "CREATE TRIGGER no_sims BEFORE DELETE ON sims FOR EACH ROW "
                "SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'refused'"
            )
    engine.dispose()
    before = shop.snapshot(url)
    with pytest.raises(ConnectorError) as info:
        _erase(shop_plan, settings, {"user_id": [ALICE["user_id"]]})
    assert "shop_db" in str(info.value) and "refused" not in str(info.value)
    assert shop.snapshot(url) == before
