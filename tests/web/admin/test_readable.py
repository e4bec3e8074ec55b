"""The console in words (issue 15, items 6 and 7): taxonomy names instead of keys in English and Chinese, activity
names in Chinese, the records of processing downloaded in Chinese, a consent receipt as a readable record with its
signed JSON that verifies, a failed request step explained with the next action (and taken over by hand), manual
task texts and API-key scopes in Chinese."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from faker import Faker
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.reports.datamap import DATAMAP
from tests.web.admin.conftest import HTML
from tests.web.admin.test_records_pages import seeded  # noqa: F401 - the registers fixture

ZH = {**HTML, "Accept-Language": "zh-CN"}
# the test data map with its newsletter named in Chinese too, the way the demo maps name theirs
NAMED = DATAMAP.replace("    name: Newsletter\n", "    name: {en: Newsletter, zh_CN: 电子报}\n")


@pytest.fixture
def applied(db: Session, tmp_path: Path) -> None:
    from privet.datamap.service import validate_and_apply

    (tmp_path / "dm").mkdir()
    (tmp_path / "dm" / "datamap.yaml").write_text(NAMED, encoding="utf-8")
    validate_and_apply(db, tmp_path / "dm" / "datamap.yaml", actor="test")
    db.commit()


def test_the_data_map_page_shows_taxonomy_names_not_keys(client: TestClient, officer, applied) -> None:
    officer("privacy_officer")
    english = client.get("/admin/datamap?kind=activities", headers=HTML).text
    assert "Marketing messages" in english and "Email address" in english and "Newsletter" in english
    assert 'title="marketing.communications"' in english and 'title="user.contact.email"' in english
    assert ">marketing.communications<" not in english and ">user.contact.email<" not in english
    chinese = client.get("/admin/datamap?kind=activities", headers=ZH).text
    assert "营销信息推送" in chinese and "电子邮件地址" in chinese and "电子报" in chinese
    assert 'title="marketing.communications"' in chinese and ">Marketing messages<" not in chinese
    fields = client.get("/admin/datamap?kind=fields", headers=ZH).text
    assert "电子邮件地址" in fields and ">user.contact.email<" not in fields


def test_records_of_processing_download_in_the_viewers_language(client: TestClient, officer, applied) -> None:
    officer("privacy_officer")
    page = client.get("/admin/records", headers=ZH).text
    assert "电子报" in page and "营销信息推送" in page
    assert 'href="/admin/records/records-of-processing.html?lang=zh_CN"' in page
    chinese = client.get("/admin/records/records-of-processing.html", headers=ZH)  # the console's language
    assert chinese.status_code == 200 and '<html lang="zh-Hans">' in chinese.text
    for words in (
        "个人信息处理活动记录",
        "处理目的",
        "合法性基础",
        "个人信息种类",
        "电子邮件地址",
        "营销信息推送",
        "电子报",
        "注销账号后 3 年",
    ):
        assert words in chinese.text, words
    assert "Records of processing activities" not in chinese.text and "Categories of personal data" not in chinese.text
    english = client.get("/admin/records/records-of-processing.html?lang=en", headers=ZH).text
    assert "Records of processing activities" in english and "Email address" in english and "电子报" not in english
    csv_zh = client.get("/admin/records/records-of-processing.csv?lang=zh_CN", headers=HTML).text
    assert csv_zh.splitlines()[0].startswith("处理活动标识,处理活动名称") and "电子报" in csv_zh


def test_ropa_builds_and_renders_in_a_language(db: Session, applied) -> None:
    from privet.kit.errors import InvalidInput
    from privet.reports import ropa

    built = ropa.build(db, "zh_CN")
    newsletter = next(a for a in built["activities"] if a["activity"] == "newsletter")
    assert newsletter["name"] == "电子报" and newsletter["purpose_name"] == "营销信息推送"
    assert next(a for a in ropa.build(db)["activities"] if a["activity"] == "newsletter")["name"] == "Newsletter"
    with pytest.raises(InvalidInput):
        ropa.render(db, "html", "fr")


def _consent(app: FastAPI, db: Session):
    from privet.consent.ledger import service as ledger
    from privet.subjects.service import create_subject

    subject = create_subject(
        db, app.state.keyring, [("email", Faker().unique.email(domain="example.com"), True)], actor="test"
    )
    entry = ledger.record(
        db,
        subject_id=subject.id,
        purpose="marketing.communications",
        event="given",
        method="form",
        actor="test",
        categories=["user.contact.email"],
        language="zh_CN",
        evidence={"source": "privacy-centre"},
    )
    db.commit()
    return entry


def test_a_receipt_is_a_readable_record_and_its_json_verifies(
    client: TestClient, app: FastAPI, db: Session, officer, applied
) -> None:
    from privet.consent.ledger import receipts

    entry = _consent(app, db)
    officer("privacy_officer")
    page = client.get(f"/admin/consent/receipts/{entry.id}", headers=HTML)
    assert page.status_code == 200, page.text[-2000:]
    for words in (
        "Consent given",
        "Marketing messages",
        "Email address",
        "a form in the privacy centre",
        "Signature valid",
        "privacy-centre",
        entry.subject_id,
        f"/admin/consent/receipts/{entry.id}/receipt.json",
    ):
        assert words in page.text, words
    chinese = client.get(f"/admin/consent/receipts/{entry.id}", headers=ZH).text
    assert "已同意" in chinese and "营销信息推送" in chinese and "电子邮件地址" in chinese and "签名有效" in chinese
    download = client.get(f"/admin/consent/receipts/{entry.id}/receipt.json", headers=HTML)
    assert download.status_code == 200 and "attachment" in download.headers["content-disposition"]
    document = json.loads(download.text)
    assert document["consentReceiptID"] == entry.id
    assert receipts.verify_receipt(db, app.state.keyring, document).valid
    document["purpose"] = "analytics.usage"
    assert not receipts.verify_receipt(db, app.state.keyring, document).valid


def _failed_request(app: FastAPI, db: Session, error: str):
    from privet.requests.intake import service as intake
    from privet.requests.models import RequestStep

    found = intake.file_request(
        db,
        app.state.keyring,
        app.state.settings,
        request_type="access",
        identity_type="email",
        identity=Faker().unique.email(domain="example.com"),
        filed_by="test",
        channel="api",
    )
    step = RequestStep(
        request_id=found.id,
        position=0,
        datastore_key="crm",
        connector="sqlite",
        action="fetch",
        status="failed",
        attempts=1,
        last_error=error,
    )
    db.add(step)
    found.status = "failed"
    db.commit()
    return found, step


def test_a_failed_step_is_explained_with_the_next_action(
    client: TestClient, app: FastAPI, db: Session, officer
) -> None:
    from privet.requests import service
    from privet.requests.models import ManualTask

    found, step = _failed_request(
        app, db, "crm: InvalidInput: Table customers has no column emial (fix the field name in the data map)"
    )
    token = officer("privacy_officer")
    path = f"/admin/requests/{found.reference}"
    page = client.get(path, headers=HTML).text
    assert f'id="failure-{step.id}"' in page
    assert "Step failed in datastore" in page and "<code>crm</code>" in page
    assert "Table customers has no column emial" in page and "The data map and this datastore disagree" in page
    assert "Fix the data map" in page and "Take over as a manual task" in page
    chinese = client.get(path, headers=ZH).text
    assert "数据地图与该数据存储不一致" in chinese and "转为人工任务" in chinese
    assert "查找个人的数据" in chinese and "电子邮件地址" in chinese  # the step's action, the identity type
    taken = client.post(
        f"{path}/steps/{step.id}/take-over", headers=HTML, data={"csrf_token": token}, follow_redirects=False
    )
    assert taken.status_code == 303 and taken.headers["location"] == f"{path}?done=taken_over"
    db.expire_all()
    assert service.by_reference(db, found.reference).status == "waiting"
    task = db.query(ManualTask).filter_by(step_id=step.id).one()
    assert "taken over by hand" in task.instructions
    after = client.get(path, headers=ZH).text
    assert "已转为人工处理" in after and "taken over by hand" not in after
    again = client.post(f"{path}/steps/{step.id}/take-over", headers=HTML, data={"csrf_token": token})
    assert again.status_code == 409  # only a failed step can be taken over


def test_an_unreachable_datastore_says_check_it_and_retry(
    client: TestClient, app: FastAPI, db: Session, officer
) -> None:
    found, _step = _failed_request(app, db, "crm: OperationalError")
    officer("privacy_officer")
    page = client.get(f"/admin/requests/{found.reference}", headers=HTML).text
    assert "could not reach this datastore" in page and "run the failed steps again" in page


def test_manual_task_texts_and_scopes_in_chinese() -> None:
    from privet.auth.scopes import SCOPES
    from privet.requests.execution.runner import INSTRUCTIONS
    from privet.web.admin.tasks_text import translated
    from privet.web.i18n import gettext

    text = INSTRUCTIONS["erase"].format(ref="A-1", store="paper_files") + " (Filing cabinet in room 3)"
    assert translated(text, "zh_CN").startswith("按数据地图的规定删除 paper_files 中请求 A-1")
    assert translated(text, "zh_CN").endswith("(Filing cabinet in room 3)")
    assert translated(text, "en") == text and translated("Call Alice", "zh_CN") == "Call Alice"
    assert all(gettext("zh_CN", words) != words for words in SCOPES.values())


def test_users_page_shows_scopes_in_chinese(client: TestClient, officer) -> None:
    officer("admin")
    page = client.get("/admin/users", headers=ZH).text
    assert "读取数据地图及其版本、评估结果和导出。" in page


def test_register_and_incident_pages_name_categories_in_both_languages(
    client: TestClient, officer, seeded: dict
) -> None:
    officer("privacy_officer")
    for headers, words in ((HTML, "Email address"), (ZH, "电子邮件地址")):
        crossborder = client.get("/admin/crossborder", headers=headers).text
        assert words in crossborder and 'title="user.contact.email"' in crossborder
        incident = client.get(f"/admin/incidents/{seeded['incident']}", headers=headers).text
        assert words in incident and ">user.contact.email<" not in incident


def test_retention_periods_read_as_words() -> None:
    from privet.reports.ropa import labels, period

    assert period("P2Y6M", labels("en")) == "2 years 6 months" and period("P1D", labels("en")) == "1 day"
    assert period("P30D", labels("zh_CN")) == "30 天" and period("PT12H", labels("en")) == "PT12H"


def test_the_access_explanation_names_activities_in_the_persons_language(db: Session, applied) -> None:
    from privet.requests.packages.explain import explain

    names = {p["activity"]["key"]: p["activity"]["name"] for p in explain(db, None, "zh_CN")["purposes"]}
    assert names["newsletter"] == "电子报" and names["orders"] == "Orders and delivery"  # no Chinese given: English
    assert {p["activity"]["name"] for p in explain(db, None, "en")["purposes"]} >= {"Newsletter"}
