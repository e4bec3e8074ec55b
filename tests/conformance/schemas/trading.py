"""A trading company (like the well-known trading-company sample database), with no foreign keys declared at all.

Shapes: references only by naming convention (`orders.customer_id`, `audit_log.customer_key`); text customer keys
(five-letter codes in a `CHAR(8)` key, which PostgreSQL pads with blanks, referred to from `VARCHAR(10)` columns); `shipments.order_ref` holding integer order ids as text;
orders naming the employee who handled them (another person); employees reporting to another (a self-reference,
undeclared); a composite primary key (`order_details`); a table without a primary key (`audit_log`); a recipient
name column scaffold gives no category; Chinese contacts whose phones are stored as `138 0013 8000`,
`+86-138-0013-8000`, `0086 13800138000`… and whose e-mails are stored in mixed case.
"""

from __future__ import annotations

import random
import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from faker import Faker
from sqlalchemy import (
    CHAR,
    Column,
    Date,
    DateTime,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Table,
    Text,
)

from tests.conformance.schemas import (
    REFERENCED,
    RETAINED,
    Person,
    erase,
    keys,
    retain,
    table,
)

REGION = "CN"
PEOPLE = 8
META = sa.MetaData()
Table("customers", META, Column("customer_id", CHAR(8), primary_key=True),  # five-letter codes, blank-padded
      Column("company_name", String(40), nullable=False), Column("contact_name", String(30)),
      Column("contact_title", String(30)), Column("address", String(60)), Column("city", String(15)),
      Column("postal_code", String(10)), Column("country", String(15)), Column("phone", String(24)),
      Column("email", String(80)))
Table("employees", META, Column("employee_id", Integer, primary_key=True),
      Column("last_name", String(20), nullable=False), Column("first_name", String(10), nullable=False),
      Column("title", String(30)), Column("birth_date", Date), Column("address", String(60)),
      Column("city", String(15)), Column("home_phone", String(24)), Column("reports_to", Integer),
      Column("notes", Text))
Table("products", META, Column("product_id", Integer, primary_key=True),
      Column("product_name", String(40), nullable=False), Column("unit_price", Numeric(10, 2)),
      Column("discontinued", SmallInteger, nullable=False))
Table("orders", META, Column("order_id", Integer, primary_key=True), Column("customer_id", String(10)),
      Column("employee_id", Integer), Column("order_date", DateTime), Column("ship_name", String(40)),
      Column("ship_address", String(60)), Column("ship_city", String(15)), Column("ship_postal_code", String(10)),
      Column("freight", Numeric(10, 2)))
Table("order_details", META, Column("order_id", Integer, primary_key=True, autoincrement=False),
      Column("product_id", Integer, primary_key=True, autoincrement=False),
      Column("unit_price", Numeric(10, 2), nullable=False), Column("quantity", SmallInteger, nullable=False),
      Column("discount", Numeric(4, 2), nullable=False))
Table("shipments", META, Column("shipment_id", Integer, primary_key=True), Column("order_ref", String(12)),
      Column("carrier", String(20)), Column("tracking_no", String(30)), Column("recipient", String(40)))
Table("audit_log", META, Column("event_ref", String(36), nullable=False), Column("customer_key", String(10)),
      Column("action", String(20), nullable=False), Column("ip_address", String(45)),
      Column("logged_at", DateTime, nullable=False))  # no primary key
TABLES = ("customers", "employees", "products", "orders", "order_details", "shipments", "audit_log")
PERSONAL = {
    "customers": ("customer_id", "company_name", "contact_name", "address", "city", "postal_code", "phone", "email"),
    "employees": ("last_name", "first_name", "address", "city", "home_phone", "notes"),
    "orders": ("customer_id", "ship_name", "ship_address", "ship_city", "ship_postal_code"),
    "shipments": ("recipient",),
    "audit_log": ("customer_key", "ip_address"),
}
CREDENTIALS: dict[str, tuple[str, ...]] = {}
ROW_ID = {"audit_log": ("event_ref",)}
PHONES = ("{a} {b} {c}", "+86-{a}-{b}-{c}", "0086 {a}{b}{c}", "{a}{b}{c}", "(+86) {a}-{b}-{c}", "+86 {a}{b}{c}",
          "86{a}{b}{c}", "{a}-{b}-{c}")


def create(url: str) -> list[Person]:
    """The company with eight customer contacts, three employees and a product list."""
    fake = Faker("zh_CN")
    fake.seed_instance(1203)
    latin = Faker("en_US")
    latin.seed_instance(1203)
    rng = random.Random(1203)
    engine = sa.create_engine(url)
    t = META.tables
    try:
        with engine.begin() as conn:
            META.create_all(conn)
            conn.execute(t["employees"].insert(), [
                {"employee_id": n, "last_name": fake.last_name(), "first_name": fake.unique.first_name(),
                 "title": title, "birth_date": date(1970 + n, n, n), "address": fake.unique.street_address(),
                 "city": fake.city_name(), "home_phone": fake.unique.phone_number(), "reports_to": boss,
                 "notes": f"入职培训完成，负责{fake.city_name()}地区客户"}
                for n, title, boss in ((1, "销售经理", None), (2, "销售代表", 1), (3, "销售代表", 1))])
            conn.execute(t["products"].insert(), [{"product_id": n, "product_name": fake.unique.word() + "茶",
                                                   "unit_price": Decimal(f"{10 + n}.50"), "discontinued": 0}
                                                  for n in range(1, 11)])
            people, customers, orders, details, shipments, log = [], [], [], [], [], []
            for n in range(1, PEOPLE + 1):
                code = latin.unique.lexify("?????").upper()
                name, email = fake.unique.name(), latin.unique.email()
                mobile = fake.unique.phone_number()
                parts = {"a": mobile[:3], "b": mobile[3:7], "c": mobile[7:]}
                address, city, postcode = fake.unique.street_address(), fake.city_name(), fake.postcode()
                customers.append({"customer_id": code, "company_name": fake.unique.company(), "contact_name": name,
                                  "contact_title": "采购经理", "address": address, "city": city,
                                  "postal_code": postcode, "country": "中国",
                                  "phone": PHONES[n % len(PHONES)].format(**parts),
                                  "email": email.title() if n % 2 else email.upper()})
                people.append(Person(f"contact {n}", {"email": email.lower(),
                                                      "phone": f"+86 {parts['a']} {parts['b']} {parts['c']}"},
                                     {"customer_id": code}))
                for _ in range(rng.randint(1, 3)):
                    order = len(orders) + 10248
                    orders.append({"order_id": order, "customer_id": code, "employee_id": rng.choice([2, 3]),
                                   "order_date": datetime(2023, 3, 1) + timedelta(days=rng.randint(0, 300)),
                                   "ship_name": name, "ship_address": address, "ship_city": city,
                                   "ship_postal_code": postcode, "freight": Decimal(f"{rng.randint(5, 90)}.25")})
                    for product in rng.sample(range(1, 11), rng.randint(1, 3)):
                        details.append({"order_id": order, "product_id": product, "unit_price": Decimal("12.50"),
                                        "quantity": rng.randint(1, 20), "discount": Decimal("0.00")})
                    if order % 2:
                        shipments.append({"shipment_id": len(shipments) + 1, "order_ref": str(order),
                                          "carrier": "顺丰速运", "tracking_no": latin.unique.numerify("SF############"),
                                          "recipient": name})
                for action in ("login", "update_address")[: 1 + n % 2]:
                    log.append({"event_ref": str(uuid.UUID(int=rng.getrandbits(128))), "customer_key": code,
                                "action": action, "ip_address": latin.unique.ipv4_private(),
                                "logged_at": datetime(2023, 6, 1) + timedelta(hours=len(log))})
            log.append({"event_ref": str(uuid.UUID(int=rng.getrandbits(128))), "customer_key": None,
                        "action": "nightly_export", "ip_address": None, "logged_at": datetime(2023, 6, 2)})
            for name, rows in (("customers", customers), ("orders", orders), ("order_details", details),
                               ("shipments", shipments), ("audit_log", log)):
                conn.execute(t[name].insert(), rows)
        return people
    finally:
        engine.dispose()


def edits(draft: dict) -> dict:
    """What the company changes in the draft after reading it."""
    # The contact asked to be forgotten: everything goes, except the shipping records customs may ask for (which
    # refer to their orders by number: those orders stay, emptied).
    for name in ("customers", "orders", "order_details", "audit_log"):
        erase(draft, name, "delete_row")
    table(draft, "shipments")["erasure"] = retain("shipping records are kept for customs inspections", "P3Y")
    return draft


def truth(conn: sa.Connection, person: Person) -> dict[str, set[tuple]]:
    """The contact's customer row, orders, order lines, shipments (by the order number written as text) and
    audit log entries."""
    code = person.ids["customer_id"]
    orders = keys(conn, "SELECT order_id FROM orders WHERE customer_id = :k", k=code)
    refs = sorted(o[0] for o in orders)
    shipments = keys(conn, "SELECT shipment_id FROM shipments WHERE order_ref IN :refs",
                     refs=refs) if refs else set()
    return {
        "customers": keys(conn, "SELECT customer_id FROM customers WHERE customer_id = :k", k=code),
        "orders": orders,
        "order_details": keys(conn, "SELECT d.order_id, d.product_id FROM order_details d "
                                    "JOIN orders o ON o.order_id = d.order_id WHERE o.customer_id = :k", k=code),
        "shipments": shipments,
        "audit_log": keys(conn, "SELECT event_ref FROM audit_log WHERE customer_key = :k", k=code),
    }


def kept(conn: sa.Connection, person: Person) -> dict[str, dict[tuple, str]]:
    """Their shipments (customs), and the orders those shipments refer to (emptied, not deleted: no orphans)."""
    rows = truth(conn, person)
    refs = sorted(s[0] for s in rows["shipments"])
    shipped = keys(conn, "SELECT order_ref FROM shipments WHERE shipment_id IN :s", s=refs) if refs else set()
    return {"shipments": dict.fromkeys(rows["shipments"], RETAINED),
            "orders": dict.fromkeys(rows["orders"] & shipped, REFERENCED)}
