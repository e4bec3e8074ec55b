"""A company database with timestamps to expire (SQLite, PostgreSQL, MariaDB) and its data map with rules."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from faker import Faker
from sqlalchemy.orm import Session

from privet.kit.crypto import Keyring
from privet.settings import Settings
from tests.support.services import create_mysql_database, create_pg_database

NOW = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)
META = sa.MetaData()
CUSTOMERS = sa.Table(
    "customers",
    META,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("email", sa.String(120)),
    sa.Column("name", sa.String(120)),
    sa.Column("last_login_at", sa.DateTime),
)
LOGINS = sa.Table(
    "login_events",
    META,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("customer_id", sa.ForeignKey("customers.id"), nullable=False),
    sa.Column("email", sa.String(120)),
    sa.Column("ip", sa.String(45)),
    sa.Column("at", sa.DateTime),
)
ORDERS = sa.Table(
    "orders",
    META,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("customer_id", sa.ForeignKey("customers.id"), nullable=False),
    sa.Column("ship_to", sa.String(200)),
    sa.Column("created_at", sa.DateTime),
)
INVOICES = sa.Table(
    "invoices",
    META,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("customer_id", sa.ForeignKey("customers.id"), nullable=False),
    sa.Column("amount", sa.Integer),
    sa.Column("issued_at", sa.DateTime),
)
DEVICES = sa.Table(
    "devices",
    META,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("serial", sa.String(40)),
    sa.Column("registered_at", sa.DateTime),
)
DEVICE_LOGS = sa.Table(
    "device_logs",
    META,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("device_id", sa.ForeignKey("devices.id"), nullable=False),
    sa.Column("at", sa.DateTime),
)

DATAMAP = """\
organisation: {{key: co, name: Test Co, profile: pipl, region: CN, responsible: {{name: Privacy Office}}}}
systems: [{{key: app, name: App}}]
datastores: [{{key: app_db, system: app, kind: {kind}, region: CN, secret: app_db}}]
datasets:
  - key: app
    datastore: app_db
    tables:
      - name: customers
        primary_key: [id]
        retention: {{trigger: last_activity, column: last_login_at, duration: P3Y, action: anonymise,
                    fields: [email, name]}}
        fields:
          - {{name: id, category: user.account.user_id, identity: user_id}}
          - {{name: email, category: user.contact.email, identity: email}}
          - {{name: name, category: user.name}}
          - {{name: last_login_at}}
      - name: login_events
        primary_key: [id]
        retention: {{trigger: collection, column: at, duration: P90D, action: delete}}
        fields:
          - {{name: id}}
          - {{name: customer_id, references: customers.id}}
          - {{name: email, category: user.contact.email, identity: email}}
          - {{name: ip, category: user.device.ip_address}}
          - {{name: at}}
      - name: orders
        primary_key: [id]
        retention: {{trigger: contract_end, column: created_at, duration: P2Y, action: "null", fields: [ship_to]}}
        fields:
          - {{name: id}}
          - {{name: customer_id, references: customers.id}}
          - {{name: ship_to, category: user.contact.address}}
          - {{name: created_at}}
      - name: invoices
        primary_key: [id]
        retention: {{trigger: contract_end, column: issued_at, duration: P1Y, action: delete, legal_minimum: P5Y,
                    legal_reference: "PRC Accounting Archives Measures Art 14"}}
        fields:
          - {{name: id}}
          - {{name: customer_id, references: customers.id}}
          - {{name: amount, category: user.financial}}
          - {{name: issued_at}}
      - name: devices
        primary_key: [id]
        retention: {{trigger: collection, column: registered_at, duration: P1Y, action: delete}}
        fields:
          - {{name: id}}
          - {{name: serial, category: user.device.device_id, identity: device_serial}}
          - {{name: registered_at}}
"""


@dataclass
class Company:
    url: str
    kind: str
    emails: list[str]

    def engine(self) -> sa.Engine:
        return sa.create_engine(self.url)

    def count(self, table: sa.Table, *where) -> int:
        engine = self.engine()
        with engine.connect() as conn:
            found = conn.execute(sa.select(sa.func.count()).select_from(table).where(*where)).scalar_one()
        engine.dispose()
        return found


def _naive(moment: datetime) -> datetime:
    return moment.replace(tzinfo=None)


def fill(url: str, fake: Faker) -> list[str]:
    """20 customers; per customer logins, orders, invoices at known ages; devices with and without logs."""
    engine = sa.create_engine(url)
    META.create_all(engine)
    emails = []
    with engine.begin() as conn:
        for i in range(20):
            email = fake.unique.email(domain="example.com")
            emails.append(email)
            last = NOW - timedelta(
                days=365 * 4 if i < 5 else 30, hours=i
            )  # hours: no two rows tie  # 5 customers inactive for 4 years
            conn.execute(CUSTOMERS.insert().values(id=i + 1, email=email, name=fake.name(), last_login_at=_naive(last)))
            for j, age in enumerate((10, 100, 400)):  # two of three logins are older than 90 days
                conn.execute(
                    LOGINS.insert().values(
                        id=i * 10 + j + 1,
                        customer_id=i + 1,
                        email=email,
                        ip=fake.ipv4(),
                        at=_naive(NOW - timedelta(days=age, hours=i)),
                    )
                )
            for j, age in enumerate((100, 1000)):  # one order older than two years
                conn.execute(
                    ORDERS.insert().values(
                        id=i * 10 + j + 1,
                        customer_id=i + 1,
                        ship_to=fake.address()[:200],
                        created_at=_naive(NOW - timedelta(days=age, hours=i)),
                    )
                )
            for j, age in enumerate((500, 2000)):  # 500 days: past P1Y but inside the legal P5Y; 2000: past both
                conn.execute(
                    INVOICES.insert().values(
                        id=i * 10 + j + 1,
                        customer_id=i + 1,
                        amount=100 + j,
                        issued_at=_naive(NOW - timedelta(days=age, hours=i)),
                    )
                )
        for d in range(10):  # all registered 2 years ago; devices 0-3 still have logs pointing at them
            conn.execute(
                DEVICES.insert().values(
                    id=d + 1, serial=fake.bothify("SN-####"), registered_at=_naive(NOW - timedelta(days=730, hours=d))
                )
            )
            if d < 4:
                conn.execute(DEVICE_LOGS.insert().values(id=d + 1, device_id=d + 1, at=_naive(NOW)))
    engine.dispose()
    return emails


@pytest.fixture(params=["sqlite", "postgresql", "mysql"])
def company(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Company]:
    """The company's database on each SQL kind, filled."""
    fake = Faker()
    if request.param == "sqlite":
        url, drop = f"sqlite:///{tmp_path / 'company.sqlite'}", (lambda: None)
    elif request.param == "postgresql":
        url, drop = create_pg_database()
    else:
        url, drop = create_mysql_database()
    emails = fill(url, fake)
    yield Company(url, request.param, emails)
    drop()


@pytest.fixture
def conf(settings: Settings, company: Company) -> Settings:
    return settings.model_copy(update={"secrets": {"app_db": company.url}})


@pytest.fixture
def keyring(conf: Settings) -> Keyring:
    return Keyring.from_settings(conf)


@pytest.fixture
def mapped(db: Session, company: Company, tmp_path: Path) -> Session:
    """The data map with the retention rules applied to the test's store."""
    from privet.datamap.service import validate_and_apply

    path = tmp_path / "datamap" / "app.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(DATAMAP.format(kind=company.kind), encoding="utf-8")
    validate_and_apply(db, path, actor="test")
    db.commit()
    return db
