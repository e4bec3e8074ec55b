"""Privet's favicon answers without sign-in and every page links it; signing in with something that is neither an
e-mail address nor a mobile number says once, plainly, what to type."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

HTML = {"Accept": "text/html"}
ONE_SENTENCE = {
    "en": "Type an e-mail address, such as name@example.com, or a mobile number, such as +86 138 0013 8000.",
    "zh_CN": "请输入电子邮件地址（例如 name@example.com）或手机号码（例如 +86 138 0013 8000）。",
}


def test_favicon_is_an_image_without_sign_in(client: TestClient) -> None:
    answer = client.get("/favicon.ico")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("image/")
    assert answer.content[:4] == b"\x00\x00\x01\x00"  # an ICO file
    assert "set-cookie" not in answer.headers
    svg = client.get("/static/favicon.svg")
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    assert client.post("/favicon.ico").status_code == 405  # nothing else is answered there


@pytest.mark.parametrize("path", ["/", "/signin", "/requests", "/admin/login", "/policy/no-such-notice"])
def test_pages_link_the_favicon(client: TestClient, path: str) -> None:
    answer = client.get(path, headers=HTML)
    assert answer.status_code in (200, 404), path
    assert '<link rel="icon" href="/favicon.ico"' in answer.text and "favicon.svg" in answer.text


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


@pytest.mark.parametrize("language", ["en", "zh_CN"])
@pytest.mark.parametrize("typed", ["not-an-email", "12", "name@", "@example.com", "+86 123"])
def test_signin_with_neither_an_email_nor_a_mobile_says_what_to_type(
    client: TestClient, language: str, typed: str
) -> None:
    form = client.get(f"/signin?lang={language}", headers=HTML)
    answer = client.post("/signin", data={"identity": typed, "csrf_token": _csrf(form.text)}, headers=HTML)
    assert answer.status_code == 422
    error = re.search(r'class="[^"]*error[^"]*"[^>]*>(.*?)</', answer.text, re.S)
    assert error, answer.text
    assert error.group(1).strip() == ONE_SENTENCE[language]
    assert answer.text.count("name@example.com") == 1 and "valid phone" not in answer.text
    assert "有效的电话号码" not in answer.text and "/signin/code" not in answer.text  # no code was sent


def test_signin_without_anything_still_asks_for_it(client: TestClient) -> None:
    form = client.get("/signin", headers=HTML)
    answer = client.post("/signin", data={"identity": " ", "csrf_token": _csrf(form.text)}, headers=HTML)
    assert answer.status_code == 422 and "Enter your e-mail address or mobile number" in answer.text
