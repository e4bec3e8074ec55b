"""A small shop's customer database (real SQLite, PostgreSQL or MariaDB) and its data map, for request tests.

customers ← addresses, orders ← order_items (a chain three levels deep), login_events; orders keep their
totals for the accounting period (retain, P5Y); Faker fills everything (never fixed personal values).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from faker import Faker

META = sa.MetaData()
CUSTOMERS = sa.Table(
    "customers",
    META,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("email", sa.String(200)),
    sa.Column("phone", sa.String(40)),
    sa.Column("name", sa.String(200)),
    sa.Column("created_at", sa.DateTime),
)
ADDRESSES = sa.Table(
    "addresses",
    META,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("customer_id", sa.ForeignKey("customers.id"), nullable=False),
    sa.Column("street", sa.String(200)),
    sa.Column("city", sa.String(100)),
    sa.Column("postcode", sa.String(10)),
)
ORDERS = sa.Table(
    "orders",
    META,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("customer_id", sa.ForeignKey("customers.id"), nullable=False),
    sa.Column("recipient", sa.String(200)),
    sa.Column("total", sa.Numeric(10, 2)),
    sa.Column("placed_at", sa.DateTime),
)
ITEMS = sa.Table(
    "order_items",
    META,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("order_id", sa.ForeignKey("orders.id"), nullable=False),
    sa.Column("sku", sa.String(40)),
    sa.Column("engraving", sa.String(100)),
)
LOGINS = sa.Table(
    "login_events",
    META,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("customer_id", sa.ForeignKey("customers.id"), nullable=False),
    sa.Column("ip", sa.String(45)),
    sa.Column("at", sa.DateTime),
)

DATAMAP = """\
organisation:
  key: shop
  name: Test Shop
  profile: {profile}
  region: CN
  responsible:
    name: Privacy Office
    email: privacy@shop.example
systems:
  - key: shop
    name: Web shop
datastores:
  - key: shop_db
    system: shop
    kind: {kind}
    region: CN
    secret: shop_db
datasets:
  - key: shop
    datastore: shop_db
    sources: [registration]
    tables:
      - name: customers
        primary_key: [id]
        erasure: {{action: "null"}}
        fields:
          - name: id
            category: user.account.user_id
            identity: user_id
            erasure: {{action: retain, reason: keeps retained orders consistent, duration: P5Y}}
          - {{name: email, category: user.contact.email, identity: email, indexed: true}}
          - {{name: phone, category: user.contact.phone, identity: phone, indexed: true}}
          - {{name: name, category: user.name}}
          - {{name: created_at}}
      - name: addresses
        primary_key: [id]
        erasure: {{action: delete_row}}
        fields:
          - {{name: id}}
          - {{name: customer_id, references: customers.id}}
          - {{name: street, category: user.contact.address, part: line1}}
          - {{name: city, category: user.contact.address, part: city}}
          - {{name: postcode, category: user.contact.address, part: postcode}}
      - name: orders
        primary_key: [id]
        erasure: {{action: "null"}}
        fields:
          - {{name: id}}
          - {{name: customer_id, references: customers.id}}
          - {{name: recipient, category: user.name}}
          - name: total
            category: user.behavior.purchase_history
            erasure:
              action: retain
              reason: accounting records
              duration: P5Y
              legal_reference: Accounting Law Art 23
          - {{name: placed_at}}
      - name: order_items
        primary_key: [id]
        erasure: {{action: delete_row}}
        fields:
          - {{name: id}}
          - {{name: order_id, references: orders.id}}
          - {{name: sku}}
          - {{name: engraving, category: user.name}}
      - name: login_events
        primary_key: [id]
        erasure: {{action: delete_row}}
        fields:
          - {{name: id}}
          - {{name: customer_id, references: customers.id}}
          - {{name: ip, category: user.device.ip_address}}
          - {{name: at}}
processing_activities:
  - key: orders
    name: Orders
    purpose: service.order
    legal_basis: contract
    required_categories: [user.name, user.contact.address, user.behavior.purchase_history]
    datasets: [shop]
  - key: newsletter
    name: Newsletter
    purpose: marketing.communications
    legal_basis: consent
    required_categories: [user.contact.email]
    datasets: [shop]
  - key: usage
    name: Usage analytics
    purpose: analytics.usage
    legal_basis: consent
    required_categories: [user.device.ip_address]
    datasets: [shop]
"""


@dataclass
class Customer:
    id: int
    email: str
    phone: str
    orders: int
    items: int
    addresses: int
    logins: int


@dataclass
class Shop:
    url: str
    kind: str
    customers: list[Customer] = field(default_factory=list)

    def engine(self) -> sa.Engine:
        return sa.create_engine(self.url)

    def count(self, table: sa.Table, **where: object) -> int:
        engine = self.engine()
        try:
            with engine.connect() as conn:
                stmt = sa.select(sa.func.count()).select_from(table)
                for column, value in where.items():
                    stmt = stmt.where(table.c[column] == value)
                return conn.execute(stmt).scalar_one()
        finally:
            engine.dispose()

    def row(self, table: sa.Table, key: int) -> dict | None:
        engine = self.engine()
        try:
            with engine.connect() as conn:
                found = conn.execute(sa.select(table).where(table.c.id == key)).mappings().first()
                return dict(found) if found else None
        finally:
            engine.dispose()


def kind_of(url: str) -> str:
    """The datastore kind for a SQLAlchemy URL."""
    name = sa.engine.make_url(url).get_backend_name()
    return {"sqlite": "sqlite", "postgresql": "postgresql", "mysql": "mysql", "mariadb": "mysql"}[name]


def build_shop(url: str, customers: int = 4, *, seed: int | None = None) -> Shop:
    """Create the tables and fill them; customer i has i+1 orders of two items, one address, two logins."""
    fake = Faker(["en_US"])
    if seed is not None:
        fake.seed_instance(seed)
    engine = sa.create_engine(url)
    shop = Shop(url, kind_of(url))
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    if seed is not None:  # the same data twice, to the second
        now = datetime(2026, 1, 1, 9, 0, 0)
    try:
        META.drop_all(engine)
        META.create_all(engine)
        item_id = order_id = 0
        with engine.begin() as conn:
            for i in range(1, customers + 1):
                email, phone = fake.unique.email(), f"+86138{fake.unique.numerify('########')}"
                conn.execute(
                    CUSTOMERS.insert().values(id=i, email=email, phone=phone, name=fake.name(), created_at=now)
                )
                conn.execute(
                    ADDRESSES.insert().values(
                        id=i,
                        customer_id=i,
                        street=fake.street_address(),
                        city=fake.city(),
                        postcode=fake.postcode()[:10],
                    )
                )
                for _ in range(i + 1):
                    order_id += 1
                    conn.execute(
                        ORDERS.insert().values(
                            id=order_id,
                            customer_id=i,
                            recipient=fake.name(),
                            total=fake.pydecimal(left_digits=3, right_digits=2, positive=True),
                            placed_at=now,
                        )
                    )
                    for _ in range(2):
                        item_id += 1
                        conn.execute(
                            ITEMS.insert().values(
                                id=item_id, order_id=order_id, sku=fake.bothify("??-###"), engraving=fake.first_name()
                            )
                        )
                for j in range(2):
                    conn.execute(LOGINS.insert().values(id=i * 10 + j, customer_id=i, ip=fake.ipv4(), at=now))
                shop.customers.append(Customer(i, email, phone, i + 1, 2 * (i + 1), 1, 2))
    finally:
        engine.dispose()
    return shop


def write_datamap(folder: Path, kind: str, profile: str = "pipl") -> Path:
    """The shop's data map YAML in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "shop.yaml"
    path.write_text(DATAMAP.format(kind=kind, profile=profile), encoding="utf-8")
    return path
