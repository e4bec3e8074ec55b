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
from privet.retention import service as retention, sweep
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
    return Settings(data_dir=tmp_path / "var", secret_key="test-secret-key-0123456789abcdef", mail_sender="smtp",
                    sms_sender="console", secrets={"app_db": url})


@pytest.fixture
def mapped(db: Session, tmp_path: Path) -> Session:
    from privet.datamap.service import validate_and_apply

    path = tmp_path / "datamap" / "app.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(DATAMAP.format(kind="sqlite"), encoding="utf-8")
    validate_and_apply(db, path, actor="test")
    db.commit()
    return db


def _rows(settings: Settings, table) -> int:  # noqa: ANN001
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


def test_a_dry_run_is_followed_table_by_table_and_changes_nothing(client: TestClient, app: FastAPI, mapped: Session,
                                                                  settings: Settings, officer) -> None:  # noqa: ANN001
    token = officer("privacy_officer")
    plan = {e["rule"]: e for e in retention.plan(mapped, settings, app.state.keyring)}
    before = _rows(settings, LOGINS)
    assert 'id="start-run"' in client.get("/admin/retention", headers=HTML).text
    started = client.post("/admin/retention/runs", headers=HTML, follow_redirects=False,
                          data={"csrf_token": token, "kind": "dry"})
    assert started.status_code == 303
    path = RUN.search(started.headers["location"]).group(0)
    waiting = client.get(path, headers=HTML).text
    assert "Dry run in progress" in waiting and 'http-equiv="refresh"' in waiting and "0 / 5" in waiting
    assert _work(app, mapped) == 1
    done = client.get(path, headers=HTML).text
    assert "Dry run done" in done and 'http-equiv="refresh"' not in done and "5 / 5" in done
    row = mapped.get(RetentionRun, path.rsplit("/", 1)[1], populate_existing=True)
    assert row.status == "dry_done" and row.progress["app_db.login_events"]["would_sweep"] == \
        plan["app_db.login_events"]["would_sweep"] > 0
    assert all(v["deleted"] == 0 and v["updated"] == 0 for v in row.progress.values())
    assert _rows(settings, LOGINS) == before  # nothing swept
    assert retention.unfinished(mapped) is None  # a dry run is never resumed as a sweep
    started_event = mapped.scalars(select(AuditEvent).where(AuditEvent.action == "retention.run_started")).one()
    assert started_event.details["dry_run"] is True and started_event.actor.startswith("user:privacy-officer")
    chinese = client.get(f"{path}?lang=zh_CN", headers=HTML).text
    assert "试运行已完成" in chinese and "Dry run done" not in chinese


def test_a_sweep_needs_its_confirmation_and_nothing_starts_without_it(client: TestClient, app: FastAPI,
                                                                      mapped: Session, officer) -> None:  # noqa: ANN001
    token = officer("privacy_officer")
    answer = client.post("/admin/retention/runs", headers=HTML, data={"csrf_token": token, "kind": "sweep"})
    assert answer.status_code == 422 and "Tick the box to confirm the sweep" in answer.text
    assert re.search(r'id="kind-sweep" name="kind" value="sweep" checked', answer.text)  # the choice is kept
    bad = client.post("/admin/retention/runs", headers=HTML, data={"csrf_token": token, "kind": "everything"})
    assert bad.status_code == 422 and "Choose a dry run or a sweep." in bad.text
    zh = client.post("/admin/retention/runs?lang=zh_CN", headers=HTML, data={"csrf_token": token, "kind": "sweep"})
    assert zh.status_code == 422 and "请勾选" in zh.text
    assert _runs(mapped) == 0 and mapped.scalar(select(func.count()).select_from(Job)) == 0


def test_a_killed_sweep_is_taken_up_again_then_a_failed_one_resumed(  # noqa: ANN001
        client: TestClient, app: FastAPI, mapped: Session, settings: Settings, officer,
        monkeypatch: pytest.MonkeyPatch) -> None:
    token = officer("privacy_officer")
    expected = {e["rule"]: e["would_sweep"] for e in retention.plan(mapped, settings, app.state.keyring)}
    before = _rows(settings, LOGINS)
    real = sweep.batches

    def killed(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202 - the worker process dies after one batch
        for step in real(*args, **kwargs):
            yield step
            raise SystemExit("killed")

    monkeypatch.setattr(sweep, "batches", killed)
    started = client.post("/admin/retention/runs", headers=HTML, follow_redirects=False,
                          data={"csrf_token": token, "kind": "sweep", "confirm": "yes"})
    path = RUN.search(started.headers["location"]).group(0)
    run_id = path.rsplit("/", 1)[1]
    mapped.commit()
    with pytest.raises(SystemExit):
        run_until_idle(app.state.test_sessionmaker, settings, app.state.keyring)
    assert "A worker is on this run" in client.get(path, headers=HTML).text  # its job still holds a lease
    # the lease runs out (the worker is dead): the job is claimed again and the run carries on where it stopped
    mapped.execute(update(Job).values(lease_until=utcnow().replace(year=2000)))

    def failing(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202 - then the datastore fails on the invoices
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
    actions = list(mapped.scalars(select(AuditEvent.action).where(AuditEvent.object_id == run_id)
                                  .order_by(AuditEvent.seq)))
    assert actions == ["retention.run_started", "retention.run_failed", "retention.run_resumed",
                       "retention.run_finished"]
    again = client.post(f"{path}/resume", headers=HTML, data={"csrf_token": token})
    assert again.status_code == 409 and "Only the newest unfinished retention run can be resumed" in again.text


def test_a_second_sweep_waits_for_the_unfinished_one(client: TestClient, mapped: Session,
                                                     officer) -> None:  # noqa: ANN001
    token = officer("privacy_officer")
    first = client.post("/admin/retention/runs", headers=HTML, follow_redirects=False,
                        data={"csrf_token": token, "kind": "sweep", "confirm": "yes"})
    assert first.status_code == 303
    second = client.post("/admin/retention/runs", headers=HTML,
                         data={"csrf_token": token, "kind": "sweep", "confirm": "yes"})
    assert second.status_code == 409 and "A retention run is already in progress" in second.text
    assert 'id="run-unfinished"' in second.text and _runs(mapped) == 1


def test_reading_roles_see_runs_but_cannot_start_or_resume_them(client: TestClient, mapped: Session,
                                                                officer) -> None:  # noqa: ANN001
    row = retention.start(mapped, actor="test", dry_run=False)
    row.status = "failed"
    mapped.commit()
    token = officer("auditor")
    listed = client.get("/admin/retention", headers=HTML).text
    assert 'id="start-run"' not in listed and f"/admin/retention/runs/{row.id}" in listed
    shown = client.get(f"/admin/retention/runs/{row.id}", headers=HTML).text
    assert 'id="resume-run"' not in shown
    assert client.post("/admin/retention/runs", headers=HTML, data={"csrf_token": token, "kind": "dry"}
                       ).status_code == 403
    assert client.post(f"/admin/retention/runs/{row.id}/resume", headers=HTML,
                       data={"csrf_token": token}).status_code == 403
    mapped.expire_all()
    assert _runs(mapped) == 1 and mapped.get(RetentionRun, row.id).status == "failed"
