"""Plans from the applied data map: entries, references, effective erasure actions, erase order."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from privet.connectors.base import Edge
from privet.connectors.plan import build_plan, build_plans
from privet.datamap.service import validate_and_apply
from privet.kit.errors import NotFound
from privet.settings import Settings
from tests.connectors import shop

SECOND = """\
  - key: mail_db
    system: shop
    kind: postgresql
    region: US
    secret: mail_db
  - key: wiki
    system: shop
    kind: http
    region: CN
    secret: wiki
"""
EXTRA = """\
  - key: mailing
    datastore: mail_db
    tables:
      - name: subscribers
        primary_key: [id]
        erasure: {action: delete_row}
        fields:
          - {name: id}
          - {name: customer_id, references: people.customers.id}
          - {name: email, category: user.contact.email, identity: email}
      - name: subscriber_tags
        primary_key: [subscriber_id, tag]
        fields:
          - {name: subscriber_id, references: subscribers.id}
          - {name: tag}
      - name: tag_hits
        primary_key: [id]
        fields:
          - {name: id}
          - {name: subscriber_id, references: subscriber_tags.subscriber_id}
          - {name: tag, references: subscriber_tags.tag}
          - {name: clicked_at, category: user.behavior.browsing_history}
  - key: pages
    datastore: wiki
    tables:
      - name: pages
        primary_key: [id]
        fields:
          - {name: id}
          - {name: title}
"""


def _apply(db: Session, tmp_path: Path, text: str) -> None:
    folder = tmp_path / "datamap"
    folder.mkdir()
    (folder / "map.yaml").write_text(text, encoding="utf-8")
    validate_and_apply(db, folder, actor="test")
    db.flush()


@pytest.fixture
def applied(db: Session, tmp_path: Path) -> Session:
    text = shop.DATAMAP.replace("__KIND__", "sqlite")
    text = text.replace("datasets:\n", SECOND + "datasets:\n", 1) + EXTRA
    _apply(db, tmp_path, text)
    return db


def test_plans_cover_datastores_with_personal_fields(applied: Session, settings: Settings) -> None:
    plans = {p.datastore: p for p in build_plans(applied, settings)}
    assert set(plans) == {"shop_db", "mail_db"}  # the wiki holds no personal fields
    shop_plan = plans["shop_db"]
    assert (shop_plan.kind, shop_plan.region, shop_plan.secret) == ("sqlite", "CN", "shop_db")
    assert set(shop_plan.tables) == {
        "teams",
        "customers",
        "addresses",
        "comments",
        "products",
        "orders",
        "order_items",
        "item_notes",
        "devices",
        "sims",
    }
    assert shop_plan.entries == (
        ("customers", "email", "email"),
        ("customers", "id", "user_id"),
        ("customers", "phone", "phone"),
        ("devices", "serial", "device_serial"),
    )


def test_references_become_edges_within_the_datastore(applied: Session, settings: Settings) -> None:
    plan = build_plan(applied, settings, "shop_db")
    assert Edge("orders", ("customer_id",), "customers", ("id",)) in plan.edges  # across datasets
    assert Edge("customers", ("team_id",), "teams", ("id",), relation="owns") in plan.edges
    assert plan.erase_order.index("orders") < plan.erase_order.index("customers")
    assert plan.erase_order.index("sims") < plan.erase_order.index("devices")


def test_composite_references_merge_and_other_datastores_become_entries(applied: Session, settings: Settings) -> None:
    plan = build_plan(applied, settings, "mail_db")
    assert Edge("tag_hits", ("subscriber_id", "tag"), "subscriber_tags", ("subscriber_id", "tag")) in plan.edges
    assert ("subscribers", "customer_id", "user_id") in plan.entries  # refers to customers.id, a user_id
    assert (
        plan.erase_order.index("tag_hits")
        < plan.erase_order.index("subscriber_tags")
        < plan.erase_order.index("subscribers")
    )


def test_effective_erasure_actions(applied: Session, settings: Settings) -> None:
    tables = build_plan(applied, settings, "shop_db").tables
    customers = tables["customers"]
    assert customers.field("email").action == "hash"  # field override
    assert customers.field("phone").action == "null"  # the table's action for a personal field
    assert customers.field("created_at").action is None  # not personal: untouched
    retained = customers.field("id")
    assert (retained.action, retained.retain_reason, retained.retain_duration) == (
        "retain",
        "Keeps retained orders consistent.",
        "P10Y",
    )
    orders = tables["orders"]
    assert (orders.field("total").action, orders.field("total").legal_reference) == ("retain", "Tax law")
    assert orders.field("id").action is None and orders.field("shipping_address_id").action == "null"
    assert tables["addresses"].field("id").action == "delete_row"  # delete_row is about the whole row
    assert tables["order_items"].field("price").action == "retain"
    assert tables["products"].field("name").action is None and tables["products"].primary_key == ("id",)


def test_unknown_datastore_is_not_found(applied: Session, settings: Settings) -> None:
    with pytest.raises(NotFound):
        build_plan(applied, settings, "nope")


def test_no_data_map_means_no_plans(db: Session, settings: Settings) -> None:
    assert build_plans(db, settings) == []


@pytest.mark.parametrize("company", ["keptek", "zkteco"])
def test_demo_data_maps_plan(db: Session, settings: Settings, company: str) -> None:
    validate_and_apply(db, Path(settings.examples_dir) / company / "datamap", actor="test")
    db.flush()
    plans = {p.datastore: p for p in build_plans(db, settings)}
    assert plans and all(p.entries for p in plans.values() if p.kind != "manual")
    for plan in plans.values():
        assert set(plan.erase_order) == set(plan.tables)
        for e in plan.edges:
            assert plan.erase_order.index(e.child) < plan.erase_order.index(e.parent) or e.child == e.parent
    if company == "keptek":
        assert ("enrolments", "customer_id", "user_id") in plans["training"].entries
