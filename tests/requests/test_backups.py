"""P22: an erasure records the day its erased data has left the backups; once that day has passed, the daily job
marks it and tells the privacy contact which backups must be gone, once. Also the listing (API, CLI) and the
migration carrying earlier erasures' dates into the new column."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from privet.audit.models import AuditEvent
from privet.kit.clock import frozen_at
from privet.kit.crypto import Keyring
from privet.requests.workflow import backups
from privet.settings import Settings
from tests.requests.shop import Shop

pytestmark = pytest.mark.promise("P22")
T0 = datetime(2026, 5, 4, 3, 0, tzinfo=UTC)  # Monday 4 May 2026, 11:00 in Beijing


def _erased(store: Session, file, verified, drain, customer, *, identity: str | None = None):
    with frozen_at(T0):
        request = file("erasure", customer, identity=identity)
        verified(request)
        drain()
    store.refresh(request)
    return request


def _reminders(smtp) -> list:
    return [(to, m) for to, m in smtp.messages if "Backups must no longer hold erased data" in m["Subject"]]


def test_the_backups_reminder_fires_once_when_the_date_has_passed(
    store: Session, conf: Settings, file, verified, drain, shop_db: Shop, smtp
) -> None:
    erased = _erased(store, file, verified, drain, shop_db.customers[0])
    nobody = _erased(store, file, verified, drain, None, identity="not-a-customer@shop.example")
    clear_by = date(2026, 5, 4) + timedelta(days=conf.backup_retention_days)
    assert erased.status == "completed" and erased.backups_clear_by == clear_by
    assert erased.result["backups_clear_by"] == clear_by.isoformat()
    assert backups.changed_datastores(store, erased) == ("shop_db",)
    assert backups.changed_datastores(store, nobody) == ()

    before = datetime.combine(clear_by - timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    with frozen_at(before):
        assert backups.remind(store, conf) == {"due": 0, "sent": 0}
        assert [b.state(backups.today(store)) for b in backups.erasures(store)] == ["upcoming", "upcoming"]
    assert _reminders(smtp) == []

    after = datetime.combine(clear_by, datetime.min.time(), tzinfo=UTC) + timedelta(hours=4)
    with frozen_at(after):
        assert [b.state(backups.today(store)) for b in backups.erasures(store)] == ["due", "due"]
        assert backups.remind(store, conf) == {"due": 2, "sent": 1}
        assert backups.remind(store, conf) == {"due": 0, "sent": 0}  # once
        assert backups.erasures(store) == []
        told = backups.erasures(store, include_told=True)
        assert [b.state(backups.today(store)) for b in told] == ["told", "told"]
    [(to, message)] = _reminders(smtp)
    body = message.get_content()
    assert to == ["privacy@shop.example"]
    assert f"{erased.reference} (erasure, completed 4 May 2026): backups of shop_db taken before 4 May 2026" in body
    assert f"{nobody.reference} (erasure, completed 4 May 2026): nothing was changed" in body
    events = {
        e.object_id: e.details
        for e in store.scalars(select(AuditEvent).where(AuditEvent.action == "request.backups_due"))
    }
    assert events[erased.id]["datastores"] == ["shop_db"] and events[erased.id]["told"] is True
    assert store.scalars(select(AuditEvent).where(AuditEvent.action == "request.backups_reminder")).one()


def test_a_reminder_that_cannot_be_sent_is_tried_again(
    store: Session, conf: Settings, file, verified, drain, shop_db: Shop, smtp
) -> None:
    from tests.subjects.test_verification_support import free_port

    erased = _erased(store, file, verified, drain, shop_db.customers[1])
    later = datetime.combine(erased.backups_clear_by, datetime.min.time(), tzinfo=UTC) + timedelta(hours=4)
    down = conf.model_copy(update={"smtp_port": free_port()})
    with frozen_at(later):
        assert backups.remind(store, down) == {"due": 1, "sent": 0}
        assert erased.backups_reminded_at is None
        assert backups.remind(store, conf) == {"due": 1, "sent": 1}
    assert erased.backups_reminded_at is not None and len(_reminders(smtp)) == 1


def test_the_daily_job_runs_the_reminder(
    store: Session, conf: Settings, file, verified, drain, shop_db: Shop, smtp
) -> None:
    from privet.jobs.registry import load_handlers, periodic_jobs
    from privet.jobs.service import enqueue

    load_handlers()
    assert {p.kind: p.every_seconds for p in periodic_jobs()}["requests.backups"] == 24 * 3600
    erased = _erased(store, file, verified, drain, shop_db.customers[2])
    later = datetime.combine(erased.backups_clear_by, datetime.min.time(), tzinfo=UTC) + timedelta(days=2)
    with frozen_at(later):
        enqueue(store, "requests.backups", {})
        drain()
        enqueue(store, "requests.backups", {})
        drain()
    store.refresh(erased)
    assert erased.backups_reminded_at is not None and len(_reminders(smtp)) == 1


def test_backups_by_api_and_cli(
    store: Session, conf: Settings, keyring: Keyring, engine, session_factory, file, verified, drain, shop_db: Shop
) -> None:
    from privet.app import create_app
    from privet.auth.keys import create_api_key

    erased = _erased(store, file, verified, drain, shop_db.customers[3])
    _key, token = create_api_key(store, "auditor", ["requests:read"], actor="test")
    store.commit()
    app = create_app(conf, engine=engine, check_migrations=False)
    app.state.test_sessionmaker = session_factory
    with TestClient(app) as client:
        app.state.sessionmaker = app.state.test_sessionmaker
        assert client.get("/api/v1/requests/backups").status_code == 401
        listed = client.get("/api/v1/requests/backups", headers={"Authorization": f"Bearer {token}"})
        assert listed.status_code == 200, listed.text
        [row] = [r for r in listed.json() if r["reference"] == erased.reference]
        assert row["datastores"] == ["shop_db"] and row["clear_by"] == erased.backups_clear_by.isoformat()
        assert row["state"] in ("upcoming", "due")


def test_backups_cli(cli_store: str, shop_db: Shop, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import re

    from privet.settings import get_settings
    from tests.conftest import PrivetCli
    from tests.requests.shop import write_datamap

    monkeypatch.setenv("PRIVET_SECRETS", json.dumps({"shop_db": shop_db.url}))
    monkeypatch.setenv("PRIVET_MAIL_SENDER", "console")
    monkeypatch.setenv("PRIVET_BACKUP_RETENTION_DAYS", "0")
    get_settings.cache_clear()
    cli = PrivetCli()
    assert cli("db", "upgrade").exit_code == 0
    assert cli("datamap", "apply", str(write_datamap(tmp_path / "datamap", shop_db.kind))).exit_code == 0
    assert "(0)" in cli("requests", "backups").output
    filed = cli(
        "requests", "file", "--type", "erasure", "--identity", shop_db.customers[0].email, "--checked", "in_person"
    )
    reference = re.search(r"R-[0-9A-Z]{8}", filed.output).group(0)
    assert cli("requests", "run", reference, "--now").exit_code == 0
    listed = cli("requests", "backups", "--json")
    assert listed.exit_code == 0, listed.output
    [row] = json.loads(listed.output)
    assert row["reference"] == reference and row["state"] == "due" and row["datastores"] == ["shop_db"]


def test_migration_0011_carries_earlier_backup_dates(tmp_path: Path) -> None:
    from alembic import command

    from privet.db import migrate
    from privet.db.engine import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'privet.db'}")
    try:
        migrate.upgrade(engine, "0010")
        with engine.begin() as conn:
            for i, (kind, status, result) in enumerate(
                [
                    ("erasure", "completed", {"backups_clear_by": "2026-06-08"}),
                    ("closure", "completed_with_exceptions", {"backups_clear_by": "2026-06-09"}),
                    ("access", "completed", {"backups_clear_by": "2026-06-10"}),
                    ("erasure", "running", {}),
                ]
            ):
                conn.execute(
                    sa.text(
                        "INSERT INTO dsr_requests (id, reference, type, status, identity_type, identity_blind_index, "
                        "identity_enc, channel, filed_by, language, profile, details, received_at, result, created_at, "
                        "updated_at) VALUES (:id, :ref, :type, :status, 'email', 'x', x'00', 'api', 'test', 'en', "
                        "'pipl', '{}', '2026-05-01 00:00:00', :result, '2026-05-01 00:00:00', "
                        "'2026-05-01 00:00:00')"
                    ),
                    {
                        "id": f"r{i}",
                        "ref": f"R-AAAAAAA{i}",
                        "type": kind,
                        "status": status,
                        "result": json.dumps(result),
                    },
                )
        migrate.upgrade(engine)
        with engine.connect() as conn:
            found = dict(conn.execute(sa.text("SELECT id, backups_clear_by FROM dsr_requests ORDER BY id")).all())
        assert found == {"r0": "2026-06-08", "r1": "2026-06-09", "r2": None, "r3": None}
        command.downgrade(migrate.alembic_config(engine), "0010")
        with engine.connect() as conn:
            columns = {c["name"] for c in sa.inspect(conn).get_columns("dsr_requests")}
        assert "backups_clear_by" not in columns and "profile_source" not in columns
    finally:
        engine.dispose()


def test_backups_in_the_console(
    store: Session, conf: Settings, engine, session_factory, file, verified, drain, shop_db: Shop, smtp
) -> None:
    from fastapi.testclient import TestClient

    from privet.app import create_app
    from privet.auth import service as auth
    from privet.requests.workflow.backups import remind
    from tests.web.admin.conftest import HTML, PASSWORD, form_token

    customer = shop_db.customers[3]
    request = _erased(store, file, verified, drain, customer)
    auth.create_user(store, "backup-auditor", "auditor", password=PASSWORD, actor="test")
    store.commit()
    app = create_app(conf, engine=engine, check_migrations=False)
    app.state.test_sessionmaker = session_factory
    with TestClient(app) as client:
        app.state.sessionmaker = app.state.test_sessionmaker
        assert client.get("/admin/requests/backups", headers=HTML, follow_redirects=False).status_code in (303, 401)
        logged_in = client.post(
            "/admin/login",
            headers=HTML,
            follow_redirects=False,
            data={
                "username": "backup-auditor",
                "password": PASSWORD,
                "csrf_token": form_token(client),
                "next": "/admin",
            },
        )
        assert logged_in.status_code == 303
        page = client.get("/admin/requests/backups", headers=HTML).text
        assert request.reference in page and "Past its date, not told yet" in page and "shop_db" in page
        assert customer.email not in page
        remind(store, conf, on=request.backups_clear_by)
        store.commit()
        assert request.reference not in client.get("/admin/requests/backups", headers=HTML).text
        told = client.get("/admin/requests/backups?all=1", headers=HTML).text
        assert request.reference in told and "Told" in told


def test_an_erasure_on_mariadb_names_its_backups(store: Session, conf: Settings, file, verified, drain, smtp) -> None:
    """The backup date and the datastores whose backups hold erased data, for a shop kept on MariaDB."""
    from privet.jobs import dispatch
    from tests.requests.shop import ADDRESSES, build_shop
    from tests.support.services import create_mysql_database

    url, drop = create_mysql_database()
    try:
        shop = build_shop(url)
        on_maria = conf.model_copy(update={"secrets": {**conf.secrets, "shop_db": url}})
        store.info[dispatch.SETTINGS_KEY] = on_maria
        customer = shop.customers[1]
        with frozen_at(T0):
            request = file("erasure", customer)
            verified(request)
            drain(on_maria)
        store.refresh(request)
        assert request.status in ("completed", "completed_with_exceptions"), request.result
        assert shop.count(ADDRESSES, customer_id=customer.id) == 0
        assert request.backups_clear_by == date(2026, 5, 4) + timedelta(days=conf.backup_retention_days)
        assert backups.changed_datastores(store, request) == ("shop_db",)
        assert backups.remind(store, on_maria, on=request.backups_clear_by) == {"due": 1, "sent": 1}
    finally:
        drop()
