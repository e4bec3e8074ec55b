"""Fetching a subject's rows from SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import pytest

from privet.connectors.base import DatastorePlan, Edge
from privet.connectors.registry import open_connector
from privet.connectors.sql import walk
from privet.settings import Settings
from tests.connectors.shop import ALICE, BOB, NOBODY

ALICE_ROWS = {
    "customers": [(1,)],
    "teams": [(1,)],
    "addresses": [(1,), (2,)],
    "orders": [(1,), (2,)],
    "order_items": [(1, 1), (1, 2), (2, 1)],
    "item_notes": [(1,), (2,)],
    "devices": [(1,)],
    "sims": [(1,)],
    "comments": [(1,), (2,)],
}


def _keys(result, plan: DatastorePlan) -> dict[str, list[tuple]]:
    out = {}
    for table, rows in result.rows.items():
        key = plan.tables[table].primary_key
        out[table] = sorted(tuple(r[c] for c in key) for r in rows)
    return out


def _fetch(plan: DatastorePlan, settings: Settings, identities: dict):
    with open_connector(plan, settings) as connector:
        return connector.fetch(identities), connector.plan


def test_email_reaches_every_row_of_the_subject_through_four_levels(shop_db, shop_plan) -> None:
    result, plan = _fetch(shop_plan, shop_db[1], {"email": ["Alice@Example.COM"]})
    assert _keys(result, plan) == ALICE_ROWS
    # a shared catalogue is not personal data: shown as reference data, not as hers
    assert result.counts["products"] == {"found": 0, "reference": 2}
    assert sorted(r["name"] for r in result.reference["products"]) == ["Gadget", "Widget"]
    assert result.counts["item_notes"] == {"found": 2}  # via the composite foreign key (reflected only)
    # her team (the data map says the customer owns it) is shown though Bob shares it; walked no further
    assert result.rows["teams"] == [{"id": 1, "name": "Team Example"}]
    assert not result.pending


def test_rows_hold_declared_fields_and_keys_only(shop_db, shop_plan) -> None:
    result, _ = _fetch(shop_plan, shop_db[1], {"email": [ALICE["email"]]})
    customer = result.rows["customers"][0]
    assert "crm_note" not in customer  # undeclared column
    assert customer["email"] == ALICE["email"] and customer["birth_date"] == "1990-01-01"
    assert result.rows["orders"][0]["total"] in ("10.50", "3.00")  # JSON-ready values


def test_two_identities_of_one_subject_reach_the_same_rows_once(shop_db, shop_plan) -> None:
    both, plan = _fetch(shop_plan, shop_db[1], {"email": [ALICE["email"]], "phone": ["+8613800138000"]})
    only_email, _ = _fetch(shop_plan, shop_db[1], {"email": [ALICE["email"]]})
    assert _keys(both, plan) == _keys(only_email, plan) == ALICE_ROWS
    assert both.counts == only_email.counts


def test_phone_in_international_form_matches_the_national_form_stored(shop_db, shop_plan) -> None:
    result, plan = _fetch(shop_plan, shop_db[1], {"phone": ["+86 138 0013 8000"]})
    assert _keys(result, plan) == ALICE_ROWS


def test_an_identity_that_matches_nobody_finds_nothing(shop_db, shop_plan) -> None:
    result, _ = _fetch(
        shop_plan,
        shop_db[1],
        {"email": [NOBODY["email"]], "phone": [NOBODY["phone"]], "user_id": ["999", "not-a-number"]},
    )
    assert result.rows == {} and all(c == {"found": 0} for c in result.counts.values())
    empty, _ = _fetch(shop_plan, shop_db[1], {})
    assert empty.rows == {}


def test_another_subject_sees_nothing_of_alice(shop_db, shop_plan) -> None:
    result, plan = _fetch(shop_plan, shop_db[1], {"email": [BOB["email"]]})
    keys = _keys(result, plan)
    # Bob was referred by Alice and replied to her comment; neither reference leads to her rows
    assert keys["customers"] == [(2,)] and keys["comments"] == [(3,)] and keys["orders"] == [(3,)]
    assert keys["teams"] == [(1,)]  # the team they share is shown, its other members are not
    links = {(link["table"], link["columns"][0]): link["keys"] for link in result.links}
    assert links[("customers", "referred_by")] == [[1]] and links[("comments", "reply_to")] == [[1]]
    flat = repr(result.output())
    assert ALICE["email"] not in flat and ALICE["phone"] not in flat and "Alice" not in flat


@pytest.mark.promise("P33")
def test_rows_pointed_at_are_named_not_disclosed(shop_db, shop_plan) -> None:
    result, plan = _fetch(shop_plan, shop_db[1], {"device_serial": [ALICE["serial"]]})
    keys = _keys(result, plan)
    # the device and its SIM are the serial's; the customer the device belongs to may be someone else (a gift, a
    # resale): named, not read, and nothing is walked from it
    assert keys == {"devices": [(1,)], "sims": [(1,)]}
    assert {
        "table": "devices",
        "columns": ["customer_id"],
        "to": "customers",
        "to_columns": ["id"],
        "keys": [[1]],
    } in result.links
    assert ALICE["email"] not in repr(result.output())


def test_lookups_split_into_batches_give_the_same_rows(shop_db, shop_plan, monkeypatch) -> None:
    monkeypatch.setattr(walk, "BATCH", 1)
    result, plan = _fetch(shop_plan, shop_db[1], {"email": [ALICE["email"], BOB["email"]]})
    keys = _keys(result, plan)
    assert keys["order_items"] == [(1, 1), (1, 2), (2, 1), (3, 1)] and keys["customers"] == [(1,), (2,)]


def test_reflected_foreign_keys_complete_the_plan(shop_db, shop_plan) -> None:
    _, plan = _fetch(shop_plan, shop_db[1], {"email": [NOBODY["email"]]})
    assert (
        Edge("item_notes", ("order_id", "line_no"), "order_items", ("order_id", "line_no"), declared=False)
        in plan.edges
    )
    assert any(e.child == "customers" and e.parent == "customers" for e in plan.edges)  # referred_by
    order = plan.erase_order
    assert order.index("item_notes") < order.index("order_items") < order.index("orders") < order.index(
        "customers"
    ) and order.index("addresses") < order.index("customers")


@pytest.mark.parametrize("stored", ["ALICE.MIXED@EXAMPLE.COM", " Alice.Mixed@Example.com  "])
def test_email_is_found_whatever_its_case_and_surrounding_spaces(shop_db, shop_plan, stored) -> None:
    import sqlalchemy as sa

    url, settings = shop_db
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE customers SET email = :e WHERE id = 1"), {"e": stored})
    engine.dispose()
    result, plan = _fetch(shop_plan, settings, {"email": ["alice.mixed@example.com"]})
    assert _keys(result, plan) == ALICE_ROWS


@pytest.mark.parametrize("stored", ["138 0013 8000", "(+86) 138-0013-8000", "0086 13800138000", "+86.138.0013.8000"])
def test_phone_is_found_whatever_its_punctuation_and_prefix(shop_db, shop_plan, stored) -> None:
    import sqlalchemy as sa

    url, settings = shop_db
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE customers SET phone = :p WHERE id = 1"), {"p": stored})
        conn.execute(sa.text("UPDATE addresses SET phone = NULL"))
    engine.dispose()
    result, plan = _fetch(shop_plan, settings, {"phone": ["+8613800138000"]})
    assert _keys(result, plan) == ALICE_ROWS


def test_build_plan_can_reflect_up_front(shop_db, shop_plan, tmp_path) -> None:
    import sqlalchemy as sa
    from sqlalchemy.orm import Session

    from privet.connectors.plan import build_plan

    _url, settings = shop_db
    store = sa.create_engine(f"sqlite:///{tmp_path / 'store.sqlite'}")  # applied by the shop_plan fixture
    with Session(store) as session:
        reflected = build_plan(session, settings, "shop_db", reflect=True)
        down = build_plan(session, settings.model_copy(update={"secrets": {}}), "shop_db", reflect=True)
    store.dispose()
    assert any(not e.declared for e in reflected.edges) and reflected.secret == "shop_db"
    assert down == shop_plan  # unreachable now: the declared plan


@pytest.mark.parametrize("kind", ["email", "phone"])
def test_the_index_evaluate_asks_for_serves_the_lookup(shop_db, shop_plan, kind: str) -> None:
    """The statement `privet datamap evaluate` prints is the one the walk's lookup can use (PostgreSQL, SQLite;
    MariaDB cannot index an expression)."""
    import sqlalchemy as sa

    from privet.connectors.sql import engines
    from privet.datamap.matching import index_statement

    url, settings = shop_db
    dialect = sa.engine.make_url(url).get_backend_name()
    if dialect not in ("postgresql", "sqlite"):
        pytest.skip("MariaDB cannot index an expression")
    mode = "casefold" if kind == "email" else "phone"
    setup = sa.create_engine(url)
    with setup.begin() as conn:
        conn.exec_driver_sql(index_statement("customers", kind, mode, dialect))
    setup.dispose()
    seen: list[tuple[str, object]] = []

    def capture(_conn, _cursor, statement, parameters, _context, _many) -> None:
        if "FROM customers" in statement and "WHERE" in statement:
            seen.append((statement, parameters))

    engine = engines.engine_for(url)
    sa.event.listen(engine, "before_cursor_execute", capture)
    try:
        result, _ = _fetch(shop_plan, settings, {kind: [ALICE[kind]]})
    finally:
        sa.event.remove(engine, "before_cursor_execute", capture)
    assert [r["id"] for r in result.rows["customers"]] == [1] and seen
    statement, parameters = seen[0]
    with engine.connect() as conn:
        if dialect == "postgresql":
            conn.exec_driver_sql("SET enable_seqscan = off")
            plan = " ".join(r[0] for r in conn.exec_driver_sql("EXPLAIN " + statement, parameters))
        else:
            plan = " ".join(str(r[-1]) for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters))
    assert f"ix_customers_{kind}_{mode}" in plan, plan
