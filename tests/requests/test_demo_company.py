"""End to end against the Keptek demo company: its real data map over generated databases in SQLite, PostgreSQL
and MariaDB — four SQL datastores and a manual one (paper contracts) answered by a person."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from privet.kit.crypto import Keyring
from privet.settings import Settings
from tests.support.services import create_mysql_database, create_pg_database

KEPTEK = Path(__file__).resolve().parents[2] / "examples" / "keptek" / "datamap"


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def keptek_urls(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    """The Keptek datastores (crm, devices, training, analytics) filled with 12 generated customers."""
    from privet.demo.generator import company, fill

    stores = company("keptek").datastores()
    if request.param == "sqlite":
        urls, drop = {key: f"sqlite:///{tmp_path / f'{key}.sqlite'}" for key in stores}, (lambda: None)
    else:
        url, drop = create_pg_database() if request.param == "postgresql" else create_mysql_database()
        urls = dict.fromkeys(stores, url)  # one database holding every datastore's tables, as `privet demo` can
    fill("keptek", urls, customers=12, seed=7)
    yield urls
    drop()


@pytest.fixture
def keptek(db: Session, conf: Settings, keptek_urls: dict[str, str]) -> tuple[Session, Settings]:
    from privet.datamap.service import validate_and_apply
    from privet.demo.generator import company
    from privet.jobs import dispatch

    settings = conf.model_copy(update={"secrets": {company("keptek").secret(k): u for k, u in keptek_urls.items()}})
    db.info[dispatch.SETTINGS_KEY] = settings
    validate_and_apply(db, KEPTEK, actor="test")
    db.flush()
    return db, settings


def _customer(urls: dict[str, str], *, skip: int = 0) -> dict:
    """A customer with orders, an e-mail address and a mobile number (from a range reserved for fiction)."""
    engine = sa.create_engine(urls["crm"])
    try:
        with engine.connect() as conn:
            return dict(
                conn.execute(
                    sa.text(
                        "SELECT id, email, mobile FROM customers WHERE email IS NOT NULL AND id IN "
                        "(SELECT customer_id FROM orders) ORDER BY organisation_id IS NULL, id"
                    )
                )
                .mappings()
                .all()[skip]
            )
    finally:
        engine.dispose()


def _row(url: str, sql: str, **params: object) -> dict:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return dict(conn.execute(sa.text(sql), params).mappings().one())
    finally:
        engine.dispose()


def _count(url: str, sql: str, **params: object) -> int:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(sql), params).scalar_one()
    finally:
        engine.dispose()


def _answer_paper_office(db: Session, keyring: Keyring, settings: Settings, request) -> None:
    """The partner office confirms by hand: no contract for this person."""
    from privet.requests.manual.service import complete_task, list_tasks

    [task] = [t for t in list_tasks(db, status="open") if t.request_id == request.id]
    complete_task(db, keyring, settings, task.id, actor="user:partner-office", confirmation="nothing found")


@pytest.mark.promise("P14")
def test_access_and_erasure_across_every_datastore(
    keptek, keptek_urls: dict[str, str], keyring: Keyring, drain, capsys
) -> None:
    from privet.requests.intake.service import file_request
    from privet.requests.intake.verify import record_identity_check
    from privet.requests.packages.service import open_package

    db, settings = keptek
    buyer = _customer(keptek_urls)
    access = file_request(
        db,
        keyring,
        settings,
        request_type="access",
        identity_type="phone",
        identity=buyer["mobile"],
        filed_by="public:api",
        language="zh_CN",
    )
    record_identity_check(db, keyring, settings, access, method="id_document", note=None, actor="user:o")
    drain(settings)
    steps = {s.datastore_key: s for s in access.steps}
    assert set(steps) == {"crm", "devices", "training", "analytics", "partner_contracts_paper"}
    assert steps["partner_contracts_paper"].status == "waiting" and access.status == "waiting"
    _answer_paper_office(db, keyring, settings, access)
    drain(settings)
    assert access.status == "completed", access.result
    assert steps["crm"].counts["customers"]["found"] == 1 and steps["crm"].counts["orders"]["found"] >= 1
    sms = capsys.readouterr().out  # the console SMS sender (development) prints the messages
    assert f"[privet sms to +{''.join(c for c in buyer['mobile'] if c.isdigit())}]" in sms  # E.164
    link = sms.split("/api/v1/public/packages/", 1)[1].split()[0]
    _package, data = open_package(db, keyring, link)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        document = json.loads(archive.read("data.json"))
        assert "report.html" in archive.namelist()
    assert [c["mobile"] for c in document["data"]["crm"]["customers"]] == [buyer["mobile"]]
    # credentials are listed as held, never shown; the organisation the buyer acts for is named, not disclosed (it
    # names its legal representative, another person)
    secrets = _row(
        keptek_urls["crm"],
        "SELECT password_hash, security_answer_hash, organisation_id FROM customers WHERE id = :c",
        c=buyer["id"],
    )
    text = json.dumps(document, ensure_ascii=False)
    assert secrets["password_hash"] not in text and secrets["security_answer_hash"] not in text
    withheld = {(w["table"], w["field"]) for w in document["withheld"]}
    assert {("customers", "password_hash"), ("customers", "security_answer_hash")} <= withheld
    assert "password_hash" not in document["data"]["crm"]["customers"][0]
    assert "organisations" not in document["data"]["crm"]
    assert secrets["organisation_id"] is not None  # a buyer acting for an organisation
    org = _row(
        keptek_urls["crm"],
        "SELECT legal_representative, contact_phone FROM organisations WHERE id = :o",
        o=secrets["organisation_id"],
    )
    assert org["legal_representative"] not in text and org["contact_phone"] not in text
    assert {
        "datastore": "crm",
        "table": "customers",
        "columns": ["organisation_id"],
        "to": "organisations",
        "to_columns": ["id"],
        "keys": [[secrets["organisation_id"]]],
    } in document["links"]

    erasure = file_request(
        db,
        keyring,
        settings,
        request_type="erasure",
        identity_type="email",
        identity=buyer["email"],
        filed_by="public:api",
    )
    record_identity_check(db, keyring, settings, erasure, method="id_document", note=None, actor="user:o")
    drain(settings)
    _answer_paper_office(db, keyring, settings, erasure)
    drain(settings)
    assert erasure.status == "completed", erasure.result
    crm = keptek_urls["crm"]
    assert _count(crm, "SELECT COUNT(*) FROM customer_addresses WHERE customer_id = :c", c=buyer["id"]) == 0
    assert _count(crm, "SELECT COUNT(*) FROM orders WHERE customer_id = :c", c=buyer["id"]) >= 1  # tax records
    assert _count(crm, "SELECT COUNT(*) FROM customers WHERE email = :e", e=buyer["email"]) == 0
    retained = {(r["datastore"], r["table"]) for r in erasure.result["retained"]}
    assert ("crm", "orders") in retained
    assert erasure.result["backups_clear_by"]
    assert buyer["email"] not in json.dumps(erasure.result) and buyer["mobile"] not in json.dumps(erasure.result)


def test_two_identities_and_a_stranger(keptek, keptek_urls: dict[str, str], keyring: Keyring, drain, fake) -> None:
    """One subject known by e-mail and phone is found by both; an identity that matches nobody finds nothing."""
    from privet.requests.intake.service import file_request
    from privet.requests.intake.verify import record_identity_check
    from privet.subjects.service import add_identity, get_or_create_subject

    db, settings = keptek
    person = _customer(keptek_urls, skip=1)
    subject, _ = get_or_create_subject(db, keyring, "email", person["email"], actor="test", verified=True)
    add_identity(db, keyring, subject, "phone", person["mobile"], actor="test", verified=True)
    stranger = fake.unique.email()
    requests = []
    for identity_type, value in (("email", person["email"]), ("email", stranger)):
        request = file_request(
            db,
            keyring,
            settings,
            request_type="explanation",
            identity_type=identity_type,
            identity=value,
            filed_by="public:api",
        )
        record_identity_check(db, keyring, settings, request, method="id_document", note=None, actor="user:o")
        requests.append(request)
    drain(settings)
    for request in requests:
        _answer_paper_office(db, keyring, settings, request)
    drain(settings)
    known, unknown = requests
    assert known.status == unknown.status == "completed"
    assert known.result["tables"]["crm"]["customers"] == 1
    assert sum(n for tables in unknown.result["tables"].values() for n in tables.values()) == 0
