"""The evidence report (P1-P45): built from the store on a bare store and on both demo companies, through
`privet report evidence` and the API (scoped); the console page is tested in tests/web/admin/test_evidence_page.py."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from privet.auth.keys import create_api_key
from privet.reports import evidence
from privet.reports.promises import promise_ids
from privet.settings import Settings

IDS = [f"P{n}" for n in range(1, 46)]


def test_the_catalogue_lists_p1_to_p45_with_known_checks_and_sources() -> None:
    from privet.reports.evidence_checks import CHECKS, NOW
    from privet.reports.promises import catalogue

    assert promise_ids() == IDS
    for p in catalogue():
        assert p["configured"] and all(name in CHECKS for name in p["configured"]), p["id"]
        assert p["title"]["en"] and p["title"]["zh_CN"] and p["mechanism"]["en"] and p["mechanism"]["zh_CN"]
        for spec in p["evidence"]:
            kind, arg = evidence.parse_source(spec)
            assert kind != "now" or arg in NOW, spec


def test_every_audit_action_the_catalogue_names_is_written_somewhere() -> None:
    """Evidence read from audit actions nothing records would always say "never": each action (or prefix) the
    catalogue names is one the code writes."""
    import re

    from privet.reports.promises import catalogue
    from privet.settings import REPO_ROOT

    source = "\n".join(
        p.read_text(encoding="utf-8") for p in (REPO_ROOT / "src" / "privet").rglob("*.py") if "reports" not in p.parts
    )
    # calls may be split over lines (ruff format): whitespace between arguments is any whitespace
    written = set(re.findall(r'action=f?"([a-z_.{}]+)"', source)) | set(re.findall(r'action = "([a-z_.]+)"', source))
    written |= {f"request.{w}" for w in re.findall(r'service\.audit\(\s*[^,]+,\s*[^,]+,\s*f?"([a-z_{}]+)"', source)}
    written |= set(re.findall(r'_audit\(\s*session,\s*"([a-z_.]+)"', source))
    unknown = []
    for p in catalogue():
        for spec in p["evidence"]:
            kind, arg = evidence.parse_source(spec)
            if kind != "audit":
                continue
            prefix = arg[:-1] if arg.endswith("*") else None
            if not any(w == arg or (prefix is not None and w.startswith(prefix)) for w in written):
                unknown.append(f"{p['id']}: {arg}")
    assert not unknown, unknown


@pytest.mark.promise("P24")
def test_a_bare_store_names_what_is_missing_and_invents_no_runs(db: Session, settings: Settings) -> None:
    report = evidence.build(db, settings)
    assert [p["id"] for p in report["promises"]] == IDS
    assert report["organisation"] is None and report["datamap_version"] is None
    by_id = {p["id"]: p for p in report["promises"]}
    assert not by_id["P1"]["configured"] and by_id["P1"]["missing"] == [
        "no data map is applied (privet datamap apply PATH)"
    ]
    assert not by_id["P31"]["configured"] and "no product notice is published" in by_id["P31"]["missing"][0]
    for p in report["promises"]:  # nothing ran on a bare store: every evidence says never, except checks run now
        assert p["last_exercised"] is None, p["id"]
        assert all(e["at"] is None for e in p["evidence"] if e["kind"] != "now"), p["id"]
    text = evidence.to_text(report)
    assert "0 exercised" in text and "never" in text


def test_evidence_follows_the_store(db: Session, settings: Settings) -> None:
    """A run recorded in the store becomes the promise's latest evidence, with its time and count."""
    from privet.audit.service import record

    record(db, actor="test", action="incident.recorded", object_type="incident", object_id="I-1", details={})
    db.flush()
    p26 = next(p for p in evidence.build(db, settings)["promises"] if p["id"] == "P26")
    assert p26["last_exercised"] is not None
    assert p26["evidence"][0]["count"] == 1 and p26["evidence"][0]["detail"] == "incident.recorded by test"


# ---- the demo companies ------------------------------------------------------------------------------------------
def _deployment(data_dir: Path) -> Settings:
    """What a company running Privet sets besides its data map: senders for the one-time codes (as `make run`) and
    the fee past the free requests (K4)."""
    return Settings(
        data_dir=data_dir,
        secret_key="test-secret-key-0123456789abcdef",
        mail_sender="console",
        sms_sender="console",
        requests_fee="20 CNY",
    )


@pytest.fixture(scope="module", params=["keptek", "zkteco"])
def demo(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple]:
    """A fresh SQLite store with a demo company loaded (its own, committed: not the rolled-back shared one)."""
    from privet.auth import service as auth
    from privet.db.store import store_session
    from privet.demo.service import load_demo
    from tests.demo.test_service import migrated

    folder = tmp_path_factory.mktemp(f"demo-{request.param}")
    settings = _deployment(folder / "var")
    engine = migrated(f"sqlite:///{folder / 'privet.db'}")
    load_demo(settings, engine, request.param, customers=40)
    with store_session(settings, engine=engine) as session:  # the first admin, as `privet init --demo` creates
        auth.create_user(session, "admin", "admin", password="Correct-horse-battery-9", actor="test")
    yield request.param, settings, engine
    engine.dispose()


@pytest.mark.promise("P31")
def test_both_demos_configure_every_promise(demo: tuple) -> None:
    company, settings, engine = demo
    with Session(engine) as session:
        report = evidence.build(session, settings)
    missing = {p["id"]: p["missing"] for p in report["promises"] if not p["configured"]}
    assert report["totals"]["promises"] == 45
    assert not missing, f"{company}: " + json.dumps(missing, indent=1)


def test_demo_evidence_shows_the_data_map_applied_and_never_run_sweeps(demo: tuple) -> None:
    _company, settings, engine = demo
    with Session(engine) as session:
        by_id = {p["id"]: p for p in evidence.build(session, settings)["promises"]}
    applied = by_id["P1"]["evidence"][0]
    assert (
        applied["source"] == "audit: datamap.applied"
        and applied["at"]
        and applied["detail"] == "datamap.applied by demo"
    )
    assert by_id["P31"]["last_exercised"] is not None  # the demo publishes its notices
    sweep = by_id["P25"]["evidence"][0]
    assert sweep["kind"] == "retention_run" and sweep["at"] is None and sweep["count"] == 0  # no sweep yet: said


# ---- CLI, API, console ---------------------------------------------------------------------------------------------
def test_privet_report_evidence_formats_and_bad_input(privet, tmp_path: Path) -> None:
    text = privet("report", "evidence")
    assert text.exit_code == 0, text.output
    assert "of 45 promises configured" in text.output and "P45" in text.output
    out = tmp_path / "evidence.json"
    written = privet("report", "evidence", "--format", "json", "-o", str(out))
    assert written.exit_code == 0 and f"Wrote {out}" in written.output
    assert [p["id"] for p in json.loads(out.read_text(encoding="utf-8"))["promises"]] == IDS
    zh = privet("report", "evidence", "--format", "html", "--lang", "zh_CN")
    assert zh.exit_code == 0 and '<html lang="zh-CN">' in zh.output and "只收集列明类别的个人信息" in zh.output
    bad = privet("report", "evidence", "--format", "pdf")
    assert bad.exit_code == 2 and "Unknown format 'pdf'" in bad.output and "Traceback" not in bad.output


def test_api_evidence_needs_registers_read(client: TestClient, db: Session) -> None:
    _k, reader = create_api_key(db, "auditor", ["registers:read"], actor="test")
    _k, other = create_api_key(db, "service", ["decide"], actor="test")
    db.commit()
    assert client.get("/api/v1/reports/evidence").status_code == 401
    assert client.get("/api/v1/reports/evidence", headers={"Authorization": f"Bearer {other}"}).status_code == 403
    answer = client.get("/api/v1/reports/evidence", headers={"Authorization": f"Bearer {reader}"})
    assert answer.status_code == 200 and [p["id"] for p in answer.json()["promises"]] == IDS
    html = client.get("/api/v1/reports/evidence?format=html&lang=zh_CN", headers={"Authorization": f"Bearer {reader}"})
    assert html.headers["content-type"].startswith("text/html") and "证据：政策承诺的履行情况" in html.text
    assert (
        client.get("/api/v1/reports/evidence?format=pdf", headers={"Authorization": f"Bearer {reader}"}).status_code
        == 422
    )
