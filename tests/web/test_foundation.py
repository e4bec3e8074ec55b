"""The pages' shared plumbing: languages, security headers, CSRF, the admin guard and HTML errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from privet.auth import service as auth
from privet.web import i18n

HTML = {"Accept": "text/html"}
WEB = Path(i18n.__file__).parent


def test_language_from_accept_language_then_switch_remembered(client: TestClient) -> None:
    page = client.get("/", headers={**HTML, "Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"})
    assert page.status_code == 200 and '<html lang="zh-Hans">' in page.text and "隐私中心" in page.text
    assert page.headers["content-language"] == "zh-Hans"
    english = client.get("/?lang=en", headers={**HTML, "Accept-Language": "zh-CN"})
    assert '<html lang="en">' in english.text and english.cookies.get("privet_lang") == "en"
    again = client.get("/", headers={**HTML, "Accept-Language": "zh-CN"})  # the cookie beats the header now
    assert '<html lang="en">' in again.text


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("en-GB,en;q=0.9", "en"),
        ("fr, zh-Hans;q=0.5", "zh_CN"),
        ("zh-TW", "zh_CN"),
        ("de", None),
        ("", None),
        ("en;q=0.2, zh;q=0.8", "zh_CN"),
        ("zh;q=0", None),
    ],
)
def test_accept_language_parsing(header: str, expected: str | None) -> None:
    assert i18n.from_accept_language(header) == expected


def test_pages_carry_a_strict_policy_and_the_api_does_not(client: TestClient) -> None:
    page = client.get("/", headers=HTML)
    policy = page.headers["content-security-policy"]
    nonce = re.search(r"'nonce-([^']+)'", policy).group(1)
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy and "unsafe-inline" not in policy
    assert f'nonce="{nonce}"' in page.text  # the one inline style is allowed by this page's nonce only
    assert client.get("/", headers=HTML).headers["content-security-policy"] != policy  # fresh per page
    assert page.headers["x-frame-options"] == "DENY" and page.headers["referrer-policy"] == "no-referrer"
    csrf = page.cookies.get("privet_csrf")
    assert csrf and "httponly" in page.headers["set-cookie"].lower()
    api = client.get("/healthz")
    assert "content-security-policy" not in api.headers
    assert client.get("/static/privet.css").status_code == 200


def test_admin_pages_send_anonymous_browsers_to_login(client: TestClient) -> None:
    answer = client.get("/admin", headers=HTML, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/admin/login?next=/admin"


def test_a_one_time_password_cannot_open_the_console(client: TestClient, db: Session) -> None:
    user, password = auth.create_user(db, "fresh-agent", "agent", actor="test")
    db.commit()
    login = client.post("/api/v1/auth/login", json={"username": user.username, "password": password})
    assert login.status_code == 200
    page = client.get("/admin", headers=HTML)
    assert page.status_code == 403 and "<html" in page.text and "password" in page.text
    assert client.get("/admin", headers={"Accept": "application/json"}).json()["status"] == 403


def test_every_page_text_has_a_chinese_translation() -> None:
    from babel.messages.extract import extract_from_dir

    method_map = [("**/templates/**.html", "jinja2.ext:babel_extract"), ("**.py", "python")]
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "translate": (2,), "N_": None}
    found = {}
    for filename, _line, message, _comments, _context in extract_from_dir(
        str(WEB),
        method_map=method_map,
        keywords=keywords,
        options_map={"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}},
    ):
        key = message[0] if isinstance(message, tuple) else message
        found.setdefault(key, filename)
    assert len(found) > 10
    missing = {m: f for m, f in found.items() if m not in i18n.catalogue("zh_CN")}
    assert not missing, "add these to web/locale/zh_CN/<area>.po:\n" + "\n".join(
        f"{f}: {m!r}" for m, f in missing.items()
    )
