"""Access packages: contents in en and zh_CN, encryption at rest, expiring and download-limited links, purge."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from faker import Faker
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from privet.audit.models import AuditEvent
from privet.kit.clock import frozen_at
from privet.kit.crypto import DecryptionFailed, Keyring
from privet.kit.errors import Forbidden, NotFound
from privet.kit.ids import new_id
from privet.requests.crypto import identity_context
from privet.requests.models import AccessPackage, DsrRequest
from privet.requests.packages import service as packages
from privet.requests.packages.explain import explain
from privet.settings import Settings

KEPTEK = Path(__file__).resolve().parents[2] / "examples" / "keptek" / "datamap"
T0 = datetime(2031, 5, 6, 7, 8, 9, tzinfo=UTC)
fake_en, fake_zh = Faker("en_US"), Faker("zh_CN")


def make_request(
    db: Session,
    keyring: Keyring,
    *,
    type: str = "access",
    subject_id: str | None = None,
    language: str = "en",
    status: str = "running",
) -> DsrRequest:
    """A verified request for a generated e-mail address (the way intake stores it)."""
    email = fake_en.unique.email(domain="example.com")
    request_id = new_id()
    request = DsrRequest(
        id=request_id,
        reference="R-" + new_id()[-8:].upper(),
        type=type,
        status=status,
        subject_id=subject_id,
        identity_type="email",
        identity_blind_index=keyring.blind_index("email", email),
        identity_enc=keyring.encrypt(email, context=identity_context(request_id, "email")),
        channel="api",
        filed_by="test",
        language=language,
        profile="pipl",
        details={},
        result={},
    )
    db.add(request)
    db.flush()
    return request


@pytest.fixture
def keyring(settings: Settings) -> Keyring:
    return Keyring.from_settings(settings)


@pytest.fixture
def keptek(db: Session) -> Session:
    from privet.datamap.service import validate_and_apply

    validate_and_apply(db, KEPTEK, actor="test")
    db.flush()
    return db


def person_rows() -> tuple[dict, dict]:
    """Rows as connectors return them: Chinese names, dates, decimals, nulls, and a formula-looking value."""
    name, phone = fake_zh.name(), "+86" + fake_zh.phone_number()
    rows = {
        "crm": {
            "customers": [
                {
                    "id": 41,
                    "mobile": phone,
                    "name": name,
                    "email": fake_en.email(domain="example.com"),
                    "birth_date": date(1990, 4, 1),
                    "occupation": '=HYPERLINK("http://x")',
                    "created_at": datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC),
                }
            ],
            "orders": [
                {"id": 7, "customer_id": 41, "total_cny": Decimal("1299.50"), "note": None},
                {"id": 8, "customer_id": 41, "total_cny": Decimal("-12.00"), "note": "<script>x</script>"},
            ],
        }
    }
    return rows, {"name": name, "phone": phone}


def meta(request: DsrRequest) -> dict:
    return {
        "reference": request.reference,
        "type": request.type,
        "received_at": T0,
        "generated_at": T0,
        "identity_type": "email",
    }


def unzip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def found(rows: dict) -> dict:
    return {store: {table: len(r) for table, r in tables.items()} for store, tables in rows.items()}


def test_package_holds_json_csv_and_html_in_english(keptek: Session, keyring: Keyring) -> None:
    request = make_request(keptek, keyring)
    rows, person = person_rows()
    files = unzip(packages.build_zip(meta(request), rows, explain(keptek, found(rows), "en"), "en"))
    assert set(files) == {"README.txt", "report.html", "data.json", "crm/customers.csv", "crm/orders.csv"}

    document = json.loads(files["data.json"])
    assert document["format"] == "privet-access-package" and document["language"] == "en"
    assert document["summary"] == {"rows": 3, "tables": {"crm": {"customers": 1, "orders": 2}}}
    customer = document["data"]["crm"]["customers"][0]
    assert customer["name"] == person["name"] and customer["birth_date"] == "1990-04-01"
    assert customer["occupation"].startswith("=HYPERLINK")  # JSON keeps exact values
    assert document["data"]["crm"]["orders"][0]["total_cny"] == "1299.50"
    assert document["request"]["reference"] == request.reference
    assert "user.contact.phone" in {c["key"] for c in document["explanation"]["categories"]}

    raw = files["crm/customers.csv"]
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: spreadsheet programs read the Chinese name correctly
    [row] = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert row["name"] == person["name"] and row["mobile"] == person["phone"]  # +86... is a number, not a formula
    assert row["occupation"].startswith("'=HYPERLINK")
    orders = list(csv.DictReader(io.StringIO(files["crm/orders.csv"].decode("utf-8-sig"))))
    assert [o["total_cny"] for o in orders] == ["1299.50", "-12.00"] and orders[0]["note"] == ""

    html = files["report.html"].decode()
    assert person["name"] in html and request.reference in html
    assert "&lt;script&gt;x&lt;/script&gt;" in html and "<script>" not in html
    for heading in (
        "What we found",
        "What we use it for",
        "Who we share it with",
        "Kept for",
        "Where it came from",
        "Phone number",
        "Account registration and login",
        "Keptek Technologies (demo)",
    ):
        assert heading in html, heading
    assert "<link" not in html and " src=" not in html and "url(" not in html  # no external resources
    readme = files["README.txt"].decode("utf-8-sig")
    assert request.reference in readme and "data.json" in readme


def test_package_in_chinese(keptek: Session, keyring: Keyring) -> None:
    request = make_request(keptek, keyring, language="zh_CN")
    rows, person = person_rows()
    files = unzip(packages.build_zip(meta(request), rows, explain(keptek, found(rows), "zh_CN"), "zh_CN"))
    html = files["report.html"].decode()
    assert '<html lang="zh-CN">' in html and person["name"] in html
    for text in (
        "查询结果",
        "处理目的",
        "个人电话号码",
        "保存期限",
        "注销账户后30天",
        "短信服务商",
        "信息来源",
        "注册",
        "中国境内",
        "个人信息出境标准合同",
    ):
        assert text in html, text
    assert "本数据包" in files["README.txt"].decode("utf-8-sig")
    assert json.loads(files["data.json"])["data"]["crm"]["customers"][0]["name"] == person["name"]


@pytest.mark.parametrize(
    ("lang", "honest"),
    [("en", "We hold no personal data about you in these systems"), ("zh_CN", "我们在这些系统中未持有您的个人信息")],
)
def test_empty_result_is_an_honest_empty_package(keptek: Session, keyring: Keyring, lang: str, honest: str) -> None:
    request = make_request(keptek, keyring, language=lang)
    data = packages.build_zip(meta(request), {"crm": {"customers": []}}, explain(keptek, {}, lang), lang)
    files = unzip(data)
    assert set(files) == {"README.txt", "report.html", "data.json"}
    assert honest in files["report.html"].decode() and honest in files["README.txt"].decode("utf-8-sig")
    assert json.loads(files["data.json"])["summary"]["rows"] == 0


def test_long_tables_are_cut_in_the_report_only() -> None:
    rows = {"logs": {"login_events": [{"id": i, "at": f"2031-01-01T00:00:{i % 60:02d}"} for i in range(520)]}}
    files = unzip(packages.build_zip({"reference": "R-LONG", "type": "access"}, rows, {}, "en"))
    html = files["report.html"].decode()
    assert "Only the first 500 of 520 records" in html and "logs/login_events.csv" in html
    assert len(files["logs/login_events.csv"].decode("utf-8-sig").strip().splitlines()) == 521
    assert len(json.loads(files["data.json"])["data"]["logs"]["login_events"]) == 520


def test_stored_encrypted_with_only_the_token_hash(db: Session, keyring: Keyring, settings: Settings) -> None:
    request = make_request(db, keyring)
    rows, person = person_rows()
    data = packages.build_zip(meta(request), rows, {}, "en")
    package, token = packages.store_package(db, keyring, settings, request, data)
    assert package.blob_enc != data and not package.blob_enc.startswith(b"PK")
    assert person["name"].encode() not in package.blob_enc and data[:200] not in package.blob_enc
    assert token not in (package.token_hash, package.id) and len(token) >= 40
    assert package.size == len(data) and package.downloads == 0 and package.max_downloads == 5
    assert keyring.decrypt(package.blob_enc, context=packages.package_context(package.id)) == data
    with pytest.raises(DecryptionFailed):  # bound to its row: a copied blob does not open elsewhere
        keyring.decrypt(package.blob_enc, context=packages.package_context(new_id()))
    [event] = db.scalars(select(AuditEvent).where(AuditEvent.action == "package.stored")).all()
    assert event.details["request_id"] == request.id and token not in json.dumps(event.details)


def test_expiry_download_limit_and_last_download_drops_the_blob(
    db: Session, keyring: Keyring, settings: Settings
) -> None:
    limited = settings.model_copy(update={"package_downloads": 2, "package_days": 7})
    request = make_request(db, keyring)
    data = packages.build_zip(meta(request), {}, {}, "en")
    with frozen_at(T0):
        package, token = packages.store_package(db, keyring, limited, request, data)
    assert package.expires_at == T0 + timedelta(days=7)
    with pytest.raises(NotFound):
        packages.open_package(db, keyring, token + "x")
    with frozen_at(T0 + timedelta(days=1)):
        assert packages.open_package(db, keyring, token)[1] == data
        opened, again = packages.open_package(db, keyring, token)
    assert again == data and opened.downloads == 2
    assert opened.blob_enc is None and opened.purged_at is not None  # nobody can fetch it again: not kept
    with frozen_at(T0 + timedelta(days=2)), pytest.raises(packages.Gone) as used_up:
        packages.open_package(db, keyring, token)
    assert used_up.value.status == 410 and "2 times" in used_up.value.detail

    other = make_request(db, keyring)
    with frozen_at(T0):
        _, token2 = packages.store_package(db, keyring, limited, other, data)
    with frozen_at(T0 + timedelta(days=7) - timedelta(seconds=1)):
        packages.open_package(db, keyring, token2)
    with frozen_at(T0 + timedelta(days=7)), pytest.raises(packages.Gone) as expired:
        packages.open_package(db, keyring, token2)
    assert "expired" in expired.value.detail
    downloads = db.scalars(select(AuditEvent).where(AuditEvent.action == "package.downloaded")).all()
    assert len(downloads) == 3 and all(token not in json.dumps(e.details) for e in downloads)


def test_purge_expired_drops_blobs_once(db: Session, keyring: Keyring, settings: Settings) -> None:
    with frozen_at(T0):
        old, old_token = packages.store_package(db, keyring, settings, make_request(db, keyring), b"zip-1")
    with frozen_at(T0 + timedelta(days=3)):
        new, _ = packages.store_package(db, keyring, settings, make_request(db, keyring), b"zip-2")
    assert packages.purge_expired(db, T0 + timedelta(days=6)) == 0
    assert packages.purge_expired(db, T0 + timedelta(days=8)) == 1
    db.refresh(old), db.refresh(new)
    assert old.blob_enc is None and old.purged_at == T0 + timedelta(days=8) and new.blob_enc is not None
    assert packages.purge_expired(db, T0 + timedelta(days=8)) == 0
    with frozen_at(T0 + timedelta(days=1)), pytest.raises(packages.Gone):  # purged: gone even before expiry time
        packages.open_package(db, keyring, old_token)
    [event] = db.scalars(select(AuditEvent).where(AuditEvent.action == "package.purged")).all()
    assert event.object_id == old.id


def test_rebuilding_replaces_the_package_and_its_link(db: Session, keyring: Keyring, settings: Settings) -> None:
    request = make_request(db, keyring)
    first, token1 = packages.store_package(db, keyring, settings, request, b"first")
    packages.open_package(db, keyring, token1)
    second, token2 = packages.store_package(db, keyring, settings, request, b"second")
    assert second.id == first.id and second.downloads == 0
    with pytest.raises(NotFound):
        packages.open_package(db, keyring, token1)
    assert packages.open_package(db, keyring, token2)[1] == b"second"
    assert len(db.scalars(select(AccessPackage).where(AccessPackage.request_id == request.id)).all()) == 1


def test_a_subject_session_must_be_the_requests_subject(db: Session, keyring: Keyring, settings: Settings) -> None:
    from privet.subjects.service import create_subject

    owner = create_subject(db, keyring, [("email", fake_en.unique.email(domain="example.com"), True)], actor="test")
    stranger = create_subject(db, keyring, [("email", fake_en.unique.email(domain="example.com"), True)], actor="test")
    request = make_request(db, keyring, subject_id=owner.id)
    package, token = packages.store_package(db, keyring, settings, request, b"zip")
    with pytest.raises(Forbidden):
        packages.open_package(db, keyring, token, subject_id=stranger.id)
    assert package.downloads == 0  # a refused attempt does not use up a download
    assert packages.open_package(db, keyring, token, subject_id=owner.id)[1] == b"zip"


# --- the public download route --------------------------------------------------------------------------------
def test_download_route(client: TestClient, db: Session, keyring: Keyring, settings: Settings) -> None:
    from privet.subjects import sessions
    from privet.subjects.service import create_subject

    owner = create_subject(db, keyring, [("email", fake_en.unique.email(domain="example.com"), True)], actor="test")
    request = make_request(db, keyring, subject_id=owner.id)
    data = packages.build_zip(meta(request), person_rows()[0], {}, "en")
    _, token = packages.store_package(db, keyring, settings.model_copy(update={"package_downloads": 2}), request, data)
    db.commit()
    url = f"/api/v1/public/packages/{token}"

    got = client.get(url)
    assert got.status_code == 200 and got.content == data
    assert got.headers["content-type"] == "application/zip"
    assert got.headers["content-disposition"] == f'attachment; filename="privet-{request.reference}.zip"'
    assert got.headers["cache-control"] == "no-store"

    someone = sessions.issue(keyring, subject_id=new_id(), identity_type="email")
    assert client.get(url, headers={"Authorization": f"Subject {someone}"}).status_code == 403
    assert client.get(url, headers={"Authorization": "Subject forged"}).status_code == 401
    mine = sessions.issue(keyring, subject_id=owner.id, identity_type="email")
    assert client.get(url, headers={"Authorization": f"Subject {mine}"}).content == data

    used_up = client.get(url)
    assert used_up.status_code == 410 and used_up.headers["content-type"] == "application/problem+json"
    assert "ask for a new copy" in used_up.json()["hint"]
    assert client.get("/api/v1/public/packages/not-a-token").status_code == 404
