"""`privet datamap scaffold` reflects real SQLite, PostgreSQL and MariaDB schemas into a valid draft."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import click
import pytest
import sqlalchemy as sa
import yaml
from click.testing import CliRunner, Result
from faker import Faker

from privet.datamap.scaffold import guess_column, known_categories, nearest_known, scaffold
from privet.datamap.schemas import Manifest
from privet.kit.errors import InvalidInput, Unavailable
from tests.support.services import create_mysql_database, create_pg_database

PASSWORD = "Pw-n0t-in-0utput"


@click.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.pass_context
def _entry(ctx: click.Context) -> None:
    import sys

    from privet import cli

    sys.argv = ["privet", *ctx.args]
    cli.main()


def privet(*args: str) -> Result:
    """The real `privet` entry point (its exit codes and error printing), in-process."""
    return CliRunner().invoke(_entry, list(args), catch_exceptions=False)


def _shop_schema() -> sa.MetaData:
    """customers ← addresses ← deliveries; customers ← orders ← order_items ← item_returns (composite FK)."""
    md = sa.MetaData()
    sa.Table(
        "customers",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("email", sa.String(254), index=True),
        sa.Column("phone", sa.String(32)),
        sa.Column("full_name", sa.String(100)),
        sa.Column("birthday", sa.Date),
        sa.Column("wechat_openid", sa.String(64)),
        sa.Column("note", sa.Text),
        sa.UniqueConstraint("wechat_openid", name="uq_customers_openid"),
    )
    sa.Table(
        "addresses",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("customer_id", sa.ForeignKey("customers.id"), nullable=False),
        sa.Column("province", sa.String(40)),
        sa.Column("city", sa.String(40)),
        sa.Column("street", sa.String(200)),
    )
    sa.Table(
        "deliveries",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("address_id", sa.ForeignKey("addresses.id")),
        sa.Column("tracking_no", sa.String(40)),
    )
    sa.Table(
        "orders",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("customer_id", sa.ForeignKey("customers.id")),
        sa.Column("status", sa.String(20)),
    )
    sa.Table(
        "order_items",
        md,
        sa.Column("order_id", sa.ForeignKey("orders.id"), primary_key=True),
        sa.Column("line_no", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("product", sa.String(80)),
    )
    sa.Table(
        "item_returns",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("order_id", sa.Integer),
        sa.Column("line_no", sa.Integer),
        sa.Column("reason", sa.Text),
        sa.ForeignKeyConstraint(["order_id", "line_no"], ["order_items.order_id", "order_items.line_no"]),
    )
    sa.Table(
        "devices",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("serial_no", sa.String(40), unique=True),
        sa.Column("mac", sa.String(17)),
        sa.Column("owner_id", sa.ForeignKey("customers.id")),
        sa.Column("last_ip", sa.String(45)),
    )
    return md


def _fill(engine: sa.Engine, md: sa.MetaData) -> None:
    """A few Faker rows, so reflection runs against a database that holds (made-up) personal data."""
    fake = Faker(["zh_CN", "en_US"])
    fake.seed_instance(7)
    with engine.begin() as conn:
        for i in (1, 2):
            conn.execute(
                md.tables["customers"]
                .insert()
                .values(
                    id=i,
                    email=fake.email(),
                    phone=fake.phone_number(),
                    full_name=fake.name(),
                    birthday=fake.date_of_birth(minimum_age=18),
                    wechat_openid=f"o{fake.sha1()[:20]}",
                )
            )


@pytest.fixture(scope="module", params=["sqlite", "postgresql", "mariadb"])
def shop(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(backend, URL) of a database holding the shop schema."""
    if request.param == "sqlite":
        url, drop = f"sqlite:///{tmp_path_factory.mktemp('shop') / 'shop.db'}", (lambda: None)
    elif request.param == "postgresql":
        url, drop = create_pg_database()
    else:
        url, drop = create_mysql_database()
    engine = sa.create_engine(url)
    md = _shop_schema()
    md.create_all(engine)
    _fill(engine, md)
    engine.dispose()
    yield request.param, url
    drop()


@pytest.fixture(scope="module")
def draft(shop: tuple[str, str]) -> dict:
    return scaffold(shop[1], dataset_key="shop", datastore_key="shop_db")


def _fields(draft: dict, table: str) -> dict[str, dict]:
    found = next(t for t in draft["datasets"][0]["tables"] if t["name"] == table)
    return {f["name"]: f for f in found["fields"]}


def _table(draft: dict, table: str) -> dict:
    return next(t for t in draft["datasets"][0]["tables"] if t["name"] == table)


def test_draft_is_a_valid_manifest_naming_only_known_categories(draft: dict, shop: tuple[str, str]) -> None:
    manifest = Manifest.model_validate(draft)
    assert {t.name for t in manifest.datasets[0].tables} == {
        "customers",
        "addresses",
        "deliveries",
        "orders",
        "order_items",
        "item_returns",
        "devices",
    }
    store = manifest.datastores[0]
    assert store.kind.value == {"sqlite": "sqlite", "postgresql": "postgresql", "mariadb": "mysql"}[shop[0]]
    assert store.secret == "shop_db" and manifest.datasets[0].datastore == "shop_db"
    known = known_categories()
    used = {f.category for t in manifest.datasets[0].tables for f in t.fields if f.category}
    assert used and used <= known


def test_primary_keys_including_composite(draft: dict) -> None:
    assert _table(draft, "customers")["primary_key"] == ["id"]
    assert _table(draft, "order_items")["primary_key"] == ["order_id", "line_no"]


def test_foreign_keys_become_references_three_levels_deep_and_composite(draft: dict) -> None:
    assert _fields(draft, "addresses")["customer_id"]["references"] == "customers.id"
    assert _fields(draft, "deliveries")["address_id"]["references"] == "addresses.id"
    assert _fields(draft, "order_items")["order_id"]["references"] == "orders.id"
    returns = _fields(draft, "item_returns")
    assert returns["order_id"]["references"] == "order_items.order_id"
    assert returns["line_no"]["references"] == "order_items.line_no"
    assert "references" not in _fields(draft, "customers")["email"]


def test_every_reference_proposes_a_relation(draft: dict) -> None:
    refs = [f for t in draft["datasets"][0]["tables"] for f in t["fields"] if "references" in f]
    assert refs and all(f["relation"] == "belongs_to" and "inferred" not in f for f in refs)  # all declared


def test_identities_guessed_with_index_flags(draft: dict) -> None:
    customers = _fields(draft, "customers")
    # e-mail is matched ignoring case (its default, so `match` is not written): a plain index does not serve that
    email = customers["email"]
    assert {k: email[k] for k in ("name", "category", "identity", "indexed")} == {
        "name": "email",
        "category": "user.contact.email",
        "identity": "email",
        "indexed": False,
    }
    assert "match" not in email and "serves exact lookups" in email["description"]
    assert customers["phone"]["identity"] == "phone" and customers["phone"]["indexed"] is False
    assert customers["wechat_openid"]["identity"] == "wechat_openid" and customers["wechat_openid"]["indexed"]
    assert customers["id"]["identity"] == "user_id" and customers["id"]["indexed"] is True
    serial = _fields(draft, "devices")["serial_no"]
    assert serial["identity"] == "device_serial" and serial["indexed"] is True


def test_categories_guessed_and_non_personal_left_blank(draft: dict) -> None:
    customers = _fields(draft, "customers")
    assert customers["full_name"]["category"] == "user.name"
    assert customers["birthday"]["category"] == "user.demographic.date_of_birth"
    assert "category" not in customers["note"]
    assert _fields(draft, "addresses")["province"]["category"] == "user.contact.address.province"
    assert _fields(draft, "addresses")["street"]["category"] == "user.contact.address"
    devices = _fields(draft, "devices")
    assert devices["mac"]["category"] == "user.device.mac_address"
    assert devices["last_ip"]["category"] == "user.device.ip_address"
    orders = _fields(draft, "orders")
    assert orders["customer_id"]["category"] == "user.account.user_id" and "identity" not in orders["customer_id"]
    assert "category" not in orders["status"] and "category" not in _fields(draft, "deliveries")["tracking_no"]
    assert "category" not in _fields(draft, "deliveries")["address_id"]  # a key to an address, not an address


def test_cli_writes_reviewable_yaml_without_the_url_or_password(shop: tuple[str, str], tmp_path: Path) -> None:
    url = sa.engine.make_url(shop[1])
    if shop[0] == "postgresql":  # trust authentication ignores the password, so it must simply not leak
        url = url.set(password=PASSWORD)
    rendered = url.render_as_string(hide_password=False)
    out = tmp_path / "draft.yaml"
    result = privet("datamap", "scaffold", "--datastore", rendered, "--datastore-key", "shop_db", "-o", str(out))
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# Draft data map") and "# TODO" in text
    assert rendered not in text and PASSWORD not in text and "@" not in text.split("datasets:")[0]
    assert Manifest.model_validate(yaml.safe_load(text)).datastores[0].secret == "shop_db"
    again = privet("datamap", "scaffold", "--datastore", rendered, "-o", str(out))
    assert again.exit_code == 2 and "--force" in again.output


def test_cli_resolves_a_secret_name(shop: tuple[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from privet.settings import get_settings

    monkeypatch.setenv("PRIVET_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PRIVET_SECRETS", f'{{"crm_db": "{shop[1]}"}}')
    get_settings.cache_clear()
    try:
        result = privet("datamap", "scaffold", "--datastore", "crm_db", "--table", "cust*")
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    data = yaml.safe_load(result.stdout)
    assert data["datastores"][0]["secret"] == "crm_db" and data["datasets"][0]["key"] == "crm_db"
    assert [t["name"] for t in data["datasets"][0]["tables"]] == ["customers"]
    assert shop[1] not in result.stdout


@pytest.mark.parametrize(
    "url",
    [f"postgresql+psycopg://privet:{PASSWORD}@127.0.0.1:1/shop", f"mysql+pymysql://privet:{PASSWORD}@127.0.0.1:1/shop"],
)
def test_unreachable_server_is_a_clear_error_without_password(url: str) -> None:
    with pytest.raises(Unavailable) as caught:
        scaffold(url, dataset_key="shop", datastore_key="shop_db")
    text = caught.value.render()
    assert "Cannot reach" in text and "127.0.0.1:1" in text and PASSWORD not in text and "\n" not in text


def test_wrong_credentials_on_mariadb() -> None:
    url, drop = create_mysql_database()
    try:
        bad = sa.engine.make_url(url).set(password=PASSWORD).render_as_string(hide_password=False)
        with pytest.raises(InvalidInput) as caught:
            scaffold(bad, dataset_key="shop", datastore_key="shop_db")
    finally:
        drop()
    assert "Wrong credentials" in caught.value.render() and PASSWORD not in caught.value.render()


def test_missing_postgres_database() -> None:
    url, drop = create_pg_database()
    drop()
    with pytest.raises(InvalidInput, match="does not exist"):
        scaffold(url, dataset_key="shop", datastore_key="shop_db")


def test_bad_inputs(tmp_path: Path) -> None:
    missing = tmp_path / "nope.db"
    with pytest.raises(InvalidInput, match="No SQLite database file"):
        scaffold(f"sqlite:///{missing}", dataset_key="shop", datastore_key="shop_db")
    assert not missing.exists()  # reflecting must not create an empty database
    with pytest.raises(InvalidInput, match="does not support 'oracle'"):
        scaffold("oracle://u@h/db", dataset_key="x", datastore_key="x")
    with pytest.raises(InvalidInput, match="No database driver"):
        scaffold("postgresql+nosuchdriver://u@h/db", dataset_key="x", datastore_key="x")
    garbage = tmp_path / "notes.db"
    garbage.write_text("not a database, just text " * 40, encoding="utf-8")
    with pytest.raises(InvalidInput, match="Not a SQLite database"):
        scaffold(f"sqlite:///{garbage}", dataset_key="x", datastore_key="x")
    empty = tmp_path / "empty.db"
    sa.create_engine(f"sqlite:///{empty}").connect().close()
    with pytest.raises(InvalidInput, match="No tables"):
        scaffold(f"sqlite:///{empty}", dataset_key="x", datastore_key="x")


def test_unknown_table_filter(draft: dict, shop: tuple[str, str]) -> None:
    with pytest.raises(InvalidInput, match="No table matches nope"):
        scaffold(shop[1], dataset_key="shop", datastore_key="shop_db", include=["customers", "nope"])


def test_cli_bad_url_exits_2_with_one_line() -> None:
    result = privet("datamap", "scaffold", "--datastore", f"postgresql+psycopg://u:{PASSWORD}@127.0.0.1:1/x")
    assert result.exit_code == 2
    assert "Cannot reach" in result.stderr and PASSWORD not in result.output and "Traceback" not in result.output


@pytest.mark.parametrize(
    ("column", "subject", "category", "identity"),
    [
        ("e_mail", False, "user.contact.email", "email"),
        ("userEmail", False, "user.contact.email", "email"),
        ("shouji", False, "user.contact.phone", "phone"),
        ("mobile_no", False, "user.contact.phone", "phone"),
        ("cellphone", False, "user.contact.phone", "phone"),
        ("xingming", False, "user.name", None),
        ("name", True, "user.name", None),
        ("name", False, None, None),  # product.name is not a person's name
        ("shenfenzheng", False, "user.government_id.national_id", None),
        ("passport_no", False, "user.government_id.passport", None),
        ("wx_openid", False, "user.account.third_party_id", "wechat_openid"),
        ("sn", False, "user.device.serial_number", "device_serial"),
        ("order_sn", False, None, None),  # an order number, not a device serial
        ("imei", False, "user.device.device_id", None),
        ("last_login_ip", False, "user.device.ip_address", None),
        ("latitude", False, "user.location.precise", None),
        ("pwd", False, "user.authorization.password", None),
        ("dob", False, "user.demographic.date_of_birth", None),
        ("bank_card_no", False, "user.financial.payment_card", None),
        ("address_id", False, None, None),
        ("order_state", False, None, None),
        ("customer_id", True, "user.account.user_id", "user_id"),
        ("recipient", False, "user.name", None),
        ("title", False, None, None),  # a course or event title
        ("device_uid", False, "user.device.device_id", None),
        ("CustomerID", True, "user.account.user_id", "user_id"),
        ("remember_token", False, "user.authorization.token", None),
        ("password_reset_token", False, "user.authorization.token", None),
        ("apiKey", False, "user.authorization.token", None),
        ("token_expires_at", False, None, None),
        ("password_salt", False, "user.authorization.secret", None),
        ("totp_secret", False, "user.authorization.secret", None),
        ("mfa_secret", False, "user.authorization.secret", None),
        ("otp_seed", False, "user.authorization.secret", None),
        ("private_key", False, "user.authorization.secret", None),
        ("security_question", False, "user.authorization.security_answer", None),
        ("mibao_daan", False, "user.authorization.security_answer", None),
        ("password", False, "user.authorization.password", None),
    ],
)
def test_column_name_guesses(column: str, subject: bool, category: str | None, identity: str | None) -> None:
    guess = guess_column(column, is_subject=subject, is_pk=False, known=known_categories())
    assert (guess.category, guess.identity) == (category, identity)


def test_guesses_fall_back_to_a_known_ancestor() -> None:
    assert nearest_known("user.contact.address.city", {"user", "user.contact.address"}) == "user.contact.address"
    assert nearest_known("custom.thing", {"user"}) is None
