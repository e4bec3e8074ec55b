"""An awkward company database for discovery tests, on SQLite, PostgreSQL and MariaDB, with generated data only
(Faker zh_CN and en_US) and the truth of what each column holds, recorded as it is generated.

- `customers`: honest `email`; `notes` full of mobile numbers; `ref` holding PRC resident ID numbers; a JSON
  `profile` with e-mails inside; `city_code` non-personal;
- `order_lines`: composite key (text, integer); `contact` holds e-mails but the map says non-personal;
- `events_log`: no key, not in the map, free text mentioning phone numbers;
- `accounts`: `login_phone` is the map's phone identity but holds order numbers;
- `devices`: a text key of company serials (a custom recognizer); `attachments`: binary; `empty_table`: no rows;
- `customer_emails`: a view.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import sqlalchemy as sa
from faker import Faker
from stdnum.cn import ric

from tests.datamap.factories import ORGANISATION

ROWS = 240
EMAIL, PHONE, RIC = "user.contact.email", "user.contact.phone", "user.government_id.national_id"
SERIAL = "user.device.serial_number"

DATAMAP = (
    ORGANISATION
    + """\
systems:
  - key: shop
    name: Shop
datastores:
  - key: shop_db
    system: shop
    kind: __KIND__
    region: CN
    secret: shop_db
recognizers:
  - key: device_serial
    category: user.device.serial_number
    pattern: 'ZK[A-Z]{2}\\d{8}'
datasets:
  - key: shop
    datastore: shop_db
    tables:
      - name: customers
        primary_key: [id]
        fields:
          - {name: id, category: user.account.user_id, identity: user_id}
          - {name: email, category: user.contact.email, identity: email}
          - {name: notes}
          - {name: ref}
          - {name: profile}
          - {name: city_code}
      - name: order_lines
        primary_key: [order_no, line_no]
        fields:
          - {name: order_no}
          - {name: line_no}
          - {name: contact}
          - {name: qty}
      - name: accounts
        primary_key: [id]
        fields:
          - {name: id}
          - {name: login_phone, category: user.contact.phone, identity: phone}
      - name: devices
        primary_key: [serial]
        fields:
          - {name: serial}
      - name: attachments
        primary_key: [id]
        fields:
          - {name: id}
          - {name: data}
      - name: empty_table
        primary_key: [id]
        fields:
          - {name: id}
          - {name: label}
"""
)


@dataclass
class Truth:
    """What was written: the category of each column's values, and every personal value (for leak checks)."""

    categories: dict[tuple[str, str], str] = field(default_factory=dict)
    embedded: dict[tuple[str, str], str] = field(default_factory=dict)
    values: set[str] = field(default_factory=set)

    def personal(self, values: list[str], table: str, column: str, category: str, *, inside: bool = False) -> None:
        (self.embedded if inside else self.categories)[(table, column)] = category
        self.values.update(v for v in values if len(v) >= 6)


def resident_id(rng: random.Random) -> str:
    body = (
        f"{rng.choice(['110101', '310104', '440305', '510107'])}{rng.randint(1950, 2005)}"
        f"{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(0, 999):03d}"
    )
    return body + ric.calc_check_digit(body + "0")


def tables(metadata: sa.MetaData) -> None:
    sa.Table(
        "customers",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("email", sa.String(120)),
        sa.Column("notes", sa.String(200)),
        sa.Column("ref", sa.String(30)),
        sa.Column("profile", sa.JSON),
        sa.Column("city_code", sa.String(20)),
    )
    sa.Table(
        "order_lines",
        metadata,
        sa.Column("order_no", sa.String(30), primary_key=True),
        sa.Column("line_no", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("contact", sa.String(120)),
        sa.Column("qty", sa.Integer),
    )
    sa.Table("events_log", metadata, sa.Column("happened", sa.String(30)), sa.Column("message", sa.Text))
    sa.Table(
        "accounts",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("login_phone", sa.String(40)),
    )
    sa.Table("devices", metadata, sa.Column("serial", sa.String(20), primary_key=True))
    sa.Table(
        "attachments",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("data", sa.LargeBinary),
    )
    sa.Table(
        "empty_table",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("label", sa.String(20)),
    )


def create(url: str, seed: int = 17) -> Truth:
    """Create and fill the database at `url`; return what each column holds."""
    rng, zh, en = random.Random(seed), Faker("zh_CN"), Faker("en_US")
    Faker.seed(seed)
    truth = Truth()
    metadata = sa.MetaData()
    tables(metadata)
    engine = sa.create_engine(url)
    emails = [f"{en.user_name()}{i}@{en.free_email_domain()}" for i in range(ROWS)]
    phones = [zh.phone_number() for _ in range(ROWS)]
    rics = [resident_id(rng) for _ in range(ROWS)]
    inner = [zh.email() for _ in range(ROWS)]
    contacts = [en.email() for _ in range(ROWS)]
    log_phones = [zh.phone_number() for _ in range(ROWS)]
    serials = [f"ZK{rng.choice('ABCD')}{rng.choice('XYZ')}{i:08d}" for i in range(ROWS)]
    truth.personal(emails, "customers", "email", EMAIL)
    truth.personal(phones, "customers", "notes", PHONE)
    truth.personal(rics, "customers", "ref", RIC)
    truth.personal(inner, "customers", "profile", EMAIL, inside=True)
    truth.personal(contacts, "order_lines", "contact", EMAIL)
    truth.personal(log_phones, "events_log", "message", PHONE, inside=True)
    truth.personal(serials, "devices", "serial", SERIAL)
    with engine.begin() as conn:
        metadata.create_all(conn)
        t = metadata.tables
        conn.execute(
            t["customers"].insert(),
            [
                {
                    "id": i + 1,
                    "email": emails[i],
                    "notes": phones[i],
                    "ref": rics[i],
                    "profile": {"email": inner[i], "level": rng.randint(1, 5), "tags": ["vip"] if i % 3 else []},
                    "city_code": f"C{rng.randint(100, 999)}",
                }
                for i in range(ROWS)
            ],
        )
        conn.execute(
            t["order_lines"].insert(),
            [
                {
                    "order_no": f"SO-2024-{i // 2:05d}",
                    "line_no": i % 2 + 1,
                    "contact": contacts[i],
                    "qty": rng.randint(1, 9),
                }
                for i in range(ROWS)
            ],
        )
        conn.execute(
            t["events_log"].insert(),
            [
                {
                    "happened": f"2024-03-{i % 28 + 1:02d} {i % 24:02d}:{i % 60:02d}:00",
                    "message": f"客户来电 {log_phones[i]} 询问订单 {zh.word()}",
                }
                for i in range(ROWS)
            ],
        )
        conn.execute(t["accounts"].insert(), [{"id": i + 1, "login_phone": f"ORD-2024-{i:06d}"} for i in range(ROWS)])
        conn.execute(t["devices"].insert(), [{"serial": s} for s in serials])
        conn.execute(t["attachments"].insert(), [{"id": i + 1, "data": rng.randbytes(64)} for i in range(20)])
        conn.execute(sa.text("CREATE VIEW customer_emails AS SELECT id, email FROM customers"))
    engine.dispose()
    return truth
