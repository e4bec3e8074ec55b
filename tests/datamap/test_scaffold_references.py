"""Scaffold on databases that declare no foreign keys: references inferred from names and types, a relation proposed
for every reference, credentials recognised, identities' indexes judged as they are matched; SQLite, PostgreSQL and
MariaDB."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from privet.datamap import matching
from privet.datamap.scaffold import scaffold
from privet.datamap.schemas import Manifest
from tests.support.services import create_mysql_database, create_pg_database

# A Chinook-like store (quoted mixed-case names) beside snake_case tables, with no foreign key anywhere.
ID = {"primary_key": True, "autoincrement": False}


def _legacy_schema(schema: str | None = None) -> sa.MetaData:
    md = sa.MetaData(schema=schema)
    sa.Table(
        "Customer",
        md,
        sa.Column("CustomerId", sa.Integer, **ID),
        sa.Column("FirstName", sa.String(40)),
        sa.Column("Email", sa.String(120)),
        sa.Column("Phone", sa.String(30)),
        sa.Column("SupportRepId", sa.Integer),
        sa.Column("AddressId", sa.Integer),
    )
    sa.Table(
        "Employee",
        md,
        sa.Column("EmployeeId", sa.Integer, **ID),
        sa.Column("Email", sa.String(120)),
        sa.Column("ReportsTo", sa.Integer),
        sa.Column("AddressId", sa.Integer),
    )
    sa.Table(
        "Invoice",
        md,
        sa.Column("InvoiceId", sa.Integer, **ID),
        sa.Column("CustomerId", sa.Integer),
        sa.Column("Total", sa.Numeric(10, 2)),
    )
    sa.Table(
        "address",
        md,
        sa.Column("id", sa.Integer, **ID),
        sa.Column("street", sa.String(80)),
        sa.Column("city", sa.String(40)),
    )
    sa.Table(
        "stores",
        md,
        sa.Column("id", sa.Integer, **ID),
        sa.Column("manager_id", sa.Integer),
        sa.Column("address_id", sa.Integer),
    )
    sa.Table(
        "tickets",
        md,
        sa.Column("id", sa.Integer, **ID),
        sa.Column("customer_ref", sa.String(20)),
        sa.Column("assigned_employee_id", sa.Integer),
        sa.Column("warehouse_id", sa.Integer),
    )
    sa.Table(
        "rentals",
        md,
        sa.Column("id", sa.Integer, **ID),
        sa.Column("cust_id", sa.Integer),
        sa.Column("staff_id", sa.Integer),
    )
    sa.Table("payslips", md, sa.Column("id", sa.Integer, **ID), sa.Column("employee_id", sa.Integer))
    sa.Table("categories", md, sa.Column("id", sa.Integer, **ID), sa.Column("parent_id", sa.Integer))
    sa.Table("member", md, sa.Column("id", sa.Integer, **ID))
    sa.Table("members", md, sa.Column("id", sa.Integer, **ID))
    sa.Table("visits", md, sa.Column("id", sa.Integer, **ID), sa.Column("member_id", sa.Integer))
    sa.Table("promos", md, sa.Column("id", sa.String(20), **ID))
    sa.Table("coupons", md, sa.Column("id", sa.Integer, **ID), sa.Column("promo_id", sa.Integer))
    sa.Table(
        "accounts",
        md,
        sa.Column("id", sa.Integer, **ID),
        sa.Column("login_name", sa.String(60)),
        sa.Column("password_hash", sa.String(100)),
        sa.Column("password_salt", sa.String(40)),
        sa.Column("remember_token", sa.String(100)),
        sa.Column("reset_token", sa.String(100)),
        sa.Column("api_key", sa.String(64)),
        sa.Column("api_secret", sa.String(64)),
        sa.Column("totp_secret", sa.String(32)),
        sa.Column("otp_seed", sa.String(32)),
        sa.Column("private_key", sa.Text),
        sa.Column("security_question", sa.String(100)),
        sa.Column("security_answer", sa.String(100)),
        sa.Column("token_expires_at", sa.DateTime),
    )
    return md


def _indexes(engine: sa.Engine, dialect: str, schema: str | None) -> None:
    """Customer.Email by lower(trim()) where the dialect can index it, Customer.Phone by a plain index only,
    accounts.login_name (exact by default) by lower(trim()), Employee.Email by a plain index."""
    table = f"{schema}.Customer" if schema else "Customer"
    statements = [
        matching.index_statement(table, "Email", "casefold", dialect),
        matching.index_statement(table, "Phone", "exact", dialect),
        matching.index_statement(f"{schema}.accounts" if schema else "accounts", "login_name", "casefold", dialect),
        matching.index_statement(f"{schema}.Employee" if schema else "Employee", "Email", "exact", dialect),
    ]
    with engine.begin() as conn:
        for sql in filter(None, statements):
            conn.exec_driver_sql(sql)


def _nothing() -> None:
    """Nothing to drop."""


def _database(backend: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, callable]:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('legacy') / 'legacy.db'}", _nothing
    return create_pg_database() if backend == "postgresql" else create_mysql_database()


@pytest.fixture(scope="module", params=["sqlite", "postgresql", "mariadb"])
def legacy(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict]]:
    """(backend, draft) of a database holding the legacy schema."""
    url, drop = _database(request.param, tmp_path_factory)
    engine = sa.create_engine(url)
    try:
        _legacy_schema().create_all(engine)
        _indexes(engine, request.param, None)
        yield request.param, scaffold(url, dataset_key="legacy", datastore_key="legacy_db")
    finally:
        engine.dispose()
        drop()


def _fields(draft: dict, table: str) -> dict[str, dict]:
    found = next(t for t in draft["datasets"][0]["tables"] if t["name"] == table)
    return {f["name"]: f for f in found["fields"]}


def _ref(field: dict) -> tuple:
    return field.get("references"), field.get("relation"), field.get("inferred")


def test_draft_validates(legacy: tuple[str, dict]) -> None:
    Manifest.model_validate(legacy[1])


def test_references_inferred_from_mixed_case_names(legacy: tuple[str, dict]) -> None:
    draft = legacy[1]
    assert _ref(_fields(draft, "Invoice")["CustomerId"]) == ("Customer.CustomerId", "belongs_to", True)
    customer = _fields(draft, "Customer")
    assert _ref(customer["SupportRepId"]) == ("Employee.EmployeeId", "points_to", True)
    assert "role" in customer["SupportRepId"]["description"]
    assert _ref(customer["AddressId"]) == ("address.id", "owns", True)
    assert "references" not in customer["CustomerId"]  # a primary key never refers to itself
    assert _ref(_fields(draft, "Employee")["ReportsTo"]) == ("Employee.EmployeeId", "points_to", True)
    assert _ref(_fields(draft, "Employee")["AddressId"]) == ("address.id", "owns", True)


def test_relations_follow_whose_row_it_is(legacy: tuple[str, dict]) -> None:
    draft = legacy[1]
    stores = _fields(draft, "stores")
    assert _ref(stores["manager_id"]) == ("Employee.EmployeeId", "points_to", True)
    assert _ref(stores["address_id"]) == ("address.id", "points_to", True)  # a store's address is shared
    assert "shared" in stores["address_id"]["description"]
    rentals = _fields(draft, "rentals")
    assert _ref(rentals["cust_id"]) == ("Customer.CustomerId", "belongs_to", True)  # an unambiguous abbreviation
    assert _ref(rentals["staff_id"]) == ("Employee.EmployeeId", "points_to", True)
    # alone on the row, the employee is the person the payslip belongs to
    assert _ref(_fields(draft, "payslips")["employee_id"]) == ("Employee.EmployeeId", "belongs_to", True)
    assert _ref(_fields(draft, "categories")["parent_id"]) == ("categories.id", "points_to", True)


def test_text_column_holding_an_integer_key_is_inferred_with_a_note(legacy: tuple[str, dict]) -> None:
    tickets = _fields(legacy[1], "tickets")
    assert _ref(tickets["customer_ref"]) == ("Customer.CustomerId", "belongs_to", True)
    assert "as text" in tickets["customer_ref"]["description"]
    assert _ref(tickets["assigned_employee_id"]) == ("Employee.EmployeeId", "points_to", True)


def test_no_reference_to_a_missing_ambiguous_or_incompatible_table(legacy: tuple[str, dict]) -> None:
    draft = legacy[1]
    warehouse = _fields(draft, "tickets")["warehouse_id"]
    assert "references" not in warehouse and "description" not in warehouse
    member = _fields(draft, "visits")["member_id"]
    assert "references" not in member
    assert "member.id or members.id" in member["description"]
    promo = _fields(draft, "coupons")["promo_id"]
    assert "references" not in promo and "cannot hold" in promo["description"]


def test_credentials_are_recognised(legacy: tuple[str, dict]) -> None:
    accounts = _fields(legacy[1], "accounts")
    category = {name: f.get("category") for name, f in accounts.items()}
    assert category["password_hash"] == "user.authorization.password"
    for name in ("remember_token", "reset_token", "api_key"):
        assert category[name] == "user.authorization.token", name
    for name in ("password_salt", "api_secret", "totp_secret", "otp_seed", "private_key"):
        assert category[name] == "user.authorization.secret", name
    assert category["security_question"] == category["security_answer"] == "user.authorization.security_answer"
    assert category["token_expires_at"] is None


def test_identity_indexes_judged_as_matched(legacy: tuple[str, dict]) -> None:
    backend, draft = legacy
    customer = _fields(draft, "Customer")
    email, phone = customer["Email"], customer["Phone"]
    assert email["identity"] == "email" and "match" not in email  # casefold is e-mail's default: not written
    assert email["indexed"] is (backend != "mariadb")  # MariaDB cannot index lower(trim(...))
    assert phone["identity"] == "phone" and phone["indexed"] is False and "match" not in phone
    assert "serves exact lookups" in phone["description"]
    employee_email = _fields(draft, "Employee")["Email"]
    assert employee_email["indexed"] is False and "serves exact lookups" in employee_email["description"]
    login = _fields(draft, "accounts")["login_name"]
    if backend == "mariadb":
        assert login["identity"] == "account_name" and login["indexed"] is False and "match" not in login
    else:  # an exact-by-default identity the company indexes ignoring case: matched so
        assert (login["match"], login["indexed"]) == ("casefold", True)


@pytest.mark.parametrize("backend", ["postgresql", "mariadb"])
def test_another_schema(backend: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    """--schema names a PostgreSQL schema or another MariaDB database; references stay `table.field`."""
    url, drop = _database(backend, tmp_path_factory)
    other_drop = _nothing
    engine = sa.create_engine(url)
    try:
        if backend == "postgresql":
            with engine.begin() as conn:
                conn.exec_driver_sql('CREATE SCHEMA "Crm"')
            schema = "Crm"
        else:
            other, other_drop = create_mysql_database()
            schema = sa.engine.make_url(other).database
        md = _legacy_schema(schema)
        sa.Table(
            "orders",
            md,
            sa.Column("id", sa.Integer, **ID),
            sa.Column("customer_id", sa.ForeignKey(f"{schema}.Customer.CustomerId")),
        )
        md.create_all(engine)
        _indexes(engine, backend, schema)
        draft = scaffold(url, dataset_key="crm", datastore_key="crm_db", schema=schema)
    finally:
        engine.dispose()
        other_drop()
        drop()
    Manifest.model_validate(draft)
    assert _ref(_fields(draft, "orders")["customer_id"]) == ("Customer.CustomerId", "belongs_to", None)
    assert _ref(_fields(draft, "Invoice")["CustomerId"]) == ("Customer.CustomerId", "belongs_to", True)
    assert _fields(draft, "Customer")["Email"]["indexed"] is (backend == "postgresql")


def test_names_that_cannot_be_written_leave_a_note(tmp_path_factory: pytest.TempPathFactory) -> None:
    url, _drop = _database("sqlite", tmp_path_factory)
    engine = sa.create_engine(url)
    md = sa.MetaData()
    sa.Table("Order Lines", md, sa.Column("id", sa.Integer, primary_key=True))
    sa.Table(
        "line_notes",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("line_id", sa.ForeignKey("Order Lines.id")),
    )
    md.create_all(engine)
    engine.dispose()
    draft = scaffold(url, dataset_key="x", datastore_key="x")
    Manifest.model_validate(draft)
    line = _fields(draft, "line_notes")["line_id"]
    assert "references" not in line and "cannot be written as table.field" in line["description"]
