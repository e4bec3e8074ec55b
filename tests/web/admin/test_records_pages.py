"""Admin pages for the registers, incidents, records of processing, impact assessments and retention: each renders
for a privacy officer with seeded data, 403 for a role without `registers:read`, CSRF-checked forms that change
nothing when refused, the impact assessment's conclude form refusing an unanswered questionnaire, Chinese pages."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from faker import Faker
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from privet.kit.clock import utcnow
from privet.registers.incidents_models import Incident
from tests.reports.datamap import apply_datamap
from tests.web.admin.conftest import HTML

PAGES = ("/admin/registers", "/admin/crossborder", "/admin/incidents", "/admin/records", "/admin/retention")


def _incident(db: Session, **kw) -> Incident:
    from privet.registers import incidents

    args = {
        "actor": "test",
        "title": "Support mailbox readable from the internet",
        "severity": "relatively_major",
        "discovered_at": utcnow() - timedelta(hours=5),
        "categories": ["user.contact.email"],
        "subjects_affected": 1200,
        "regimes": ["prc"],
        "high_risk": True,
        "facts": {
            "what_happened": {
                "en": "A support mailbox was readable from the internet.",
                "zh_CN": "一个客服邮箱可从互联网访问。",
            }
        },
        **kw,
    }
    return incidents.record_incident(db, **args)


@pytest.fixture
def seeded(db: Session, tmp_path: Path) -> dict:
    """The reports data map (it names processor mail_vendor, unregistered: an alert), a registered processor whose
    agreement expired, an incident discovered 5 hours ago (its 4 h clock overdue), impact assessment drafts and a
    cross-border transfer."""
    from privet.registers import crossborder, processors
    from privet.reports import pia

    apply_datamap(db, tmp_path / "dm")
    processors.add_processor(
        db,
        key="cloud_host",
        name="Cloud Host Ltd",
        actor="test",
        agreement_ref="DPA-7",
        signed_on=date(2020, 1, 1),
        expires_on=date(2021, 1, 1),
        regions=["CN"],
    )
    incident = _incident(db)
    drafts = pia.sync_drafts(db, actor="test")
    transfer = crossborder.record_transfer(
        db,
        actor="test",
        destination="DE",
        mechanism="standard_contract",
        recipient="eu_desk_gmbh",
        categories=["user.contact.email"],
        subject_count=40,
        origin="CN",
    )
    db.commit()
    return {
        "incident": incident.reference,
        "drafts": {d.activity_key: d.reference for d in drafts},
        "transfer": transfer.transfer.reference,
    }


def test_every_page_renders_for_a_privacy_officer_with_the_seeded_data(
    client: TestClient, officer, seeded: dict
) -> None:
    officer("privacy_officer")
    shown = {}
    for path in PAGES:
        answer = client.get(path, headers=HTML)
        assert answer.status_code == 200, (path, answer.text[-2000:])
        assert '<nav class="main"' in answer.text and "content-security-policy" in answer.headers
        shown[path] = answer.text
    registers = shown["/admin/registers"]
    assert 'id="processor-alerts"' in registers and "mail_vendor" in registers and "Not registered" in registers
    assert "cloud_host" in registers and "Agreement expired" in registers
    incidents = shown["/admin/incidents"]
    assert seeded["incident"] in incidents and "4 h" in incidents and "Overdue" in incidents
    assert "1 h 0 min late" in incidents or "0 h 59 min late" in incidents  # discovered 5 h ago
    assert 'id="record-title"' in incidents
    records = shown["/admin/records"]
    assert "Face login" in records and seeded["drafts"]["face_login"] in records and "Draft" in records
    assert 'href="/admin/records/records-of-processing.csv?lang=en"' in records
    cross = shown["/admin/crossborder"]
    assert seeded["transfer"] in cross and 'id="year-counts"' in cross and "Standard contract" in cross
    nav = shown["/admin/registers"]
    for href in ("/admin/registers", "/admin/incidents", "/admin/records", "/admin/retention"):
        assert f'href="{href}"' in nav


@pytest.mark.parametrize("path", [*PAGES, "/admin/records/records-of-processing.csv"])
def test_an_agent_without_registers_read_gets_the_403_page(client: TestClient, officer, path: str) -> None:
    officer("agent")
    answer = client.get(path, headers=HTML)
    assert answer.status_code == 403 and "Your role cannot open this page" in answer.text
    assert 'href="/admin/registers"' not in client.get("/admin", headers=HTML).text


def test_an_auditor_reads_but_sees_no_forms_and_cannot_post(
    client: TestClient, officer, seeded: dict, db: Session
) -> None:
    token = officer("auditor")
    page = client.get(f"/admin/incidents/{seeded['incident']}", headers=HTML)
    assert page.status_code == 200 and "Record notice sent" not in page.text
    assert 'id="record-title"' not in client.get("/admin/incidents", headers=HTML).text
    refused = client.post(
        f"/admin/incidents/{seeded['incident']}/notified",
        headers=HTML,
        data={"csrf_token": token, "clock": "prc_regulator"},
    )
    assert refused.status_code == 403
    db.expire_all()
    assert db.scalar(select(Incident).where(Incident.reference == seeded["incident"])).notified == {}


@pytest.mark.promise("P26")
def test_incident_page_drafts_and_the_notified_form(client: TestClient, officer, seeded: dict, db: Session) -> None:
    token = officer("privacy_officer")
    ref = seeded["incident"]
    page = client.get(f"/admin/incidents/{ref}", headers=HTML)
    assert page.status_code == 200 and 'id="incident-clocks"' in page.text
    for draft in ("people-en", "people-zh_CN", "regulator-en", "regulator-zh_CN"):
        assert f'id="draft-{draft}"' in page.text
    assert "一个客服邮箱可从互联网访问。" in page.text
    unsafe = client.post(f"/admin/incidents/{ref}/notified", headers=HTML, data={"clock": "prc_regulator"})
    assert unsafe.status_code == 403 and "out of date" in unsafe.text
    db.expire_all()
    assert db.scalar(select(Incident).where(Incident.reference == ref)).notified == {}
    done = client.post(
        f"/admin/incidents/{ref}/notified",
        headers=HTML,
        follow_redirects=False,
        data={"csrf_token": token, "clock": "prc_regulator"},
    )
    assert done.status_code == 303 and done.headers["location"] == f"/admin/incidents/{ref}?done=notified"
    db.expire_all()
    assert "prc_regulator" in db.scalar(select(Incident).where(Incident.reference == ref)).notified
    after = client.get(done.headers["location"], headers=HTML).text
    assert "The notice was recorded as sent." in after


@pytest.mark.promise("P26")
def test_record_an_incident_from_the_form(client: TestClient, officer, db: Session) -> None:
    token = officer("privacy_officer")
    before = db.scalar(select(func.count()).select_from(Incident))
    form = {
        "csrf_token": token,
        "title": "Lost laptop with an export",
        "severity": "major",
        "discovered_at": (utcnow() + timedelta(hours=8)).strftime("%Y-%m-%dT%H:%M"),
        "offset": "+08:00",
        "subjects": "300",
        "categories": ["user.contact.email", "user.name"],
        "regimes": ["prc", "gdpr"],
        "what_happened_en": "An unencrypted laptop holding a customer export was lost.",
    }
    bad = client.post(
        "/admin/incidents",
        headers=HTML,
        data={**form, "what_happened_en": f"Reported by {Faker().unique.email(domain='example.com')}"},
    )
    assert bad.status_code == 422 and "no personal data" in bad.text and "Lost laptop with an export" in bad.text
    assert (
        client.post(
            "/admin/incidents", headers=HTML, data={k: v for k, v in form.items() if k != "csrf_token"}
        ).status_code
        == 403
    )
    assert db.scalar(select(func.count()).select_from(Incident)) == before
    made = client.post("/admin/incidents", headers=HTML, data=form, follow_redirects=False)
    assert made.status_code == 303, made.text[-2000:]
    shown = client.get(made.headers["location"], headers=HTML).text
    assert "GDPR supervisory authority" in shown and "72 h" in shown and "4 h" in shown
    assert db.scalar(select(func.count()).select_from(Incident)) == before + 1


def test_pia_conclude_refuses_an_unanswered_questionnaire_then_concludes(
    client: TestClient, officer, seeded: dict, db: Session
) -> None:
    from privet.reports import pia

    token = officer("privacy_officer")
    ref = seeded["drafts"]["face_login"]
    page = client.get(f"/admin/records/pia/{ref}", headers=HTML)
    assert page.status_code == 200 and 'id="conclude-title"' in page.text
    assert 'name="answer_sensitive_data"' in page.text
    refused = client.post(
        f"/admin/records/pia/{ref}/conclude",
        headers=HTML,
        data={"csrf_token": token, "outcome": "acceptable", "conclusion": "Fine.", "retain_years": "3"},
    )
    assert refused.status_code == 422 and "answer every question first" in refused.text
    assert 'id="q-lawful_purpose-missing"' in refused.text
    db.expire_all()
    assert pia.get_assessment(db, ref).status == "draft"
    answers = {f"answer_{k}": f"Answer about {k}." for k, _q in pia.questions_for(["sensitive_data"])}
    saved = client.post(
        f"/admin/records/pia/{ref}/answers", headers=HTML, follow_redirects=False, data={"csrf_token": token, **answers}
    )
    assert saved.status_code == 303
    concluded = client.post(
        f"/admin/records/pia/{ref}/conclude",
        headers=HTML,
        follow_redirects=False,
        data={
            "csrf_token": token,
            "outcome": "acceptable_with_measures",
            "conclusion": "Liveness check added.",
            "retain_years": "3",
        },
    )
    assert concluded.status_code == 303
    db.expire_all()
    row = pia.get_assessment(db, ref)
    assert row.status == "concluded" and row.retain_until is not None
    shown = client.get(f"/admin/records/pia/{ref}", headers=HTML).text
    assert "Acceptable with measures" in shown and 'id="conclude-title"' not in shown


def test_records_download_as_csv(client: TestClient, officer, seeded: dict) -> None:
    officer("auditor")
    answer = client.get("/admin/records/records-of-processing.csv", headers=HTML)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    assert "attachment" in answer.headers["content-disposition"]
    assert answer.text.splitlines()[0].startswith("activity,name,") and "face_login" in answer.text


RETENTION_MAP = """\
organisation: {key: co, name: Test Co, profile: pipl, region: CN, responsible: {name: Privacy Office}}
systems: [{key: app, name: App}]
datastores: [{key: app_db, system: app, kind: sqlite, region: CN, secret: app_db}]
datasets:
  - key: app
    datastore: app_db
    tables:
      - name: login_events
        primary_key: [id]
        retention: {trigger: collection, column: at, duration: P90D, action: delete}
        fields:
          - {name: id}
          - {name: ip, category: user.device.ip_address}
          - {name: at}
"""


def test_retention_shows_the_plan_and_runs(
    client: TestClient, app: FastAPI, officer, db: Session, tmp_path: Path
) -> None:
    from privet.datamap.service import validate_and_apply
    from privet.retention import service as retention_service
    from privet.retention.models import RetentionRun

    url = f"sqlite:///{tmp_path / 'company.sqlite'}"
    engine = sa.create_engine(url)
    meta = sa.MetaData()
    logins = sa.Table(
        "login_events",
        meta,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("ip", sa.String(45)),
        sa.Column("at", sa.DateTime),
    )
    meta.create_all(engine)
    fake, now = Faker(), utcnow().replace(tzinfo=None)
    with engine.begin() as conn:
        for i, age in enumerate((10, 100, 200)):
            conn.execute(logins.insert().values(id=i + 1, ip=fake.ipv4(), at=now - timedelta(days=age)))
    engine.dispose()
    path = tmp_path / "dm" / "app.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(RETENTION_MAP, encoding="utf-8")
    validate_and_apply(db, path, actor="test")
    db.add(
        RetentionRun(
            status="done",
            now=utcnow(),
            actor="tester",
            progress={
                "app_db.login_events": {"deleted": 7, "updated": 0, "kept_referenced": 0, "kept_held": 0, "done": True}
            },
        )
    )
    db.commit()
    officer("privacy_officer")
    app.state.settings = app.state.settings.model_copy(update={"secrets": {"app_db": url}})
    answer = client.get("/admin/retention", headers=HTML)
    assert answer.status_code == 200, answer.text[-2000:]
    assert 'id="retention-plan"' in answer.text and "app_db.login_events" in answer.text
    assert 'id="plan-problem"' not in answer.text and "Not counted yet" in answer.text
    assert 'id="retention-runs"' in answer.text and "7 deleted" in answer.text

    def dry_run() -> str:  # what the console's "Dry run" does: record the run, then the job counts it
        started = retention_service.start(db, actor="tester", dry_run=True)
        db.commit()
        retention_service.run(
            app.state.test_sessionmaker, app.state.settings, app.state.keyring, actor="tester", run_id=started.id
        )
        return client.get("/admin/retention", headers=HTML).text

    row = dry_run().split("app_db.login_events</code>", 1)[1].split("</tr>", 1)[0]
    assert "<td>2</td>" in row  # two of three rows are older than 90 days: expired and would be swept
    app.state.settings = app.state.settings.model_copy(update={"secrets": {}})
    unreachable = dry_run()
    assert 'id="plan-problem"' in unreachable  # the latest dry run could not reach the datastore, and says so
    assert "app_db.login_events" in unreachable  # the rule is still shown, without counts


def test_pages_render_in_chinese(client: TestClient, officer, seeded: dict) -> None:
    officer("privacy_officer")
    incidents = client.get("/admin/incidents?lang=zh_CN", headers=HTML)
    assert incidents.status_code == 200 and "通知时限" in incidents.text and "已逾期" in incidents.text
    assert seeded["incident"] in incidents.text
    pia_page = client.get(f"/admin/records/pia/{seeded['drafts']['face_login']}?lang=zh_CN", headers=HTML)
    assert pia_page.status_code == 200 and "影响评估" in pia_page.text
    assert "处理目的、处理方式等是否合法、正当、必要？" in pia_page.text  # the questionnaire, translated
