"""A DVD rental shop (like the well-known rental sample database).

Shapes: customers' e-mails stored in UPPER CASE; one `address` table used by customers, staff and stores (two
customers share one address, one shares a staff member's address, one a store's, the others own theirs); staff
with a user name and a password hash, on every rental and payment; stores pointing at their manager (no foreign
key: the two tables refer to each other); films and inventory as reference data; an `active` soft-delete flag (one
customer is inactive and must still be found and erased); payments (kept for accounting) and customers' activity
events (erased) partitioned by date — PostgreSQL `PARTITION BY RANGE` with foreign keys on the first year's
partition only and none on the parent, MariaDB `PARTITION BY RANGE` (no foreign keys allowed), SQLite plain tables
without foreign keys.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from faker import Faker
from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
    Table,
)

from tests.conformance.schemas import (
    RETAINED,
    SHARED,
    Person,
    column,
    dialect,
    erase,
    keys,
    retain,
    table,
)

REGION = "US"
PEOPLE = 8
META = sa.MetaData()
Table("address", META, Column("address_id", Integer, primary_key=True),
      Column("address", String(80), nullable=False), Column("district", String(40)),
      Column("city", String(50), nullable=False), Column("postal_code", String(10)),
      Column("last_update", DateTime, nullable=False))
Table("store", META, Column("store_id", Integer, primary_key=True),
      Column("manager_staff_id", Integer, nullable=False),  # no foreign key: staff.store_id points back
      Column("address_id", Integer, ForeignKey("address.address_id"), nullable=False))
Table("staff", META, Column("staff_id", Integer, primary_key=True),
      Column("first_name", String(45), nullable=False), Column("last_name", String(45), nullable=False),
      Column("address_id", Integer, ForeignKey("address.address_id"), nullable=False),
      Column("email", String(80)), Column("store_id", Integer, ForeignKey("store.store_id"), nullable=False),
      Column("active", Boolean, nullable=False), Column("username", String(16), nullable=False),
      Column("password", String(60)))
Table("customer", META, Column("customer_id", Integer, primary_key=True),
      Column("store_id", Integer, ForeignKey("store.store_id"), nullable=False),
      Column("first_name", String(45), nullable=False), Column("last_name", String(45), nullable=False),
      Column("email", String(80)),
      Column("address_id", Integer, ForeignKey("address.address_id"), nullable=False),
      Column("active", SmallInteger, nullable=False), Column("create_date", DateTime, nullable=False))
Table("film", META, Column("film_id", Integer, primary_key=True), Column("title", String(120), nullable=False),
      Column("release_year", Integer), Column("rating", String(5)))
Table("inventory", META, Column("inventory_id", Integer, primary_key=True),
      Column("film_id", Integer, ForeignKey("film.film_id"), nullable=False),
      Column("store_id", Integer, ForeignKey("store.store_id"), nullable=False))
Table("rental", META, Column("rental_id", Integer, primary_key=True),
      Column("rental_date", DateTime, nullable=False),
      Column("inventory_id", Integer, ForeignKey("inventory.inventory_id"), nullable=False),
      Column("customer_id", Integer, ForeignKey("customer.customer_id"), nullable=False),
      Column("return_date", DateTime), Column("staff_id", Integer, ForeignKey("staff.staff_id"), nullable=False))
# Partitioned where the database can, so written per dialect (SQLite: a plain table without foreign keys).
PAYMENT_COLUMNS = """payment_id integer NOT NULL, customer_id integer NOT NULL, staff_id integer NOT NULL,
    rental_id integer, amount numeric(5,2) NOT NULL, payment_date date NOT NULL,
    PRIMARY KEY (payment_id, payment_date)"""
EVENT_COLUMNS = """event_id integer NOT NULL, customer_id integer NOT NULL, event_at date NOT NULL,
    kind varchar(20) NOT NULL, ip_address varchar(45), PRIMARY KEY (event_id, event_at)"""


def _partitioned(name: str, columns: str, by: str, years: tuple[int, int], foreign_keys: str) -> dict[str, list[str]]:
    """DDL of a table partitioned by year: on PostgreSQL with `foreign_keys` on the first year's partition only
    (none on the parent or the others, as the issue found them); MariaDB allows no foreign keys there at all."""
    first, second = years
    return {
        "sqlite": [f"CREATE TABLE {name} ({columns})"],
        "postgresql": [
            f"CREATE TABLE {name} ({columns}) PARTITION BY RANGE ({by})",
            f"CREATE TABLE {name}_p{first} PARTITION OF {name} FOR VALUES FROM ('{first}-01-01') TO ('{second}-01-01')",
            f"ALTER TABLE {name}_p{first} {foreign_keys}",
            (f"CREATE TABLE {name}_p{second} PARTITION OF {name} FOR VALUES FROM ('{second}-01-01') "
             f"TO ('{second + 1}-01-01')"),
            f"CREATE TABLE {name}_rest PARTITION OF {name} DEFAULT",
            f"CREATE INDEX ix_{name}_customer ON {name} (customer_id)"],
        "mariadb": [
            (f"CREATE TABLE {name} ({columns}) PARTITION BY RANGE (YEAR({by})) "
             f"(PARTITION p{first} VALUES LESS THAN ({second}), PARTITION p{second} VALUES LESS THAN ({second + 1}), "
             "PARTITION prest VALUES LESS THAN MAXVALUE)")],
    }


PARTITIONED = [
    _partitioned("payment", PAYMENT_COLUMNS, "payment_date", (2022, 2023),
                 "ADD FOREIGN KEY (customer_id) REFERENCES customer (customer_id), "
                 "ADD FOREIGN KEY (staff_id) REFERENCES staff (staff_id), "
                 "ADD FOREIGN KEY (rental_id) REFERENCES rental (rental_id)"),
    _partitioned("customer_event", EVENT_COLUMNS, "event_at", (2023, 2024),
                 "ADD FOREIGN KEY (customer_id) REFERENCES customer (customer_id)"),
]
TABLES = ("address", "store", "staff", "customer", "film", "inventory", "rental", "payment", "customer_event")
PERSONAL = {"address": ("address", "district", "city", "postal_code"),
            "staff": ("first_name", "last_name", "email", "username"),
            "customer": ("first_name", "last_name", "email"),
            "rental": ("customer_id",), "payment": ("customer_id",), "customer_event": ("customer_id", "ip_address")}
CREDENTIALS = {"staff": ("password",)}
ROW_ID = {"payment": ("payment_id",), "customer_event": ("event_id",)}


def create(url: str) -> list[Person]:
    """The rental shop with eight customers, two staff members and two stores."""
    fake = Faker("en_US")
    fake.seed_instance(1201)
    rng = random.Random(1201)
    engine = sa.create_engine(url)
    t = META.tables
    try:
        with engine.begin() as conn:
            META.create_all(conn)
            for ddl in PARTITIONED:
                for statement in ddl[dialect(conn)]:
                    conn.exec_driver_sql(statement)
            stamp = datetime(2021, 6, 1, 9, 30)

            def address(n: int) -> dict:
                return {"address_id": n, "address": fake.unique.street_address(), "district": fake.state(),
                        "city": fake.city(), "postal_code": fake.postcode(), "last_update": stamp}

            addresses = [address(n) for n in range(1, 12)]
            conn.execute(t["address"].insert(), addresses)
            conn.execute(t["store"].insert(), [{"store_id": 1, "manager_staff_id": 1, "address_id": 10},
                                               {"store_id": 2, "manager_staff_id": 2, "address_id": 11}])
            staff = []
            for n, home in ((1, 8), (2, 9)):
                first, last = fake.unique.first_name(), fake.unique.last_name()
                staff.append({"staff_id": n, "first_name": first, "last_name": last, "address_id": home,
                              "email": f"{first}.{last}@staff.example.com".upper(), "store_id": n, "active": True,
                              "username": f"{first.lower()}{n}"[:16],
                              "password": "$2b$12$" + fake.unique.sha256()[:53]})
            conn.execute(t["staff"].insert(), staff)
            # customers 1 and 2 share address 1; customer 3 lives at staff member 1's address (8); customer 7 was
            # registered with store 2's address (11) by a clerk; the others own theirs
            homes = {1: 1, 2: 1, 3: 8, 4: 2, 5: 3, 6: 4, 7: 11, 8: 6}
            people, customers = [], []
            for n in range(1, PEOPLE + 1):
                first, last = fake.unique.first_name(), fake.unique.last_name()
                email = fake.unique.email()
                customers.append({"customer_id": n, "store_id": 1 + n % 2, "first_name": first, "last_name": last,
                                  "email": email.upper(), "address_id": homes[n], "active": 0 if n == 6 else 1,
                                  "create_date": stamp + timedelta(days=n)})
                people.append(Person(f"customer {n}", {"email": email.lower()}, {"customer_id": n}))
            conn.execute(t["customer"].insert(), customers)
            conn.execute(t["film"].insert(), [{"film_id": n, "title": fake.unique.catch_phrase(),
                                               "release_year": 1990 + n, "rating": rng.choice(["G", "PG", "R"])}
                                              for n in range(1, 7)])
            conn.execute(t["inventory"].insert(), [{"inventory_id": n, "film_id": 1 + n % 6, "store_id": 1 + n % 2}
                                                   for n in range(1, 13)])
            rentals, payments = [], []
            for c in customers:
                for _ in range(rng.randint(1, 4)):
                    n = len(rentals) + 1
                    at = datetime(2022, 1, 1, 12) + timedelta(days=rng.randint(0, 700))
                    who = rng.choice([1, 2])
                    rentals.append({"rental_id": n, "rental_date": at, "inventory_id": rng.randint(1, 12),
                                    "customer_id": c["customer_id"], "return_date": at + timedelta(days=3),
                                    "staff_id": who})
                    payments.append({"payment_id": n, "customer_id": c["customer_id"], "staff_id": who,
                                     "rental_id": n if n % 5 else None, "amount": Decimal(rng.choice(["2.99",
                                                                                                      "4.99"])),
                                     "payment_date": at.date()})
            payments.append({"payment_id": len(payments) + 1, "customer_id": 4, "staff_id": 2, "rental_id": None,
                             "amount": Decimal("1.00"), "payment_date": date(2024, 2, 1)})  # the default partition
            conn.execute(t["rental"].insert(), rentals)
            payment = sa.Table("payment", sa.MetaData(), autoload_with=conn)
            conn.execute(payment.insert(), payments)
            events = [{"event_id": n, "customer_id": 1 + n % PEOPLE, "event_at": date(2023, 1, 1) + timedelta(days=37 * n),
                       "kind": rng.choice(["login", "search", "wishlist"]), "ip_address": fake.ipv4_public()}
                      for n in range(1, 31)]  # 2023, 2024 and later: every partition, with and without keys
            conn.execute(sa.Table("customer_event", sa.MetaData(), autoload_with=conn).insert(), events)
        return people
    finally:
        engine.dispose()


def edits(draft: dict) -> dict:
    """What the shop changes in the draft after reading it."""
    # Customers: their details are emptied; the row stays because rentals and payments kept for accounting refer
    # to it. Its key is the user id scaffold gave a category: it stays as the key of those records.
    erase(draft, "customer", "null")
    column(draft, "customer", "customer_id")["erasure"] = retain("key of rental and payment records kept for "
                                                                 "accounting", "P5Y")
    erase(draft, "address", "null")  # a customer's own address is emptied (a shared one Privet keeps as it is)
    # Rentals back the payments; both are accounting records kept five years.
    table(draft, "rental")["erasure"] = retain("rental records back the payments kept for accounting", "P5Y")
    table(draft, "payment")["erasure"] = retain("payment records are kept for accounting", "P5Y",
                                                "Internal Revenue Code §6001")
    erase(draft, "customer_event", "delete_row")  # their activity log goes, in every partition
    return draft


def truth(conn: sa.Connection, person: Person) -> dict[str, set[tuple]]:
    """The customer's row, their address, their rentals, payments and activity events."""
    cid = person.ids["customer_id"]
    return {
        "customer": keys(conn, "SELECT customer_id FROM customer WHERE customer_id = :c", c=cid),
        "address": keys(conn, "SELECT a.address_id FROM address a JOIN customer c ON c.address_id = a.address_id "
                              "WHERE c.customer_id = :c", c=cid),
        "rental": keys(conn, "SELECT rental_id FROM rental WHERE customer_id = :c", c=cid),
        "payment": keys(conn, "SELECT payment_id FROM payment WHERE customer_id = :c", c=cid),
        "customer_event": keys(conn, "SELECT event_id FROM customer_event WHERE customer_id = :c", c=cid),
    }


def kept(conn: sa.Connection, person: Person) -> dict[str, dict[tuple, str]]:
    """Their address when anyone else (a customer, a staff member, a store) uses it; rentals and payments."""
    cid = person.ids["customer_id"]
    shared = keys(conn, """
        SELECT a.address_id FROM address a JOIN customer c ON c.address_id = a.address_id WHERE c.customer_id = :c
          AND (EXISTS (SELECT 1 FROM customer o WHERE o.address_id = a.address_id AND o.customer_id <> :c)
               OR EXISTS (SELECT 1 FROM staff s WHERE s.address_id = a.address_id)
               OR EXISTS (SELECT 1 FROM store s WHERE s.address_id = a.address_id))""", c=cid)
    rows = truth(conn, person)
    return {"address": dict.fromkeys(shared, SHARED), "rental": dict.fromkeys(rows["rental"], RETAINED),
            "payment": dict.fromkeys(rows["payment"], RETAINED)}
