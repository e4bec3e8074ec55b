"""A music store (like the well-known music-store sample database).

Shapes: quoted mixed-case table and column names (`"Customer"."Email"`, `"SupportRepId"`); customers' e-mails in
mixed case with surrounding spaces; phones stored as each support agent typed them (`+1 (212) 555-0147`,
`212.555.0147`, `001 212 555 0147`, bare digits…); every customer has a support representative (an employee:
another person's row, pointed at); employees report to another employee (a self-reference); invoices → invoice
lines → tracks → albums (the catalogue is reference data); a fax column scaffold gives no category; one customer is
also a support agent (their employee row is theirs, the customers they look after are not).
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from faker import Faker
from sqlalchemy import (
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Table,
)

from tests.conformance.schemas import (
    RETAINED,
    Person,
    column,
    erase,
    keys,
    retain,
    table,
)

REGION = "US"
PEOPLE = 8
META = sa.MetaData()
Table("Employee", META, Column("EmployeeId", Integer, primary_key=True),
      Column("LastName", String(20), nullable=False), Column("FirstName", String(20), nullable=False),
      Column("Title", String(30)), Column("ReportsTo", Integer, ForeignKey("Employee.EmployeeId")),
      Column("BirthDate", Date), Column("HireDate", Date), Column("Address", String(70)),
      Column("City", String(40)), Column("State", String(40)), Column("Country", String(40)),
      Column("PostalCode", String(10)), Column("Phone", String(24)), Column("Fax", String(24)),
      Column("Email", String(60)))
Table("Customer", META, Column("CustomerId", Integer, primary_key=True),
      Column("FirstName", String(40), nullable=False), Column("LastName", String(20), nullable=False),
      Column("Company", String(80)), Column("Address", String(70)), Column("City", String(40)),
      Column("State", String(40)), Column("Country", String(40)), Column("PostalCode", String(10)),
      Column("Phone", String(24)), Column("Fax", String(24)), Column("Email", String(60), nullable=False),
      Column("SupportRepId", Integer, ForeignKey("Employee.EmployeeId")))
Table("Artist", META, Column("ArtistId", Integer, primary_key=True), Column("Name", String(120)))
Table("Album", META, Column("AlbumId", Integer, primary_key=True), Column("Title", String(160), nullable=False),
      Column("ArtistId", Integer, ForeignKey("Artist.ArtistId"), nullable=False))
Table("Track", META, Column("TrackId", Integer, primary_key=True), Column("Name", String(200), nullable=False),
      Column("AlbumId", Integer, ForeignKey("Album.AlbumId")), Column("Composer", String(220)),
      Column("Milliseconds", Integer, nullable=False), Column("UnitPrice", Numeric(10, 2), nullable=False))
Table("Invoice", META, Column("InvoiceId", Integer, primary_key=True),
      Column("CustomerId", Integer, ForeignKey("Customer.CustomerId"), nullable=False),
      Column("InvoiceDate", DateTime, nullable=False), Column("BillingAddress", String(70)),
      Column("BillingCity", String(40)), Column("BillingState", String(40)), Column("BillingCountry", String(40)),
      Column("BillingPostalCode", String(10)), Column("Total", Numeric(10, 2), nullable=False))
Table("InvoiceLine", META, Column("InvoiceLineId", Integer, primary_key=True),
      Column("InvoiceId", Integer, ForeignKey("Invoice.InvoiceId"), nullable=False),
      Column("TrackId", Integer, ForeignKey("Track.TrackId"), nullable=False),
      Column("UnitPrice", Numeric(10, 2), nullable=False), Column("Quantity", Integer, nullable=False))
TABLES = ("Employee", "Customer", "Artist", "Album", "Track", "Invoice", "InvoiceLine")
PERSONAL = {
    "Employee": ("LastName", "FirstName", "Address", "City", "PostalCode", "Phone", "Fax", "Email"),
    "Customer": ("FirstName", "LastName", "Company", "Address", "City", "PostalCode", "Phone", "Fax", "Email"),
    "Invoice": ("CustomerId", "BillingAddress", "BillingCity", "BillingPostalCode"),
}
CREDENTIALS: dict[str, tuple[str, ...]] = {}
# how support agents typed phone numbers (area, exchange, line)
FORMATS = ("+1 ({a}) {e}-{n}", "{a}.{e}.{n}", "001 {a} {e} {n}", "{a}{e}{n}", "({a}) {e}-{n}", "+1-{a}-{e}-{n}",
           "1 {a} {e} {n}", "+1 {a} {e} {n}")
AREAS = ("212", "312", "415", "617", "206", "303", "512", "702")


def _phones(rng: random.Random) -> list[tuple[str, str, str]]:
    lines = rng.sample(range(100, 200), 24)  # 555-0100…0199: numbers reserved for fiction
    return [(rng.choice(AREAS), "555", f"{line:04d}") for line in lines]


def create(url: str) -> list[Person]:
    """The store with eight customers, three employees (two support agents and their manager) and a catalogue."""
    fake = Faker("en_US")
    fake.seed_instance(1202)
    rng = random.Random(1202)
    phones = _phones(rng)
    engine = sa.create_engine(url)
    t = META.tables
    try:
        with engine.begin() as conn:
            META.create_all(conn)
            employees = []
            for n, (title, boss) in enumerate((("General Manager", None), ("Sales Support Agent", 1),
                                               ("Sales Support Agent", 1)), start=1):
                a, e, line = phones.pop()
                fax = phones.pop()
                first, last = fake.unique.first_name(), fake.unique.last_name()
                employees.append({"EmployeeId": n, "LastName": last, "FirstName": first, "Title": title,
                                  "ReportsTo": boss, "BirthDate": date(1960 + 5 * n, n, 10 + n),
                                  "HireDate": date(2015, n, 1), "Address": fake.unique.street_address(),
                                  "City": fake.city(), "State": fake.state_abbr(), "Country": "USA",
                                  "PostalCode": fake.postcode(), "Phone": f"+1 ({a}) {e}-{line}",
                                  "Fax": "+1 ({}) {}-{}".format(*fax),
                                  "Email": f"{first}.{last}@music.example.com".lower()})
            for row in employees:  # a manager before the agents reporting to them
                conn.execute(t["Employee"].insert(), [row])
            conn.execute(t["Artist"].insert(), [{"ArtistId": n, "Name": fake.unique.company()} for n in (1, 2, 3)])
            conn.execute(t["Album"].insert(), [{"AlbumId": n, "Title": fake.unique.catch_phrase(),
                                                "ArtistId": 1 + n % 3} for n in range(1, 5)])
            conn.execute(t["Track"].insert(), [{"TrackId": n, "Name": fake.unique.bs().title(), "AlbumId": 1 + n % 4,
                                                "Composer": None, "Milliseconds": 180000 + n * 1000,
                                                "UnitPrice": Decimal("0.99")} for n in range(1, 13)])
            people, customers, invoices, lines = [], [], [], []
            for n in range(1, PEOPLE + 1):
                first, last = fake.unique.first_name(), fake.unique.last_name()
                email = fake.unique.email()
                a, e, line = phones.pop()
                if n == PEOPLE:  # the last customer is support agent 3, buying music under the work address
                    agent = employees[2]
                    first, last, email = agent["FirstName"], agent["LastName"], agent["Email"]
                    a, e, line = agent["Phone"][4:7], agent["Phone"][9:12], agent["Phone"][13:]
                stored = "  " + "".join(ch.upper() if i % 3 == 0 else ch for i, ch in enumerate(email)) + " "
                address, city, postcode = fake.unique.street_address(), fake.city(), fake.postcode()
                customers.append({"CustomerId": n, "FirstName": first, "LastName": last,
                                  "Company": fake.company() if n % 3 == 0 else None, "Address": address,
                                  "City": city, "State": fake.state_abbr(), "Country": "USA", "PostalCode": postcode,
                                  "Phone": FORMATS[n % len(FORMATS)].format(a=a, e=e, n=line),
                                  "Fax": "({}) {}-{}".format(*phones.pop()) if n % 4 == 0 else None,
                                  "Email": stored, "SupportRepId": 2 + n % 2})
                people.append(Person(f"customer {n}", {"email": email.lower(), "phone": f"+1 {a}-{e}-{line}"},
                                     {"customer_id": n}))
                for _ in range(rng.randint(1, 3)):
                    invoice = len(invoices) + 1
                    bought = rng.sample(range(1, 13), rng.randint(1, 3))
                    invoices.append({"InvoiceId": invoice, "CustomerId": n,
                                     "InvoiceDate": datetime(2023, 1, 1) + timedelta(days=rng.randint(0, 360)),
                                     "BillingAddress": address, "BillingCity": city, "BillingState": None,
                                     "BillingCountry": "USA", "BillingPostalCode": postcode,
                                     "Total": Decimal("0.99") * len(bought)})
                    lines += [{"InvoiceLineId": len(lines) + i + 1, "InvoiceId": invoice, "TrackId": track,
                               "UnitPrice": Decimal("0.99"), "Quantity": 1} for i, track in enumerate(bought)]
            conn.execute(t["Customer"].insert(), customers)
            conn.execute(t["Invoice"].insert(), invoices)
            conn.execute(t["InvoiceLine"].insert(), lines)
        return people
    finally:
        engine.dispose()


def edits(draft: dict) -> dict:
    """What the store changes in the draft after reading it."""
    # A customer's details are emptied; the row stays (with its key) because the invoices kept for tax refer to it.
    erase(draft, "Customer", "null")
    column(draft, "Customer", "CustomerId")["erasure"] = retain("key of the invoices kept for tax law", "P7Y")
    table(draft, "Invoice")["erasure"] = retain("invoices are kept for tax law", "P7Y")
    # An employee asking for erasure keeps their employment record (scaffold cannot know the law).
    table(draft, "Employee")["erasure"] = retain("employment records are kept while employed and two years after",
                                                 "P2Y")
    return draft


def truth(conn: sa.Connection, person: Person) -> dict[str, set[tuple]]:
    """The customer's row, their invoices and invoice lines, and their employee row if they work here (the same
    e-mail)."""
    cid = person.ids["customer_id"]
    return {
        "Employee": keys(conn, 'SELECT "EmployeeId" FROM "Employee" WHERE lower(trim("Email")) = :e',
                         e=person.identities["email"]),
        "Customer": keys(conn, 'SELECT "CustomerId" FROM "Customer" WHERE "CustomerId" = :c', c=cid),
        "Invoice": keys(conn, 'SELECT "InvoiceId" FROM "Invoice" WHERE "CustomerId" = :c', c=cid),
        "InvoiceLine": keys(conn, 'SELECT l."InvoiceLineId" FROM "InvoiceLine" l JOIN "Invoice" i '
                                  'ON i."InvoiceId" = l."InvoiceId" WHERE i."CustomerId" = :c', c=cid),
    }


def kept(conn: sa.Connection, person: Person) -> dict[str, dict[tuple, str]]:
    """Their invoices (tax law) and their employment record."""
    rows = truth(conn, person)
    return {"Invoice": dict.fromkeys(rows["Invoice"], RETAINED), "Employee": dict.fromkeys(rows["Employee"], RETAINED)}
