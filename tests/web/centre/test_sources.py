"""The centre's `/sources` page (P40, P41) on SQLite and PostgreSQL: where each kind of information comes from with
its legal basis, in English and Simplified Chinese, and the contact for the person's region (a region without one
falls back to the organisation's `responsible`)."""

from __future__ import annotations

import re
import secrets
import time
from pathlib import Path

import jwt
import pytest
from faker import Faker
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from privet.datamap.contacts import contact_for, wider
from privet.settings import Settings

HTML = {"Accept": "text/html"}
SECRET = "centre-sources-secret-0123456789abcdef"
EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
_faker = Faker(["en_US", "zh_CN"])


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(
        data_dir=tmp_path / "var",
        secret_key="test-secret-key-0123456789abcdef",
        subject_token_secret=SECRET,
        cookie_secure=False,
    )


def _apply(db: Session, company: str) -> None:
    from privet.datamap.service import validate_and_apply

    validate_and_apply(db, EXAMPLES / company / "datamap", actor="test")
    db.commit()


def _sign_in(client: TestClient, region: str) -> None:
    """Sign in with a trusted token from the company's app stating the person's region (no identity in URLs)."""
    now = int(time.time())
    token = jwt.encode(
        {
            "identity_type": "email",
            "identity": _faker.unique.email(domain="example.com"),
            "region": region,
            "aud": "privet",
            "iat": now,
            "exp": now + 120,
            "jti": secrets.token_hex(8),
        },
        SECRET,
        algorithm="HS256",
    )
    arrival = client.post("/signin/token", data={"token": token}, headers=HTML)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', arrival.text).group(1)
    done = client.post("/signin/token", data={"token": token, "csrf_token": csrf}, headers=HTML, follow_redirects=False)
    assert done.status_code == 303, done.text


@pytest.mark.promise("P40")
def test_sources_page_says_where_data_comes_from_in_english_and_chinese(client: TestClient, db: Session) -> None:
    _apply(db, "keptek")
    english = client.get("/sources?lang=en", headers=HTML)
    assert english.status_code == 200 and "Where your information comes from" in english.text
    assert "WeChat (Tencent), when the person signs in with WeChat (a third party)" in english.text
    assert "received from" in english.text and "legal basis:" in english.text
    chinese = client.get("/sources?lang=zh_CN", headers=HTML)
    assert "您的信息从何而来" in chinese.text and "第三方WeChat" in chinese.text and "处理依据" in chinese.text
    assert "Your privacy contact" not in english.text  # nobody signed in: every contact listed, none chosen


@pytest.mark.promise("P41")
@pytest.mark.parametrize(
    "region, office",
    [("DE", "dpo-eu@zkteco.example"), ("US-CA", "privacy-us@zkteco.example"), ("JP", "privacy@zkteco.example")],
)
def test_a_signed_in_person_is_told_the_contact_for_their_region(
    client: TestClient, db: Session, region: str, office: str
) -> None:
    _apply(db, "zkteco")
    _sign_in(client, region)
    page = client.get("/sources?lang=en", headers=HTML)
    mine = re.search(r'<p id="my-contact">(.*?)</p>', page.text, re.S)
    assert mine and office in mine.group(1), page.text
    assert "dpo-eu@zkteco.example" in page.text and "privacy-apac@zkteco.example" in page.text  # all listed too


@pytest.mark.promise("P41")
def test_contacts_per_region_fall_back_to_responsible(db: Session) -> None:
    assert contact_for(db, "DE") == {}  # no data map yet: nothing to tell
    _apply(db, "zkteco")
    assert contact_for(db, "FR")["region"] == "EU" and contact_for(db, "US-NY")["region"] == "US"
    fallback = contact_for(db, "JP")  # ZKTeco declares no contact for Japan and no GLOBAL one
    assert fallback["region"] is None and fallback["email"] == "privacy@zkteco.example"
    assert contact_for(db, None)["region"] is None
    assert wider("DE") == ["DE", "EU", "EEA", "GLOBAL"] and wider("NO") == ["NO", "EEA", "GLOBAL"]
    _apply(db, "keptek")  # Keptek answers people outside the PRC from its international desk (GLOBAL)
    assert contact_for(db, "JP")["email"] == "privacy-intl@keptek.example"
    assert contact_for(db, "CN")["region"] == "CN"
