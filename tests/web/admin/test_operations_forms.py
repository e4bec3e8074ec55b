"""The console's officer actions (issue 15): retention runs (dry run, sweep, a killed run taken up again, resume),
legal holds, incidents, request decisions, users and API keys. A refused form shows the page again with the
input kept and what to fix, and changes nothing; a role without the scope sees no form and gets 403."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from faker import Faker
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from privet.audit.models import AuditEvent
from privet.jobs.models import Job
from privet.jobs.service import run_until_idle
from privet.kit.clock import utcnow
from privet.retention import service as retention
from privet.retention import sweep
from privet.retention.models import RetentionRun
from privet.settings import Settings
from tests.retention.conftest import DATAMAP, LOGINS, fill
from tests.web.admin.conftest import HTML

RUN = re.compile(r"/admin/retention/runs/([A-Za-z0-9]+)")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """The app's settings, with the company's SQLite database (retention rules' tables, filled) as `app_db`."""
    url = f"sqlite:///{tmp_path / 'company.sqlite'}"
    fill(url, Faker())
    return Settings(
        data_dir=tmp_path / "var",
        secret_key="test-secret-key-0123456789abcdef",
        mail_sender="smtp",
        sms_sender="console",
        secrets={"app_db": url},
    )


@pytest.fixture
def mapped(db: Session, tmp_path: Path) -> Session:
    from privet.datamap.service import validate_and_apply

    path = tmp_path / "datamap" / "app.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(DATAMAP.format(kind="sqlite"), encoding="utf-8")
    validate_and_apply(db, path, actor="test")
    db.commit()
    return db


def _rows(settings: Settings, table) -> int:
    import sqlalchemy as sa

    engine = sa.create_engine(settings.secrets["app_db"])
    with engine.connect() as conn:
        found = conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
    engine.dispose()
    return found


def _work(app: FastAPI, db: Session) -> int:
    """What the job workers would do: run the queued jobs (in the test's transaction)."""
    db.commit()
    return run_until_idle(app.state.test_sessionmaker, app.state.settings, app.state.keyring)


def _runs(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(RetentionRun))


def test_a_dry_run_is_followed_table_by_table_and_changes_nothing(
    client: TestClient, app: FastAPI, mapped: Session, settings: Settings, officer
) -> None:
    token = officer("privacy_officer")
    plan = {e["rule"]: e for e in retention.plan(mapped, settings, app.state.keyring)}
    before = _rows(settings, LOGINS)
    first = client.get("/admin/retention", headers=HTML).text
    assert 'id="start-run"' in first and "Not counted yet" in first  # the page counts nothing live
    started = client.post(
        "/admin/retention/runs", headers=HTML, follow_redirects=False, data={"csrf_token": token, "kind": "dry"}
    )
    assert started.status_code == 303
    path = RUN.search(started.headers["location"]).group(0)
    waiting = client.get(path, headers=HTML).text
    assert "Dry run in progress" in waiting and 'http-equiv="refresh"' in waiting and "0 / 5" in waiting
    assert _work(app, mapped) == 1
    done = client.get(path, headers=HTML).text
    assert "Dry run done" in done and 'http-equiv="refresh"' not in done and "5 / 5" in done
    row = mapped.get(RetentionRun, path.rsplit("/", 1)[1], populate_existing=True)
    assert (
        row.status == "dry_done"
        and row.progress["app_db.login_events"]["would_sweep"] == plan["app_db.login_events"]["would_sweep"] > 0
    )
    assert all(v["deleted"] == 0 and v["updated"] == 0 for v in row.progress.values())
    assert _rows(settings, LOGINS) == before  # nothing swept
    listed = client.get("/admin/retention", headers=HTML).text  # the plan now shows what the dry run counted
    assert f'href="{path}"' in listed.split('id="plan-counted"', 1)[1].split("</p>", 1)[0]
    counted = listed.split("app_db.login_events</code>", 1)[1].split("</tr>", 1)[0]
    assert f"<td>{plan['app_db.login_events']['would_sweep']}</td>" in counted
    assert retention.unfinished(mapped) is None  # a dry run is never resumed as a sweep
    started_event = mapped.scalars(select(AuditEvent).where(AuditEvent.action == "retention.run_started")).one()
    assert started_event.details["dry_run"] is True and started_event.actor.startswith("user:privacy-officer")
    chinese = client.get(f"{path}?lang=zh_CN", headers=HTML).text
    assert "试运行已完成" in chinese and "Dry run done" not in chinese


def test_a_sweep_needs_its_confirmation_and_nothing_starts_without_it(
    client: TestClient, app: FastAPI, mapped: Session, officer
) -> None:
    token = officer("privacy_officer")
    answer = client.post("/admin/retention/runs", headers=HTML, data={"csrf_token": token, "kind": "sweep"})
    assert answer.status_code == 422 and "Tick the box to confirm the sweep" in answer.text
    assert re.search(r'id="kind-sweep" name="kind" value="sweep" checked', answer.text)  # the choice is kept
    bad = client.post("/admin/retention/runs", headers=HTML, data={"csrf_token": token, "kind": "everything"})
    assert bad.status_code == 422 and "Choose a dry run or a sweep." in bad.text
    zh = client.post("/admin/retention/runs?lang=zh_CN", headers=HTML, data={"csrf_token": token, "kind": "sweep"})
    assert zh.status_code == 422 and "请勾选" in zh.text
    assert _runs(mapped) == 0 and mapped.scalar(select(func.count()).select_from(Job)) == 0


def test_a_killed_sweep_is_taken_up_again_then_a_failed_one_resumed(
    client: TestClient, app: FastAPI, mapped: Session, settings: Settings, officer, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = officer("privacy_officer")
    expected = {e["rule"]: e["would_sweep"] for e in retention.plan(mapped, settings, app.state.keyring)}
    before = _rows(settings, LOGINS)
    real = sweep.batches

    def killed(*args, **kwargs):
        for step in real(*args, **kwargs):
            yield step
            raise SystemExit("killed")

    monkeypatch.setattr(sweep, "batches", killed)
    started = client.post(
        "/admin/retention/runs",
        headers=HTML,
        follow_redirects=False,
        data={"csrf_token": token, "kind": "sweep", "confirm": "yes"},
    )
    path = RUN.search(started.headers["location"]).group(0)
    run_id = path.rsplit("/", 1)[1]
    mapped.commit()
    with pytest.raises(SystemExit):
        run_until_idle(app.state.test_sessionmaker, settings, app.state.keyring)
    assert "A worker is on this run" in client.get(path, headers=HTML).text  # its job still holds a lease
    # the lease runs out (the worker is dead): the job is claimed again and the run carries on where it stopped
    mapped.execute(update(Job).values(lease_until=utcnow().replace(year=2000)))

    def failing(*args, **kwargs):
        if args[2].table == "invoices":
            raise OSError("datastore down")
        yield from real(*args, **kwargs)

    monkeypatch.setattr(sweep, "batches", failing)
    _work(app, mapped)
    failed = client.get(path, headers=HTML).text
    assert "Failed" in failed and "app_db.invoices: stopped" in failed and 'id="resume-run"' in failed
    monkeypatch.setattr(sweep, "batches", real)
    resumed = client.post(f"{path}/resume", headers=HTML, follow_redirects=False, data={"csrf_token": token})
    assert resumed.status_code == 303 and resumed.headers["location"].endswith("done=resumed")
    _work(app, mapped)
    row = mapped.get(RetentionRun, run_id, populate_existing=True)
    assert row.status == "done" and _runs(mapped) == 1
    assert row.progress["app_db.login_events"]["deleted"] == expected["app_db.login_events"]  # rows changed, once
    assert _rows(settings, LOGINS) == before - expected["app_db.login_events"]
    page = client.get(path, headers=HTML).text
    assert ">Done<" in page and str(expected["app_db.login_events"]) in page and 'id="resume-run"' not in page
    actions = list(
        mapped.scalars(select(AuditEvent.action).where(AuditEvent.object_id == run_id).order_by(AuditEvent.seq))
    )
    assert actions == [
        "retention.run_started",
        "retention.run_failed",
        "retention.run_resumed",
        "retention.run_finished",
    ]
    again = client.post(f"{path}/resume", headers=HTML, data={"csrf_token": token})
    assert again.status_code == 409 and "Only the newest unfinished retention run can be resumed" in again.text


def test_a_second_sweep_waits_for_the_unfinished_one(client: TestClient, mapped: Session, officer) -> None:
    token = officer("privacy_officer")
    first = client.post(
        "/admin/retention/runs",
        headers=HTML,
        follow_redirects=False,
        data={"csrf_token": token, "kind": "sweep", "confirm": "yes"},
    )
    assert first.status_code == 303
    second = client.post(
        "/admin/retention/runs", headers=HTML, data={"csrf_token": token, "kind": "sweep", "confirm": "yes"}
    )
    assert second.status_code == 409 and "A retention run is already in progress" in second.text
    assert 'id="run-unfinished"' in second.text and _runs(mapped) == 1


def test_reading_roles_see_runs_but_cannot_start_or_resume_them(client: TestClient, mapped: Session, officer) -> None:
    row = retention.start(mapped, actor="test", dry_run=False)
    row.status = "failed"
    mapped.commit()
    token = officer("auditor")
    listed = client.get("/admin/retention", headers=HTML).text
    assert 'id="start-run"' not in listed and f"/admin/retention/runs/{row.id}" in listed
    shown = client.get(f"/admin/retention/runs/{row.id}", headers=HTML).text
    assert 'id="resume-run"' not in shown
    assert (
        client.post("/admin/retention/runs", headers=HTML, data={"csrf_token": token, "kind": "dry"}).status_code == 403
    )
    assert (
        client.post(f"/admin/retention/runs/{row.id}/resume", headers=HTML, data={"csrf_token": token}).status_code
        == 403
    )
    mapped.expire_all()
    assert _runs(mapped) == 1 and mapped.get(RetentionRun, row.id).status == "failed"


def _subject(app: FastAPI, db: Session) -> str:
    from privet.subjects.service import get_or_create_subject

    subject, _ = get_or_create_subject(
        db, app.state.keyring, "email", Faker().unique.email(domain="example.com"), actor="test"
    )
    db.commit()
    return subject.id


def _holds(db: Session) -> list:
    from privet.requests.holds.service import list_holds

    db.expire_all()
    return list_holds(db, active_only=False)


def test_a_legal_hold_is_placed_with_its_reason_and_released(
    client: TestClient, app: FastAPI, db: Session, officer
) -> None:
    subject_id = _subject(app, db)
    token = officer("agent")
    form = client.get(f"/admin/holds?subject={subject_id}", headers=HTML).text
    assert f'name="subject_id" maxlength="32" required value="{subject_id}"' in form
    placed = client.post(
        "/admin/holds",
        headers=HTML,
        follow_redirects=False,
        data={
            "csrf_token": token,
            "subject_id": subject_id,
            "reason": "Litigation pending",
            "reference": "Case 2026-17",
        },
    )
    assert placed.status_code == 303
    [hold] = _holds(db)
    assert hold.reason == "Litigation pending" and hold.reference == "Case 2026-17" and hold.released_at is None
    listed = client.get("/admin/holds?done=placed", headers=HTML).text
    assert "Litigation pending" in listed and "erasure of this person&#39;s data waits" in listed
    released = client.post(
        f"/admin/holds/{hold.id}/release", headers=HTML, follow_redirects=False, data={"csrf_token": token}
    )
    assert released.status_code == 303 and _holds(db)[0].released_at is not None
    again = client.post(f"/admin/holds/{hold.id}/release", headers=HTML, data={"csrf_token": token})
    assert again.status_code == 409 and "This legal hold was already released" in again.text
    events = list(db.scalars(select(AuditEvent.action).where(AuditEvent.object_id == hold.id).order_by(AuditEvent.seq)))
    assert events == ["legal_hold.placed", "legal_hold.released"]


def test_a_bad_hold_form_keeps_the_input_and_places_nothing(
    client: TestClient, app: FastAPI, db: Session, officer
) -> None:
    subject_id = _subject(app, db)
    token = officer("privacy_officer")
    no_reason = client.post(
        "/admin/holds", headers=HTML, data={"csrf_token": token, "subject_id": subject_id, "reference": "Case 9"}
    )
    assert no_reason.status_code == 422 and "A legal hold needs a reason" in no_reason.text
    assert f'value="{subject_id}"' in no_reason.text and 'value="Case 9"' in no_reason.text
    personal = client.post(
        "/admin/holds",
        headers=HTML,
        data={"csrf_token": token, "subject_id": subject_id, "reason": "Call +86 138 0013 8000 first"},
    )
    assert personal.status_code == 422 and "looks like it holds personal data" in personal.text
    unknown = client.post(
        "/admin/holds?lang=zh_CN",
        headers=HTML,
        data={"csrf_token": token, "subject_id": "nosuchsubject", "reason": "Litigation"},
    )
    assert unknown.status_code == 404 and "没有此 ID 的主体" in unknown.text and 'value="Litigation"' in unknown.text
    assert _holds(db) == []


def test_reading_roles_see_holds_but_cannot_place_or_release(
    client: TestClient, app: FastAPI, db: Session, officer
) -> None:
    from privet.requests.holds import service as holds

    hold = holds.place(db, subject_id=_subject(app, db), reason="Audit by the regulator", reference=None, actor="test")
    db.commit()
    token = officer("auditor")
    page = client.get("/admin/holds", headers=HTML).text
    assert "Audit by the regulator" in page and 'id="place-hold"' not in page and "/release" not in page
    assert (
        client.post(
            "/admin/holds", headers=HTML, data={"csrf_token": token, "subject_id": hold.subject_id, "reason": "x"}
        ).status_code
        == 403
    )
    assert client.post(f"/admin/holds/{hold.id}/release", headers=HTML, data={"csrf_token": token}).status_code == 403
    assert len(_holds(db)) == 1 and _holds(db)[0].released_at is None


def _filed(app: FastAPI, db: Session, region: str | None = None):
    from privet.requests.intake import service as intake

    found = intake.file_request(
        db,
        app.state.keyring,
        app.state.settings,
        request_type="access",
        identity_type="email",
        identity=Faker().unique.email(domain="example.com"),
        filed_by="test",
        channel="api",
        region=region,
    )
    db.commit()
    return found


def test_request_decisions_refused_with_what_to_fix_and_the_input_kept(
    client: TestClient, app: FastAPI, db: Session, officer
) -> None:
    from privet.requests import service

    app.state.settings.requests_manual_approval = ["access"]
    filed = _filed(app, db, region="CN")  # PIPL: no extension
    token = officer("privacy_officer")
    path = f"/admin/requests/{filed.reference}"
    approve = client.post(f"{path}/approve", headers=HTML, data={"csrf_token": token})
    assert approve.status_code == 409 and "it cannot be approved" in approve.text  # not verified yet
    no_method = client.post(
        f"{path}/identity-check", headers=HTML, data={"csrf_token": token, "method": "telepathy", "note": "Called back"}
    )
    assert no_method.status_code == 422 and 'value="Called back"' in no_method.text
    assert (
        client.post(
            f"{path}/identity-check",
            headers=HTML,
            follow_redirects=False,
            data={"csrf_token": token, "method": "call_back"},
        ).status_code
        == 303
    )
    page = client.get(path, headers=HTML).text
    assert 'id="extend-limit"' in page and "PIPL allows no extension" in page
    extend = client.post(f"{path}/extend", headers=HTML, data={"csrf_token": token, "reason": "Archives offline"})
    assert extend.status_code == 422 and "allow no extension of the deadline" in extend.text
    zh = client.post(f"{path}/extend?lang=zh_CN", headers=HTML, data={"csrf_token": token, "reason": "Archives"})
    assert "不允许延长期限" in zh.text
    no_code = client.post(f"{path}/refuse?lang=en", headers=HTML, data={"csrf_token": token, "note": "Supplier terms"})
    assert no_code.status_code == 422 and "Choose a reason code" in no_code.text and ">Supplier terms<" in no_code.text
    db.expire_all()
    found = service.by_reference(db, filed.reference)
    assert found.extended_to is None and found.status == "pending_approval" and found.refusal_code is None
    codes = client.get(path, headers=HTML).text
    assert "trade_secret — The request concerns trade secrets." in codes  # each code with its meaning in words


def _user(db: Session, username: str):
    from privet.auth.models import User

    db.expire_all()
    return db.scalar(select(User).where(User.username == username))


def test_users_and_keys_forms_refused_with_the_input_kept(client: TestClient, db: Session, officer) -> None:
    from privet.auth.models import ApiKey

    token = officer("admin")
    bad = client.post(
        "/admin/users", headers=HTML, data={"csrf_token": token, "username": "Ann@Example.com", "role": "auditor"}
    )
    assert bad.status_code == 422 and "That is not a valid username" in bad.text
    assert 'value="Ann@Example.com"' in bad.text and '<option value="auditor" selected>' in bad.text
    assert _user(db, "ann@example.com") is None
    no_scope = client.post(
        "/admin/users/keys/new", headers=HTML, data={"csrf_token": token, "name": "billing-service", "days": "30"}
    )
    assert no_scope.status_code == 422 and "An API key needs at least one scope" in no_scope.text
    assert 'value="billing-service"' in no_scope.text and 'value="30"' in no_scope.text
    bad_days = client.post(
        "/admin/users/keys/new",
        headers=HTML,
        data={"csrf_token": token, "name": "billing-service", "scopes": ["decide", "consent:read"], "days": "soon"},
    )
    assert bad_days.status_code == 422 and "whole number of days" in bad_days.text
    assert 'value="decide" checked' in bad_days.text and 'value="consent:read" checked' in bad_days.text
    assert db.scalar(select(func.count()).select_from(ApiKey)) == 0
    made = client.post(
        "/admin/users/keys/new",
        headers=HTML,
        data={"csrf_token": token, "name": "billing-service", "scopes": ["decide"], "days": "30"},
    )
    assert made.status_code == 200 and 'id="api-key-secret"' in made.text
    key = db.scalar(select(ApiKey))
    assert key.scopes == ["decide"] and key.expires_at is not None
    from privet.auth.scopes import SCOPES
    from privet.web.i18n import gettext

    scopes_zh = client.get("/admin/users?lang=zh_CN", headers=HTML).text  # each scope described in words
    assert all(gettext("zh_CN", words) in scopes_zh and gettext("zh_CN", words) != words for words in SCOPES.values())


def test_an_admin_resets_a_password_and_the_last_admin_stays(client: TestClient, db: Session, officer) -> None:
    from privet.auth import service as auth

    user, _ = auth.create_user(db, "agent-anna", "agent", password="Correct-horse-battery-9", actor="test")
    db.commit()
    token = officer("admin")
    reset = client.post(f"/admin/users/{user.id}/password", headers=HTML, data={"csrf_token": token})
    assert reset.status_code == 200 and 'id="one-time-password"' in reset.text
    assert _user(db, "agent-anna").must_change_password
    me = _user(db, "admin-1") or next(u for u in auth.list_users(db) if u.role == "admin")
    last = client.post(f"/admin/users/{me.id}", headers=HTML, data={"csrf_token": token, "active": "no"})
    assert last.status_code == 409 and "This is the last active admin" in last.text
    assert _user(db, me.username).active


def test_only_admins_manage_users(client: TestClient, db: Session, officer) -> None:
    token = officer("privacy_officer")
    assert client.get("/admin/users", headers=HTML).status_code == 403
    assert (
        client.post(
            "/admin/users", headers=HTML, data={"csrf_token": token, "username": "newbie", "role": "admin"}
        ).status_code
        == 403
    )
    assert _user(db, "newbie") is None


def test_incident_notice_and_close_refused_with_what_to_fix(
    client: TestClient, db: Session, tmp_path: Path, officer
) -> None:
    from datetime import timedelta

    from privet.registers import incidents
    from tests.reports.datamap import apply_datamap

    apply_datamap(db, tmp_path / "dm")
    row = incidents.record_incident(
        db,
        actor="test",
        title="Mailbox exposed",
        severity="general",
        discovered_at=utcnow() - timedelta(hours=2),
        categories=["user.contact.email"],
        subjects_affected=10,
        facts={"what_happened": {"en": "A mailbox was open."}},
    )
    db.commit()
    token = officer("privacy_officer")
    path = f"/admin/incidents/{row.reference}"
    wrong = client.post(
        f"{path}/notified", headers=HTML, data={"csrf_token": token, "clock": "no_such_clock", "at": "2026-01-01T10:00"}
    )
    assert wrong.status_code == 422 and "no_such_clock" in wrong.text
    assert (
        client.post(f"{path}/close", headers=HTML, follow_redirects=False, data={"csrf_token": token}).status_code
        == 303
    )
    twice = client.post(f"{path}/close", headers=HTML, data={"csrf_token": token})
    assert twice.status_code == 409 and "already closed" in twice.text
    db.expire_all()
    assert incidents.get_incident(db, row.reference).notified == {}
