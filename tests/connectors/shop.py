"""A small shop database for connector tests: a four-level foreign-key chain, reference cycles, composite keys.

customers → orders → order_items (composite key) → item_notes; customers ↔ addresses (default address) and
devices ↔ sims are cycles; customers.referred_by and comments.reply_to refer to their own table; teams are shared
parents; products are a catalogue. All people are made up (`@example.com`).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy import (
    Column,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
)


def metadata() -> MetaData:
    """The shop's tables."""
    md = MetaData()
    Table("teams", md, Column("id", Integer, primary_key=True), Column("name", String(80), nullable=False))
    Table(
        "customers",
        md,
        Column("id", Integer, primary_key=True),
        Column("team_id", Integer, ForeignKey("teams.id"), nullable=True),
        Column("email", String(200), unique=True),
        Column("phone", String(40)),
        Column("name", String(100), nullable=False),
        Column("birth_date", Date),
        Column("loyalty_points", Integer, nullable=False, default=0),
        Column("referred_by", Integer, ForeignKey("customers.id"), nullable=True),
        Column(
            "default_address_id",
            Integer,
            ForeignKey("addresses.id", use_alter=True, name="fk_customer_default_address"),
            nullable=True,
        ),
        Column("created_at", DateTime, nullable=False),
        Column("crm_note", String(200)),
    )  # not in the data map: never returned
    Table(
        "addresses",
        md,
        Column("id", Integer, primary_key=True),
        Column("customer_id", Integer, ForeignKey("customers.id"), nullable=False),
        Column("street", String(200)),
        Column("city", String(60)),
        Column("phone", String(40)),
    )
    Table("products", md, Column("id", Integer, primary_key=True), Column("name", String(80), nullable=False))
    Table(
        "orders",
        md,
        Column("id", Integer, primary_key=True),
        Column("customer_id", Integer, ForeignKey("customers.id"), nullable=False),
        Column("shipping_address_id", Integer, ForeignKey("addresses.id"), nullable=True),
        Column("total", Numeric(10, 2), nullable=False),
        Column("ordered_at", DateTime, nullable=False),
    )
    Table(
        "order_items",
        md,
        Column("order_id", Integer, ForeignKey("orders.id"), primary_key=True),
        Column("line_no", Integer, primary_key=True, autoincrement=False),
        Column("product_id", Integer, ForeignKey("products.id"), nullable=False),
        Column("price", Numeric(10, 2), nullable=False),
        Column("gift_message", String(200)),
    )
    Table(
        "item_notes",
        md,
        Column("id", Integer, primary_key=True),
        Column("order_id", Integer, nullable=False),
        Column("line_no", Integer, nullable=False),
        Column("note", Text),
        ForeignKeyConstraint(["order_id", "line_no"], ["order_items.order_id", "order_items.line_no"]),
    )
    Table(
        "devices",
        md,
        Column("id", Integer, primary_key=True),
        Column("customer_id", Integer, ForeignKey("customers.id"), nullable=False),
        Column("serial", String(40), nullable=False),
        Column("primary_sim_id", Integer, ForeignKey("sims.id", use_alter=True, name="fk_device_sim"), nullable=True),
    )
    Table(
        "sims",
        md,
        Column("id", Integer, primary_key=True),
        Column("device_id", Integer, ForeignKey("devices.id"), nullable=False),
        Column("iccid", String(30)),
    )
    Table(
        "comments",
        md,
        Column("id", Integer, primary_key=True),
        Column("customer_id", Integer, ForeignKey("customers.id"), nullable=False),
        Column("reply_to", Integer, ForeignKey("comments.id"), nullable=True),
        Column("body", Text),
    )
    return md


ALICE = {"id": 1, "email": "alice@example.com", "phone": "13800138000", "user_id": "1", "serial": "SNA00001"}
BOB = {"id": 2, "email": "bob@example.com", "phone": "+8613900139000", "user_id": "2", "serial": "SNB00002"}
NOBODY = {"email": "nobody@example.com", "phone": "+8613700137000"}
AT = datetime(2024, 5, 1, 10, 0)


def _rows() -> list[tuple[str, list[dict]]]:
    def customer(i: int, email: str, phone: str, name: str, team: int, referred: int | None) -> dict:
        return {
            "id": i,
            "team_id": team,
            "email": email,
            "phone": phone,
            "name": name,
            "birth_date": date(1990, 1, i),
            "loyalty_points": 10 * i,
            "referred_by": referred,
            "default_address_id": None,
            "created_at": AT,
            "crm_note": f"note {i}",
        }

    return [
        ("teams", [{"id": 1, "name": "Team Example"}]),
        ("products", [{"id": 1, "name": "Widget"}, {"id": 2, "name": "Gadget"}]),
        (
            "customers",
            [
                customer(1, ALICE["email"], ALICE["phone"], "Alice Example", 1, None),
                customer(2, BOB["email"], BOB["phone"], "Bob Example", 1, 1),
            ],
        ),
        (
            "addresses",
            [
                {"id": 1, "customer_id": 1, "street": "1 Example Road", "city": "Shenzhen", "phone": ALICE["phone"]},
                {"id": 2, "customer_id": 1, "street": "2 Example Road", "city": "Beijing", "phone": None},
                {"id": 3, "customer_id": 2, "street": "3 Example Road", "city": "Shanghai", "phone": BOB["phone"]},
            ],
        ),
        (
            "orders",
            [
                {"id": 1, "customer_id": 1, "shipping_address_id": 1, "total": Decimal("10.50"), "ordered_at": AT},
                {"id": 2, "customer_id": 1, "shipping_address_id": None, "total": Decimal("3.00"), "ordered_at": AT},
                {"id": 3, "customer_id": 2, "shipping_address_id": 3, "total": Decimal("7.00"), "ordered_at": AT},
            ],
        ),
        (
            "order_items",
            [
                {
                    "order_id": 1,
                    "line_no": 1,
                    "product_id": 1,
                    "price": Decimal("5.25"),
                    "gift_message": "Happy birthday",
                },
                {"order_id": 1, "line_no": 2, "product_id": 2, "price": Decimal("5.25"), "gift_message": None},
                {"order_id": 2, "line_no": 1, "product_id": 1, "price": Decimal("3.00"), "gift_message": "Thanks"},
                {"order_id": 3, "line_no": 1, "product_id": 1, "price": Decimal("7.00"), "gift_message": "For Bob"},
            ],
        ),
        (
            "item_notes",
            [
                {"id": 1, "order_id": 1, "line_no": 1, "note": "leave at the door"},
                {"id": 2, "order_id": 1, "line_no": 2, "note": "fragile"},
                {"id": 3, "order_id": 3, "line_no": 1, "note": "Bob's note"},
            ],
        ),
        (
            "devices",
            [
                {"id": 1, "customer_id": 1, "serial": ALICE["serial"], "primary_sim_id": None},
                {"id": 2, "customer_id": 2, "serial": BOB["serial"], "primary_sim_id": None},
            ],
        ),
        ("sims", [{"id": 1, "device_id": 1, "iccid": "8986001"}, {"id": 2, "device_id": 2, "iccid": "8986002"}]),
        (
            "comments",
            [
                {"id": 1, "customer_id": 1, "reply_to": None, "body": "Alice asks"},
                {"id": 2, "customer_id": 1, "reply_to": 1, "body": "Alice again"},
                {"id": 3, "customer_id": 2, "reply_to": 1, "body": "Bob answers"},
            ],
        ),
    ]


def create(url: str) -> None:
    """Create the shop's tables at `url` and fill them; the cycles' back references are set afterwards."""
    engine = sa.create_engine(url)
    md = metadata()
    try:
        with engine.begin() as conn:
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql("PRAGMA foreign_keys=ON")
            md.create_all(conn)
            for name, rows in _rows():
                conn.execute(md.tables[name].insert(), rows)
            conn.execute(
                md.tables["customers"].update().where(md.tables["customers"].c.id == 1).values(default_address_id=1)
            )
            conn.execute(
                md.tables["customers"].update().where(md.tables["customers"].c.id == 2).values(default_address_id=3)
            )
            devices = md.tables["devices"]
            conn.execute(devices.update().where(devices.c.id == 1).values(primary_sim_id=1))
            conn.execute(devices.update().where(devices.c.id == 2).values(primary_sim_id=2))
    finally:
        engine.dispose()


def snapshot(url: str) -> dict[str, list[tuple]]:
    """Every row of every table, sorted (to show what changed and what did not)."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            md = metadata()
            return {
                name: sorted((tuple(r) for r in conn.execute(sa.select(t))), key=repr) for name, t in md.tables.items()
            }
    finally:
        engine.dispose()


DATAMAP = """\
organisation:
  key: shop
  name: Example Shop
  profile: pipl
  region: CN
  responsible: {name: Privacy Officer}
systems:
  - key: shop
    name: Shop
datastores:
  - key: shop_db
    system: shop
    kind: __KIND__
    region: CN
    secret: shop_db
datasets:
  - key: people
    datastore: shop_db
    tables:
      - name: teams
        primary_key: [id]
        fields:
          - {name: id}
          - {name: name, category: user.organisation.name}
      - name: customers
        primary_key: [id]
        erasure: {action: "null"}
        fields:
          - name: id
            category: user.account.user_id
            identity: user_id
            erasure: {action: retain, reason: Keeps retained orders consistent., duration: P10Y}
          - {name: team_id, references: teams.id, relation: owns}  # the customer's team, shared by its members
          - {name: email, category: user.contact.email, identity: email, erasure: {action: hash}}
          - {name: phone, category: user.contact.phone, identity: phone}
          - {name: name, category: user.name, erasure: {action: mask}}
          - {name: birth_date, category: user.demographic.date_of_birth}
          - {name: loyalty_points, category: user.account.profile}
          - {name: referred_by}
          - {name: default_address_id, erasure: {action: "null"}}
          - {name: created_at}
      - name: addresses
        primary_key: [id]
        erasure: {action: delete_row}
        fields:
          - {name: id}
          - {name: customer_id, references: customers.id}
          - {name: street, category: user.contact.address}
          - {name: city, category: user.contact.address}
          - {name: phone, category: user.contact.phone}
      - name: comments
        primary_key: [id]
        erasure: {action: delete_row}
        fields:
          - {name: id}
          - {name: customer_id, references: customers.id}
          - {name: reply_to}
          - {name: body, category: user.communication}
  - key: sales
    datastore: shop_db
    tables:
      - name: products
        primary_key: [id]
        fields:
          - {name: id}
          - {name: name}
      - name: orders
        primary_key: [id]
        erasure: {action: retain, reason: Accounting records., duration: P10Y, legal_reference: Tax law}
        fields:
          - {name: id}
          - {name: customer_id, references: people.customers.id}
          - {name: shipping_address_id, erasure: {action: "null"}}
          - {name: total, category: user.behavior.purchase_history}
          - {name: ordered_at, category: user.behavior.purchase_history}
      - name: order_items
        primary_key: [order_id, line_no]
        erasure: {action: delete_row}
        fields:
          - {name: order_id, references: orders.id}
          - {name: line_no}
          - {name: product_id}
          - name: price
            category: user.behavior.purchase_history
            erasure: {action: retain, reason: Accounting records., duration: P5Y}
          - {name: gift_message, category: user.communication}
      - name: item_notes
        primary_key: [id]
        erasure: {action: delete_row}
        fields:
          - {name: id}
          - {name: order_id}
          - {name: line_no}
          - {name: note, category: user.communication}
  - key: devices
    datastore: shop_db
    tables:
      - name: devices
        primary_key: [id]
        erasure: {action: delete_row}
        fields:
          - {name: id}
          - {name: customer_id, references: people.customers.id}
          - {name: serial, category: user.device.serial_number, identity: device_serial}
          - {name: primary_sim_id}
      - name: sims
        primary_key: [id]
        erasure: {action: delete_row}
        fields:
          - {name: id}
          - {name: device_id, references: devices.id}
          - {name: iccid, category: user.device.device_id}
"""
