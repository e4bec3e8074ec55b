"""The auth routes over HTTP: login cookie, CSRF, rate limit, roles, users and keys."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from privet.auth.deps import CSRF_HEADER, SESSION_COOKIE
from privet.settings import Settings
from tests.test_routes_auth import api_routes

API = "/api/v1"


def _login(client: TestClient, username: str, password: str) -> dict:
    response = client.post(f"{API}/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return response.json()


def test_login_sets_hardened_cookie(client: TestClient, make_user) -> None:
    user, password = make_user("agent")
    response = client.post(f"{API}/auth/login", json={"username": user.username, "password": password})
    assert response.status_code == 200
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    flags = {part.strip().split("=")[0].lower(): part for part in cookie.split(";")}
    assert "httponly" in flags and flags["samesite"].strip().lower() == "samesite=lax"
    assert flags["path"].strip() == "Path=/" and "secure" not in flags
    body = response.json()
    assert body["user"]["username"] == user.username and "password_hash" not in body["user"]
    assert body["csrf_token"] and body["csrf_token"] not in cookie
    me = client.get(f"{API}/auth/me").json()
    assert me["kind"] == "user" and me["user"]["id"] == user.id and "datamap:read" in me["scopes"]


def test_cookie_secure_when_configured(client: TestClient, settings: Settings, make_user) -> None:
    settings.cookie_secure = True
    user, password = make_user("agent")
    response = client.post(f"{API}/auth/login", json={"username": user.username, "password": password})
    assert "secure" in response.headers["set-cookie"].lower().replace("samesite", "")


def test_wrong_password_and_unknown_user_look_the_same(client: TestClient, make_user) -> None:
    user, password = make_user("agent")
    wrong = client.post(f"{API}/auth/login", json={"username": user.username, "password": password + "!"})
    unknown = client.post(f"{API}/auth/login", json={"username": user.username + "x", "password": password})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() and "set-cookie" not in wrong.headers
    assert client.get(f"{API}/auth/me").status_code == 401


def test_csrf_required_for_unsafe_methods_with_cookie(client: TestClient, make_user) -> None:
    user, password = make_user("admin")
    csrf = _login(client, user.username, password)["csrf_token"]
    body = {"name": "svc", "scopes": ["audit:read"]}
    refused = client.post(f"{API}/auth/apikeys", json=body)
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    assert client.post(f"{API}/auth/apikeys", json=body, headers={CSRF_HEADER: "wrong"}).status_code == 403
    created = client.post(f"{API}/auth/apikeys", json=body, headers={CSRF_HEADER: csrf})
    assert created.status_code == 201, created.text
    assert client.get(f"{API}/auth/apikeys").status_code == 200  # safe methods need no token


def test_logout_ends_session(client: TestClient, make_user) -> None:
    user, password = make_user("auditor")
    csrf = _login(client, user.username, password)["csrf_token"]
    assert client.post(f"{API}/auth/logout", headers={CSRF_HEADER: csrf}).status_code == 204
    assert client.get(f"{API}/auth/me").status_code == 401


def test_login_rate_limited_per_client(client: TestClient, settings: Settings, make_user) -> None:
    settings.public_rate_limit_per_minute = 3
    user, password = make_user("agent")
    for _ in range(3):
        assert client.post(f"{API}/auth/login", json={"username": user.username, "password": "x"}).status_code == 401
    limited = client.post(f"{API}/auth/login", json={"username": user.username, "password": password})
    assert limited.status_code == 429 and limited.json()["status"] == 429
    assert limited.headers["content-type"].startswith("application/problem+json")
    assert 1 <= int(limited.headers["retry-after"]) <= 60


def test_auditor_reads_audit_but_cannot_write(client: TestClient, make_user) -> None:
    user, password = make_user("auditor")
    csrf = {CSRF_HEADER: _login(client, user.username, password)["csrf_token"]}
    assert client.get(f"{API}/audit/verify").status_code == 200
    assert (
        client.post(f"{API}/auth/apikeys", json={"name": "x", "scopes": ["audit:read"]}, headers=csrf).status_code
        == 403
    )
    writes = [r for r in api_routes(client.app) if "datamap:write" in r.scopes]
    for route in writes:  # whichever datamap write routes exist
        path = re.sub(r"\{[^}]+\}", "x", route.path)
        assert client.request(sorted(route.methods)[0], path, json={}, headers=csrf).status_code == 403, route.path


def test_one_time_password_must_be_changed_first(client: TestClient, make_user, new_password) -> None:
    user, password = make_user("admin", must_change=True)
    login = _login(client, user.username, password)
    assert login["scopes"] == ["account:self"] and login["user"]["must_change_password"]
    csrf = {CSRF_HEADER: login["csrf_token"]}
    assert client.get(f"{API}/auth/users").status_code == 403
    new = new_password()
    bad = client.post(f"{API}/auth/me/password", json={"current_password": "nope", "new_password": new}, headers=csrf)
    assert bad.status_code == 403
    changed = client.post(
        f"{API}/auth/me/password", json={"current_password": password, "new_password": new}, headers=csrf
    )
    assert changed.status_code == 200 and not changed.json()["must_change_password"]
    assert client.get(f"{API}/auth/users").status_code == 200


def test_admin_manages_users_over_api(client: TestClient, make_key, new_username) -> None:
    auth = {"Authorization": f"Bearer {make_key('users:admin')}"}
    username = new_username()
    created = client.post(f"{API}/auth/users", json={"username": username, "role": "agent"}, headers=auth)
    assert created.status_code == 201, created.text
    one_time, user_id = created.json()["password"], created.json()["user"]["id"]
    assert one_time and created.json()["user"]["must_change_password"]
    listed = client.get(f"{API}/auth/users", headers=auth)
    assert one_time not in listed.text and "argon2" not in listed.text
    patched = client.patch(f"{API}/auth/users/{user_id}", json={"role": "auditor", "active": False}, headers=auth)
    assert patched.json()["role"] == "auditor" and patched.json()["active"] is False
    bad = client.post(f"{API}/auth/users", json={"username": username, "role": "root"}, headers=auth)
    assert bad.status_code == 422 and "privacy_officer" in bad.text
    assert client.patch(f"{API}/auth/users/nobody", json={}, headers=auth).status_code == 404
    events = client.get(
        f"{API}/audit/events",
        params={"object_id": user_id},
        headers={"Authorization": f"Bearer {make_key('audit:read')}"},
    ).json()
    assert [e["action"] for e in events] == ["user.created", "user.role_changed", "user.deactivated"]
    assert all(e["actor"].startswith("apikey:pk_") for e in events) and one_time not in str(events)


def test_api_key_secret_only_in_create_answer(client: TestClient, make_key) -> None:
    admin = {"Authorization": f"Bearer {make_key('users:admin')}"}
    created = client.post(f"{API}/auth/apikeys", json={"name": "warehouse", "scopes": ["audit:read"]}, headers=admin)
    secret, key = created.json()["secret"], created.json()["key"]
    assert secret.startswith(f"pvt_{key['prefix']}_")
    assert secret not in client.get(f"{API}/auth/apikeys", headers=admin).text
    bearer = {"Authorization": f"Bearer {secret}"}
    assert client.get(f"{API}/audit/verify", headers=bearer).status_code == 200
    assert client.get(f"{API}/auth/users", headers=bearer).status_code == 403
    assert client.delete(f"{API}/auth/apikeys/{key['id']}", headers=admin).status_code == 204
    assert client.get(f"{API}/audit/verify", headers=bearer).status_code == 401
    unknown = client.post(f"{API}/auth/apikeys", json={"name": "x", "scopes": ["root"]}, headers=admin)
    assert unknown.status_code == 422 and "datamap:read" in unknown.text
