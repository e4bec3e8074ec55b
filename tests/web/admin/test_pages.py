"""Admin pages without a browser: each renders for a role holding its scope, 403 for one without, CSRF on forms."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from privet.auth.models import User
from tests.web.admin.conftest import HTML, PASSWORD, TOKEN, form_token

PAGES = {
    "/admin": "requests:read",
    "/admin/requests": "requests:read",
    "/admin/users": "users:admin",
    "/admin/audit": "audit:read",
    "/admin/password": "account:self",
    "/admin/datamap": "datamap:read",
    "/admin/datamap?q=contact": "datamap:read",
    "/admin/consent": "consent:read",
    "/admin/notices": "notices:read",
}


def test_every_page_renders_for_an_admin(client: TestClient, officer) -> None:
    officer("admin")
    for path in PAGES:
        answer = client.get(path, headers=HTML)
        assert answer.status_code == 200, (path, answer.text[:500])
        assert '<nav class="main"' in answer.text and "Log out" in answer.text
        assert "content-security-policy" in answer.headers


@pytest.mark.parametrize(
    ("role", "path"), [("agent", "/admin/users"), ("agent", "/admin/audit"), ("auditor", "/admin/users")]
)
def test_a_role_without_the_scope_gets_the_403_page(client: TestClient, officer, role: str, path: str) -> None:
    officer(role)
    answer = client.get(path, headers=HTML)
    assert answer.status_code == 403 and "<html" in answer.text and "Your role cannot open this page" in answer.text
    assert client.get("/admin", headers=HTML).status_code == 200  # the dashboard is theirs


def test_nav_shows_only_what_the_role_may_open(client: TestClient, officer) -> None:
    officer("agent")
    text = client.get("/admin", headers=HTML).text
    assert 'href="/admin/requests"' in text and 'href="/admin/users"' not in text and 'href="/admin/audit"' not in text


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(client: TestClient, officer, db: Session) -> None:
    token = officer("admin")
    before = db.scalar(select(func.count()).select_from(User))
    refused = client.post("/admin/users", data={"username": "sneaky", "role": "admin"}, headers=HTML)
    assert refused.status_code == 403 and "out of date" in refused.text
    assert db.scalar(select(func.count()).select_from(User)) == before
    created = client.post(
        "/admin/users", data={"username": "welcome", "role": "agent", "csrf_token": token}, headers=HTML
    )
    assert created.status_code == 200 and 'id="one-time-password"' in created.text
    assert db.scalar(select(func.count()).select_from(User)) == before + 1


def test_login_form_refuses_a_bad_password_and_keeps_next_on_site(client: TestClient, db: Session) -> None:
    from privet.auth import service as auth

    auth.create_user(db, "pat", "privacy_officer", password=PASSWORD, actor="test")
    db.commit()
    token = form_token(client)
    bad = client.post(
        "/admin/login", data={"username": "pat", "password": "wrong-password-x", "csrf_token": token}, headers=HTML
    )
    assert bad.status_code == 401 and "Wrong username or password" in bad.text and "privet_session" not in bad.cookies
    good = client.post(
        "/admin/login",
        data={"username": "pat", "password": PASSWORD, "csrf_token": token, "next": "https://evil.example/admin"},
        headers=HTML,
        follow_redirects=False,
    )
    assert good.status_code == 303 and good.headers["location"] == "/admin"
    cookie = good.headers["set-cookie"].lower()
    assert "privet_session=" in cookie and "httponly" in cookie and "samesite=lax" in cookie and "max-age=" in cookie


def test_login_without_csrf_token_is_refused(client: TestClient, db: Session) -> None:
    from privet.auth import service as auth

    auth.create_user(db, "sam", "agent", password=PASSWORD, actor="test")
    db.commit()
    client.get("/admin/login", headers=HTML)
    answer = client.post(
        "/admin/login", data={"username": "sam", "password": PASSWORD}, headers=HTML, follow_redirects=False
    )
    assert answer.status_code == 403 and "privet_session" not in answer.cookies


def test_a_one_time_password_leads_to_the_set_password_form(client: TestClient, db: Session) -> None:
    from privet.auth import service as auth

    _user, one_time = auth.create_user(db, "newbie", "agent", actor="test")
    db.commit()
    token = form_token(client)
    answer = client.post(
        "/admin/login",
        data={"username": "newbie", "password": one_time, "csrf_token": token, "next": "/admin/requests"},
        headers=HTML,
        follow_redirects=False,
    )
    assert answer.status_code == 303 and answer.headers["location"].startswith("/admin/password?next=")
    assert client.get("/admin", headers=HTML).status_code == 403
    form = client.get(answer.headers["location"], headers=HTML)
    assert "one-time password" in form.text
    token = TOKEN.search(form.text).group(1)  # the login form's token is not this session's
    differ = client.post(
        "/admin/password",
        headers=HTML,
        data={
            "csrf_token": token,
            "current_password": one_time,
            "new_password": PASSWORD,
            "confirm_password": "x" * 12,
            "next": "/admin/requests",
        },
    )
    assert differ.status_code == 422 and "differ" in differ.text
    done = client.post(
        "/admin/password",
        headers=HTML,
        follow_redirects=False,
        data={
            "csrf_token": token,
            "current_password": one_time,
            "new_password": PASSWORD,
            "confirm_password": PASSWORD,
            "next": "/admin/requests",
        },
    )
    assert done.status_code == 303 and done.headers["location"] == "/admin/requests?done=password"
    assert client.get("/admin/requests", headers=HTML).status_code == 200


def test_logout_ends_the_session(client: TestClient, officer) -> None:
    token = officer("auditor")
    out = client.post("/admin/logout", data={"csrf_token": token}, headers=HTML, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/admin/login"
    again = client.get("/admin", headers=HTML, follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"].startswith("/admin/login")


def test_the_console_speaks_chinese(client: TestClient, officer) -> None:
    login = client.get("/admin/login", headers={**HTML, "Accept-Language": "zh-CN"})
    assert '<html lang="zh-Hans">' in login.text and "登录管理控制台" in login.text
    officer("admin")
    dashboard = client.get("/admin?lang=zh_CN", headers=HTML)
    assert (
        "按期限统计的未完成请求" in dashboard.text
        and '<title id="chart-deadlines-title">按期限统计的未完成请求' in dashboard.text
    )
    assert "用户与 API 密钥" in client.get("/admin/users", headers=HTML).text  # the choice is remembered


def test_login_page_is_rate_limited(client: TestClient, app) -> None:
    app.state.settings.public_rate_limit_per_minute = 3
    answers = [client.get("/admin/login", headers=HTML).status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]


def test_api_keys_are_shown_once_and_can_be_revoked(client: TestClient, officer) -> None:
    token = officer("admin")
    made = client.post(
        "/admin/users/keys/new",
        headers=HTML,
        data={"csrf_token": token, "name": "shop backend", "scopes": ["decide", "consent:read"]},
    )
    assert made.status_code == 200 and 'id="api-key-secret"' in made.text
    secret = made.text.split('id="api-key-secret">')[1].split("<")[0]
    assert secret.startswith("pvt_")
    assert client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 403
    listed = client.get("/admin/users", headers=HTML).text
    assert secret not in listed and "shop backend" in listed
    key_id = listed.split('action="/admin/users/keys/')[1].split("/")[0]
    revoked = client.post(
        f"/admin/users/keys/{key_id}/revoke", headers=HTML, data={"csrf_token": token}, follow_redirects=False
    )
    assert revoked.status_code == 303 and "Revoked" in client.get("/admin/users", headers=HTML).text


def test_change_role_and_deactivate(client: TestClient, officer, db: Session) -> None:
    from privet.auth import service as auth

    token = officer("admin")
    user, _ = auth.create_user(db, "temp-agent", "agent", actor="test")
    db.commit()
    assert (
        client.post(
            f"/admin/users/{user.id}",
            headers=HTML,
            follow_redirects=False,
            data={"csrf_token": token, "role": "auditor"},
        ).status_code
        == 303
    )
    assert (
        client.post(
            f"/admin/users/{user.id}", headers=HTML, follow_redirects=False, data={"csrf_token": token, "active": "no"}
        ).status_code
        == 303
    )
    db.expire_all()
    changed = db.get(User, user.id)
    assert changed.role == "auditor" and not changed.active


def test_audit_log_pages_back_and_filters_by_action(client: TestClient, officer, db: Session) -> None:
    from privet.audit.service import record

    for n in range(60):
        record(db, actor="test", action="test.paging", object_type="thing", object_id=str(n), details={"n": n})
    db.commit()
    officer("auditor")
    first = client.get("/admin/audit?action=test.", headers=HTML).text
    assert "Chain verified" in first and first.count("<td>test.paging</td>") == 50
    older = first.split('<nav class="pager"')[1].split('href="/admin/audit?before=')[1].split("&")[0]
    second = client.get(f"/admin/audit?before={older}&action=test.", headers=HTML).text
    assert second.count("<td>test.paging</td>") == 10 and ">Older</a>" not in second and ">Newest</a>" in second


def test_an_attacker_s_own_csrf_cookie_and_token_do_not_work_with_a_victim_s_session(
    client: TestClient, officer, app, db: Session
) -> None:
    from privet.auth import service as auth

    victim_token = officer("admin")  # the victim, an admin, is logged in in `client`
    with TestClient(app) as attacker:  # the attacker's own browser: anonymous, then logged in as themselves
        app.state.sessionmaker = app.state.test_sessionmaker
        anonymous = form_token(attacker)
        pairs = [(attacker.cookies.get("privet_csrf"), anonymous)]
        auth.create_user(db, "mallory", "agent", password=PASSWORD, actor="test")
        db.commit()
        attacker.post(
            "/admin/login", headers=HTML, data={"username": "mallory", "password": PASSWORD, "csrf_token": pairs[0][1]}
        )
        pairs.append((attacker.cookies.get("privet_csrf"), form_token(attacker, "/admin/password")))
    before = db.scalar(select(func.count()).select_from(User))
    for csrf_cookie, token in pairs:  # planted in the victim's browser (e.g. from a sibling sub-domain)
        with TestClient(
            app, cookies={"privet_session": client.cookies.get("privet_session"), "privet_csrf": csrf_cookie}
        ) as forged:
            app.state.sessionmaker = app.state.test_sessionmaker
            answer = forged.post(
                "/admin/users", headers=HTML, data={"username": "backdoor", "role": "admin", "csrf_token": token}
            )
            assert answer.status_code == 403 and "out of date" in answer.text
    assert db.scalar(select(func.count()).select_from(User)) == before
    made = client.post(
        "/admin/users", headers=HTML, data={"username": "welcome2", "role": "agent", "csrf_token": victim_token}
    )
    assert made.status_code == 200  # the victim's own form, from their own session, works


def test_a_locked_account_shows_on_the_users_page_with_an_unlock_button(
    client: TestClient, officer, app, db: Session
) -> None:
    from privet.auth import service as auth

    app.state.settings.login_free_failures, app.state.settings.login_lock_failures = 0, 1
    locked, _ = auth.create_user(db, "locked-agent", "agent", password=PASSWORD, actor="test")
    db.commit()
    assert client.post("/api/v1/auth/login", json={"username": "locked-agent", "password": "wrong"}).status_code == 401
    token = officer("admin")
    page = client.get("/admin/users", headers=HTML).text
    assert "Locked" in page and f'action="/admin/users/{locked.id}/unlock"' in page
    done = client.post(
        f"/admin/users/{locked.id}/unlock", headers=HTML, data={"csrf_token": token}, follow_redirects=False
    )
    assert done.status_code == 303 and done.headers["location"] == "/admin/users?done=user_unlocked"
    assert f'action="/admin/users/{locked.id}/unlock"' not in client.get("/admin/users", headers=HTML).text
    assert client.post("/api/v1/auth/login", json={"username": "locked-agent", "password": PASSWORD}).status_code == 200
