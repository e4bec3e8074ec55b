"""Privacy-centre pages without a browser: CSRF, an empty store, a trusted token from the company's app."""

from __future__ import annotations

import re
import secrets
import time

import jwt
import pytest
from fastapi.testclient import TestClient

from privet.settings import Settings

HTML = {"Accept": "text/html"}
SECRET = "centre-login-secret-0123456789abcdef"


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(
        data_dir=tmp_path / "var",
        secret_key="test-secret-key-0123456789abcdef",
        subject_token_secret=SECRET,
        cookie_secure=False,
    )


def _token(identity: str) -> str:
    now = int(time.time())
    return jwt.encode(
        {
            "identity_type": "email",
            "identity": identity,
            "aud": "privet",
            "iat": now,
            "exp": now + 120,
            "jti": secrets.token_hex(8),
        },
        SECRET,
        algorithm="HS256",
    )


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_forms_without_the_csrf_token_are_refused(client: TestClient) -> None:
    client.get("/", headers=HTML)  # the browser holds a CSRF cookie, but the forged form does not carry the token
    for path, data in (
        ("/signin", {"identity": "a@example.com"}),
        ("/consents", {"purpose": "x", "event": "given"}),
        ("/requests", {"type": "access", "identity": "a@example.com"}),
        ("/signout", {}),
    ):
        answer = client.post(path, data=data, headers=HTML, follow_redirects=False)
        assert answer.status_code == 403, path
        assert "<html" in answer.text and "not sent from this site" in answer.text


def test_the_centre_opens_on_an_empty_store(client: TestClient) -> None:
    page = client.get("/", headers=HTML)
    assert page.status_code == 200 and "No policy has been published yet." in page.text
    assert (
        client.get("/consents", headers=HTML, follow_redirects=False).headers["location"] == "/signin?next=%2Fconsents"
    )
    assert client.get("/policy/nothing-here", headers=HTML).status_code == 404
    signin = client.get("/signin?next=//evil.example/x", headers=HTML)
    assert 'name="next" value="/consents"' in signin.text  # only paths of this site are followed


def test_a_trusted_token_from_the_app_signs_in_after_a_confirming_click(client: TestClient) -> None:
    token = _token("app-user@example.com")
    arrival = client.post("/signin/token", data={"token": token}, headers=HTML, follow_redirects=False)
    assert arrival.status_code == 200 and "privet_subject" not in arrival.headers.get("set-cookie", "")
    assert token in arrival.text and "/signin/token" in arrival.text  # a form to continue, nothing done yet
    answer = client.post(
        "/signin/token", data={"token": token, "csrf_token": _csrf(arrival.text)}, headers=HTML, follow_redirects=False
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/consents?done=signed_in"
    cookie = answer.headers["set-cookie"]
    assert "privet_subject=" in cookie and "httponly" in cookie.lower() and token not in answer.headers["location"]
    stale = client.post("/signin/token", data={"token": token, "csrf_token": _csrf(arrival.text)}, headers=HTML)
    assert stale.status_code == 200 and "/signin/token" in stale.text  # an anonymous form: out of date once signed in
    fresh = _csrf(client.get("/signin", headers=HTML).text)  # a form shown to the signed-in person
    again = client.post("/signin/token", data={"token": token, "csrf_token": fresh}, headers=HTML)
    assert again.status_code == 401 and "already used" in again.text


def test_signing_out_forgets_the_session(client: TestClient) -> None:
    token = _token("leaving@example.com")
    arrival = client.post("/signin/token", data={"token": token}, headers=HTML)
    client.post(
        "/signin/token", data={"token": token, "csrf_token": _csrf(arrival.text)}, headers=HTML, follow_redirects=False
    )
    assert client.cookies.get("privet_subject")
    stale = client.post("/signout", data={"csrf_token": _csrf(arrival.text)}, headers=HTML, follow_redirects=False)
    assert stale.status_code == 403  # the anonymous page's token is not the signed-in session's
    out = client.post(
        "/signout", data={"csrf_token": _csrf(client.get("/", headers=HTML).text)}, headers=HTML, follow_redirects=False
    )
    assert out.status_code == 303 and 'privet_subject=""' in out.headers["set-cookie"]


def test_a_request_with_a_bad_address_says_what_to_fix_and_stores_nothing(client: TestClient, db) -> None:
    from sqlalchemy import func, select

    from privet.requests.models import DsrRequest

    form = client.get("/requests?type=access", headers={**HTML, "Accept-Language": "zh-CN"})
    answer = client.post(
        "/requests",
        data={"type": "access", "identity": "someone@", "csrf_token": _csrf(form.text)},
        headers={**HTML, "Accept-Language": "zh-CN"},
    )
    assert answer.status_code == 422 and 'role="alert"' in answer.text
    assert "无法提交该请求" in answer.text and "不是有效的电子邮件地址" in answer.text
    assert 'value="someone@"' in answer.text  # what was typed stays in the form
    assert db.scalar(select(func.count()).select_from(DsrRequest)) == 0


def test_an_attacker_s_own_csrf_pair_does_not_work_with_a_signed_in_person_s_session(client: TestClient, app) -> None:
    token = _token("victim@example.com")
    arrival = client.post("/signin/token", data={"token": token}, headers=HTML)
    client.post("/signin/token", data={"token": token, "csrf_token": _csrf(arrival.text)}, headers=HTML)
    victim_session = client.cookies.get("privet_subject")
    assert victim_session
    with TestClient(app) as attacker:  # anonymous: a CSRF cookie and the token that goes with it
        app.state.sessionmaker = app.state.test_sessionmaker
        attacker_token = _csrf(attacker.get("/requests?type=access", headers=HTML).text)
        attacker_cookie = attacker.cookies.get("privet_csrf")
        assert (
            attacker.post(
                "/requests", headers=HTML, data={"type": "access", "identity": "someone@", "csrf_token": attacker_token}
            ).status_code
            == 422
        )
    with TestClient(app, cookies={"privet_subject": victim_session, "privet_csrf": attacker_cookie}) as forged:
        app.state.sessionmaker = app.state.test_sessionmaker
        for path, data in (
            ("/consents", {"purpose": "marketing.communications", "event": "withdrawn"}),
            ("/signout", {}),
        ):
            answer = forged.post(
                path, headers=HTML, follow_redirects=False, data={**data, "csrf_token": attacker_token}
            )
            assert answer.status_code == 403, path
            assert "not sent from this site" in answer.text
    mine = _csrf(client.get("/", headers=HTML).text)  # the person's own form still works
    assert client.post("/signout", data={"csrf_token": mine}, headers=HTML, follow_redirects=False).status_code == 303
