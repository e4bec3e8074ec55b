"""Retention keeps every row another row still refers to, whether the database declares the reference or not:
references only in the data map (inferred by scaffold, any relation, values of another type), PostgreSQL
partitions with and without foreign keys (on the referring and on the referred side), MariaDB partitioned tables
(which cannot have foreign keys). After a sweep, hand-written SQL finds no orphan, and the counts say how many rows
were kept because they are referenced."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from privet.retention import service, sweep
from privet.settings import Settings
from tests.retention.conftest import NOW
from tests.support.services import create_mysql_database, create_pg_database

HEAD = """\
organisation: {key: co, name: Test Co, profile: pipl, region: CN, responsible: {name: Privacy Office}}
systems: [{key: app, name: App}]
datastores: [{key: shop_db, system: app, kind: __KIND__, region: CN, secret: shop_db}]
datasets:
  - key: shop
    datastore: shop_db
    tables:
"""
RENTALS = """\
      - name: rentals
        primary_key: [__KEY__]
        retention: {trigger: contract_end, column: returned_at, duration: P1Y, action: delete}
        fields:
          - {name: id}
          - {name: customer_email, category: user.contact.email, identity: email}
          - {name: returned_at}
"""
# no foreign keys in the database: the data map's references are all there is
NO_KEYS_MAP = (
    HEAD
    + RENTALS.replace("__KEY__", "id")
    + """\
      - name: payments
        primary_key: [id]
        fields:
          - {name: id}
          - {name: rental_ref, references: rentals.id, inferred: true}
          - {name: amount, category: user.financial}
          - {name: paid_at}
      - name: damage_notes
        primary_key: [id]
        fields:
          - {name: id}
          - {name: rental_id, references: rentals.id, relation: points_to}
          - {name: note}
"""
)
# the database's partition keys are all there is: the data map says nothing of payments.rental_id
PARTITIONED_MAP = (
    HEAD
    + RENTALS.replace("__KEY__", "id")
    + """\
      - name: payments
        primary_key: [id, paid_at]
        fields:
          - {name: id}
          - {name: rental_id}
          - {name: amount, category: user.financial}
          - {name: paid_at}
      - name: invoices
        primary_key: [id]
        fields:
          - {name: id}
          - {name: rental_id}
"""
)
MARIADB_MAP = (
    HEAD
    + RENTALS.replace("__KEY__", "id, returned_at")
    + """\
      - name: payments
        primary_key: [id, paid_at]
        fields:
          - {name: id}
          - {name: rental_id, references: rentals.id, inferred: true}
          - {name: amount, category: user.financial}
          - {name: paid_at}
"""
)
TEXT = {"sqlite": "CAST(r.id AS TEXT)", "postgresql": "r.id::text", "mysql": "CAST(r.id AS CHAR)"}


def _ago(**delta: int):
    return (NOW - timedelta(**delta)).replace(tzinfo=None)


@dataclass
class Shop:
    url: str
    kind: str

    def scalar(self, sql: str) -> int:
        engine = sa.create_engine(self.url)
        with engine.connect() as conn:
            found = conn.execute(sa.text(sql)).scalar_one()
        engine.dispose()
        return found

    def run(self, *statements: str, rows: dict[str, list[dict]] | None = None) -> None:
        engine = sa.create_engine(self.url)
        with engine.begin() as conn:
            for statement in statements:
                conn.execute(sa.text(statement))
            for table, values in (rows or {}).items():
                names = list(values[0])
                conn.execute(
                    sa.text(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join(':' + n for n in names)})"),
                    values,
                )
        engine.dispose()


def _rentals(n: int, moment) -> list[dict]:
    return [{"id": i, "customer_email": f"c{i}@example.com", "returned_at": moment(i)} for i in range(1, n + 1)]


@pytest.fixture
def shop(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Shop]:
    """An empty company database of the kind the test is parametrised with."""
    kind = request.param
    if kind == "sqlite":
        url, drop = f"sqlite:///{tmp_path / 'shop.sqlite'}", (lambda: None)
    else:
        url, drop = create_pg_database() if kind == "postgresql" else create_mysql_database()
    yield Shop(url, kind)
    drop()


def _apply(db: Session, tmp_path: Path, manifest: str, shop: Shop) -> None:
    from privet.datamap.service import validate_and_apply

    path = tmp_path / "datamap" / "shop.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(manifest.replace("__KIND__", shop.kind), encoding="utf-8")
    validate_and_apply(db, path, actor="test")
    db.commit()


def _conf(settings: Settings, shop: Shop) -> Settings:
    return settings.model_copy(update={"secrets": {"shop_db": shop.url}})


def _keyring(conf: Settings):
    from privet.kit.crypto import Keyring

    return Keyring.from_settings(conf)


def _rentals_plan(db: Session, conf: Settings) -> dict:
    entries = [e for e in service.plan(db, conf, _keyring(conf), now=NOW) if e["table"] == "rentals"]
    assert len(entries) == 1
    return entries[0]


# --- no foreign keys at all: an inferred reference (text values naming integer keys) and a points_to one --------


def _no_keys(shop: Shop) -> None:
    """Rentals 1-10 returned two years ago (past P1Y), 11-12 last month. Payments name rentals 1-4 in a text
    column (one 'cash' payment names none), a damage note names rental 5: 5 kept, 5 swept."""
    moment = "DATETIME" if shop.kind == "mysql" else "TIMESTAMP"
    shop.run(
        f"CREATE TABLE rentals (id INTEGER PRIMARY KEY, customer_email VARCHAR(120), returned_at {moment})",
        f"CREATE TABLE payments (id INTEGER PRIMARY KEY, rental_ref VARCHAR(20), amount INTEGER, paid_at {moment})",
        "CREATE TABLE damage_notes (id INTEGER PRIMARY KEY, rental_id INTEGER, note VARCHAR(200))",
        rows={
            "rentals": _rentals(12, lambda i: _ago(days=730 if i <= 10 else 30, hours=i)),
            "payments": [
                {"id": n, "rental_ref": ref, "amount": 10, "paid_at": _ago(days=700)}
                for n, ref in enumerate(["1", "2", "3", "4", "4", "cash", "12"], start=1)
            ],
            "damage_notes": [{"id": 1, "rental_id": 5, "note": "scratched"}],
        },
    )


def _no_keys_orphans(shop: Shop) -> int:
    return (
        shop.scalar(f"""SELECT COUNT(*) FROM payments p WHERE p.rental_ref <> 'cash'
                           AND NOT EXISTS (SELECT 1 FROM rentals r WHERE {TEXT[shop.kind]} = p.rental_ref)""")
        + shop.scalar("""SELECT COUNT(*) FROM damage_notes d
                         WHERE NOT EXISTS (SELECT 1 FROM rentals r WHERE r.id = d.rental_id)""")
    )


@pytest.mark.parametrize("shop", ["sqlite", "postgresql", "mysql"], indirect=True)
def test_data_map_references_keep_rows_without_foreign_keys(
    db: Session, session_factory: sessionmaker[Session], settings: Settings, shop: Shop, tmp_path: Path
) -> None:
    _no_keys(shop)
    _apply(db, tmp_path, NO_KEYS_MAP, shop)
    conf = _conf(settings, shop)
    planned = _rentals_plan(db, conf)
    assert (planned["expired"], planned["would_sweep"], planned["kept_referenced"]) == (10, 5, 5)
    assert shop.scalar("SELECT COUNT(*) FROM rentals") == 12  # a plan changes nothing
    done = service.run(session_factory, conf, _keyring(conf), actor="test", now=NOW, batch=2)
    assert done.status == "done", done.error
    state = done.progress["shop_db.rentals"]
    assert state["deleted"] == 5 and state["kept_referenced"] == 5
    assert _no_keys_orphans(shop) == 0
    assert shop.scalar("SELECT COUNT(*) FROM rentals WHERE id IN (1, 2, 3, 4, 5, 11, 12)") == 7
    assert shop.scalar("SELECT COUNT(*) FROM rentals") == 7


@pytest.mark.parametrize("shop", ["sqlite", "postgresql", "mysql"], indirect=True)
def test_a_killed_and_resumed_run_leaves_no_orphans(
    db: Session,
    session_factory: sessionmaker[Session],
    settings: Settings,
    shop: Shop,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _no_keys(shop)
    _apply(db, tmp_path, NO_KEYS_MAP, shop)
    conf = _conf(settings, shop)
    real = sweep.batches

    def dying(*args, **kwargs):
        for step in real(*args, **kwargs):
            yield step
            raise sa.exc.OperationalError("DELETE", {}, Exception("server closed the connection"))

    monkeypatch.setattr(sweep, "batches", dying)
    failed = service.run(session_factory, conf, _keyring(conf), actor="test", now=NOW, batch=2)
    assert failed.status == "failed" and "shop_db.rentals: stopped after 2 rows" in failed.error
    assert _no_keys_orphans(shop) == 0
    monkeypatch.setattr(sweep, "batches", real)
    resumed = service.run(session_factory, conf, _keyring(conf), actor="test", resume=True, batch=2)
    assert resumed.status == "done" and resumed.id == failed.id
    state = resumed.progress["shop_db.rentals"]
    assert state["deleted"] == 5 and state["kept_referenced"] == 5
    assert _no_keys_orphans(shop) == 0 and shop.scalar("SELECT COUNT(*) FROM rentals") == 7


@pytest.mark.parametrize("shop", ["sqlite"], indirect=True)
def test_an_anonymise_rule_keeps_a_value_others_refer_to(
    db: Session, session_factory: sessionmaker[Session], settings: Settings, shop: Shop, tmp_path: Path
) -> None:
    """Anonymising a column another table refers to by value would orphan the referring rows as surely as a
    delete: those rows keep the value, and are counted as kept."""
    _no_keys(shop)
    shop.run(
        "CREATE TABLE reminders (id INTEGER PRIMARY KEY, sent_to VARCHAR(120))",
        rows={"reminders": [{"id": 1, "sent_to": "c6@example.com"}]},
    )
    manifest = (
        NO_KEYS_MAP.replace("action: delete}", "action: anonymise, fields: [customer_email]}")
        + "      - name: reminders\n        primary_key: [id]\n        fields:\n          - {name: id}\n"
        "          - {name: sent_to, references: rentals.customer_email, inferred: true}\n"
    )
    _apply(db, tmp_path, manifest, shop)
    conf = _conf(settings, shop)
    planned = _rentals_plan(db, conf)
    assert (planned["expired"], planned["would_sweep"], planned["kept_referenced"]) == (10, 9, 1)
    done = service.run(session_factory, conf, _keyring(conf), actor="test", now=NOW)
    assert done.progress["shop_db.rentals"]["updated"] == 9
    assert (
        shop.scalar("""SELECT COUNT(*) FROM reminders m
                          WHERE NOT EXISTS (SELECT 1 FROM rentals r WHERE r.customer_email = m.sent_to)""")
        == 0
    )
    assert shop.scalar("SELECT COUNT(*) FROM rentals WHERE customer_email LIKE 'anonymised:%'") == 9


@pytest.mark.parametrize("cli_store", ["sqlite"], indirect=True)
@pytest.mark.parametrize("shop", ["sqlite"], indirect=True)
def test_the_plan_command_counts_rows_kept_as_referenced(
    privet, shop: Shop, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from privet.settings import get_settings

    _no_keys(shop)
    monkeypatch.setenv("PRIVET_SECRETS", json.dumps({"shop_db": shop.url}))
    get_settings.cache_clear()
    folder = tmp_path / "map"
    folder.mkdir()
    (folder / "shop.yaml").write_text(NO_KEYS_MAP.replace("__KIND__", "sqlite"), encoding="utf-8")
    assert privet("datamap", "apply", str(folder)).exit_code == 0
    planned = privet("retention", "plan", "--json")
    assert planned.exit_code == 0, planned.output
    rentals = next(e for e in json.loads(planned.stdout) if e["table"] == "rentals")
    assert rentals["kept_referenced"] == 5 and rentals["would_sweep"] == rentals["expired"] - 5


# --- PostgreSQL declarative partitioning ---------------------------------------------------------------------


@pytest.mark.parametrize("shop", ["postgresql"], indirect=True)
def test_partitions_with_and_without_foreign_keys_keep_rows(
    db: Session, session_factory: sessionmaker[Session], settings: Settings, shop: Shop, tmp_path: Path
) -> None:
    """payments is partitioned by year; the 2024 and 2026 partitions declare a foreign key to rentals, the 2025
    one does not. Rentals 1-10 are past retention; payments name 1 (2024), 3, 4, 5 (2025, no key) and 6 (2026)."""
    shop.run(
        "CREATE TABLE rentals (id integer PRIMARY KEY, customer_email varchar(120), returned_at timestamp)",
        "CREATE TABLE payments (id integer, rental_id integer, amount integer, paid_at timestamp NOT NULL, "
        "PRIMARY KEY (id, paid_at)) PARTITION BY RANGE (paid_at)",
        "CREATE TABLE payments_2024 PARTITION OF payments FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')",
        "CREATE TABLE payments_2025 PARTITION OF payments FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')",
        "CREATE TABLE payments_2026 PARTITION OF payments FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')",
        "ALTER TABLE payments_2024 ADD FOREIGN KEY (rental_id) REFERENCES rentals (id)",
        "ALTER TABLE payments_2026 ADD FOREIGN KEY (rental_id) REFERENCES rentals (id)",
        "CREATE TABLE invoices (id integer PRIMARY KEY, rental_id integer)",
        rows={
            "rentals": _rentals(12, lambda i: _ago(days=730 if i <= 10 else 30, hours=i)),
            "payments": [
                {"id": n, "rental_id": rental, "amount": 10, "paid_at": paid}
                for n, (rental, paid) in enumerate(
                    [
                        (1, "2024-05-01"),
                        (3, "2025-02-01"),
                        (4, "2025-03-01"),
                        (5, "2025-03-02"),
                        (5, "2025-04-01"),
                        (6, "2026-01-15"),
                        (12, "2026-06-01"),
                    ],
                    start=1,
                )
            ],
        },
    )
    _apply(db, tmp_path, PARTITIONED_MAP, shop)
    conf = _conf(settings, shop)
    planned = _rentals_plan(db, conf)
    assert (planned["expired"], planned["would_sweep"], planned["kept_referenced"]) == (10, 5, 5)
    done = service.run(session_factory, conf, _keyring(conf), actor="test", now=NOW, batch=3)
    assert done.status == "done", done.error
    state = done.progress["shop_db.rentals"]
    assert state["deleted"] == 5 and state["kept_referenced"] == 5
    assert (
        shop.scalar("""SELECT COUNT(*) FROM payments p
                          WHERE NOT EXISTS (SELECT 1 FROM rentals r WHERE r.id = p.rental_id)""")
        == 0
    )
    assert (
        shop.scalar("""SELECT COUNT(*) FROM payments_2025 p
                          WHERE NOT EXISTS (SELECT 1 FROM rentals r WHERE r.id = p.rental_id)""")
        == 0
    )
    assert shop.scalar("SELECT COUNT(*) FROM rentals") == 7


@pytest.mark.parametrize("shop", ["postgresql"], indirect=True)
def test_a_partitioned_table_referred_to_through_its_partitions(
    db: Session, session_factory: sessionmaker[Session], settings: Settings, shop: Shop, tmp_path: Path
) -> None:
    """rentals itself is partitioned (old: before 2025, new: after), each partition with its own key; invoices
    declare a key into rentals_old, the payments_2024 partition too, payments_2025 declares none. Rentals 1-6
    returned in 2024 and 7-10 early in 2025 are past retention; 1 (invoice), 2 (2024 payment), 7 and 8 (2025
    payments) are referenced."""
    shop.run(
        "CREATE TABLE rentals (id integer NOT NULL, customer_email varchar(120), returned_at timestamp NOT NULL)"
        " PARTITION BY RANGE (returned_at)",
        "CREATE TABLE rentals_old PARTITION OF rentals FOR VALUES FROM (MINVALUE) TO ('2025-01-01')",
        "CREATE TABLE rentals_new PARTITION OF rentals FOR VALUES FROM ('2025-01-01') TO (MAXVALUE)",
        "ALTER TABLE rentals_old ADD PRIMARY KEY (id)",
        "ALTER TABLE rentals_new ADD PRIMARY KEY (id)",
        "CREATE TABLE payments (id integer, rental_id integer, amount integer, paid_at timestamp NOT NULL, "
        "PRIMARY KEY (id, paid_at)) PARTITION BY RANGE (paid_at)",
        "CREATE TABLE payments_2024 PARTITION OF payments FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')",
        "CREATE TABLE payments_2025 PARTITION OF payments FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')",
        "ALTER TABLE payments_2024 ADD FOREIGN KEY (rental_id) REFERENCES rentals_old (id)",
        "CREATE TABLE invoices (id integer PRIMARY KEY, rental_id integer REFERENCES rentals_old (id))",
        rows={
            "rentals": _rentals(12, lambda i: _ago(days=760 - i if i <= 6 else 480 if i <= 10 else 30, hours=i)),
            "payments": [
                {"id": 1, "rental_id": 2, "amount": 10, "paid_at": "2024-07-01"},
                {"id": 2, "rental_id": 7, "amount": 10, "paid_at": "2025-03-01"},
                {"id": 3, "rental_id": 8, "amount": 10, "paid_at": "2025-03-02"},
            ],
            "invoices": [{"id": 1, "rental_id": 1}],
        },
    )
    assert shop.scalar("SELECT COUNT(*) FROM rentals_old") == 6
    _apply(db, tmp_path, PARTITIONED_MAP, shop)
    conf = _conf(settings, shop)
    planned = _rentals_plan(db, conf)
    assert (planned["expired"], planned["would_sweep"], planned["kept_referenced"]) == (10, 6, 4)
    done = service.run(session_factory, conf, _keyring(conf), actor="test", now=NOW, batch=4)
    assert done.status == "done", done.error
    assert done.progress["shop_db.rentals"]["deleted"] == 6
    assert done.progress["shop_db.rentals"]["kept_referenced"] == 4
    assert (
        shop.scalar("""SELECT COUNT(*) FROM payments p
                          WHERE NOT EXISTS (SELECT 1 FROM rentals r WHERE r.id = p.rental_id)""")
        == 0
    )
    assert shop.scalar("SELECT COUNT(*) FROM rentals") == 6


# --- MariaDB partitioned tables (no foreign keys possible) ---------------------------------------------------


@pytest.mark.parametrize("shop", ["mysql"], indirect=True)
def test_mariadb_partitioned_tables_kept_by_data_map_references(
    db: Session, session_factory: sessionmaker[Session], settings: Settings, shop: Shop, tmp_path: Path
) -> None:
    """payments and rentals are both partitioned by year, so neither can declare a foreign key; the data map's
    inferred reference is what keeps rentals 2, 4 and 9 (payments in two partitions)."""
    shop.run(
        "CREATE TABLE rentals (id INT NOT NULL, customer_email VARCHAR(120), returned_at DATETIME NOT NULL, "
        "PRIMARY KEY (id, returned_at)) PARTITION BY RANGE (YEAR(returned_at)) "
        "(PARTITION r_old VALUES LESS THAN (2025), PARTITION r_new VALUES LESS THAN MAXVALUE)",
        "CREATE TABLE payments (id INT NOT NULL, rental_id INT, amount INT, paid_at DATETIME NOT NULL, "
        "PRIMARY KEY (id, paid_at)) PARTITION BY RANGE (YEAR(paid_at)) "
        "(PARTITION p2024 VALUES LESS THAN (2025), PARTITION p2025 VALUES LESS THAN (2026), "
        "PARTITION pmax VALUES LESS THAN MAXVALUE)",
        rows={
            "rentals": _rentals(12, lambda i: _ago(days=760 - i if i <= 6 else 480 if i <= 10 else 30, hours=i)),
            "payments": [
                {"id": 1, "rental_id": 2, "amount": 10, "paid_at": "2024-07-01"},
                {"id": 2, "rental_id": 4, "amount": 10, "paid_at": "2025-02-01"},
                {"id": 3, "rental_id": 9, "amount": 10, "paid_at": "2025-03-01"},
                {"id": 4, "rental_id": 11, "amount": 10, "paid_at": "2026-06-01"},
            ],
        },
    )
    _apply(db, tmp_path, MARIADB_MAP, shop)
    conf = _conf(settings, shop)
    planned = _rentals_plan(db, conf)
    assert (planned["expired"], planned["would_sweep"], planned["kept_referenced"]) == (10, 7, 3)
    done = service.run(session_factory, conf, _keyring(conf), actor="test", now=NOW, batch=3)
    assert done.status == "done", done.error
    assert done.progress["shop_db.rentals"]["deleted"] == 7
    assert done.progress["shop_db.rentals"]["kept_referenced"] == 3
    assert (
        shop.scalar("""SELECT COUNT(*) FROM payments p
                          WHERE NOT EXISTS (SELECT 1 FROM rentals r WHERE r.id = p.rental_id)""")
        == 0
    )
    assert shop.scalar("SELECT COUNT(*) FROM rentals") == 5
