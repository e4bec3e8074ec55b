"""Names, not internal keys, where the console shows them to a person (issue 15, items 6-7, "readable everywhere"):
the consent lookup (purposes, events, methods, legal bases, identity types), a receipt's evidence and notice, the
records of processing in Chinese (retention actions, assessment states, transfer mechanisms, sensitive kinds) and
manual-task texts (categories and actions in words), in English and Chinese."""

from __future__ import annotations

import re

from faker import Faker
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.web.admin.conftest import HTML
from tests.web.admin.test_readable import applied  # noqa: F401 - the data map, its newsletter named in Chinese
from tests.web.admin.test_records_pages import seeded  # noqa: F401 - the registers, drafts and transfers

ZH = {**HTML, "Accept-Language": "zh-CN"}
KEYS = ("marketing.communications", "user.contact.email")


def _shown(html: str) -> str:
    """The page's text a person reads: tags, their attributes (a key kept in a `title`) and <code> left out."""
    html = re.sub(r"<code[^>]*>.*?</code>|<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def _visitor_and_subject(app: FastAPI, db: Session) -> tuple[str, str, str]:
    """A subject with a consent given in the centre and a marketing channel choice; a banner visitor's GPC refusal."""
    from privet.consent.ledger import service as ledger
    from privet.subjects.service import create_subject

    email = Faker("zh_CN").unique.email(domain="example.com")
    subject = create_subject(db, app.state.keyring, [("email", email, True)], actor="test")
    entry = ledger.record(
        db,
        subject_id=subject.id,
        purpose="marketing.communications",
        event="given",
        method="form",
        actor="test",
        categories=["user.contact.email"],
        language="zh_CN",
        evidence={"source": "privacy-centre", "gpc": False},
    )
    ledger.record(
        db,
        visitor_id="v-" + Faker().hexify("^" * 16),
        purpose="marketing.communications",
        event="refused",
        method="gpc",
        actor="test",
        evidence={"gpc": True, "gpc_honoured": True},
    )
    db.commit()
    return email, entry.id, subject.id


def test_the_consent_lookup_names_purposes_events_and_methods(
    client: TestClient, app: FastAPI, db: Session, officer, applied
) -> None:
    email, _record, subject_id = _visitor_and_subject(app, db)
    token = officer("agent")
    english = client.post("/admin/consent", headers=HTML, data={"csrf_token": token, "type": "email", "value": email})
    assert english.status_code == 200 and subject_id in english.text
    text = _shown(english.text)
    for words in ("Marketing messages", "Consent given", "a form in the privacy centre", "Consent", "Email address"):
        assert words in text, words
    assert not any(key in text for key in KEYS), "a key reached the page"
    assert 'title="marketing.communications"' in english.text  # kept for officers, in the tooltip
    assert ">form<" not in english.text and ">given<" not in english.text and ">consent<" not in english.text
    chinese = client.post("/admin/consent", headers=ZH, data={"csrf_token": token, "type": "email", "value": email})
    text = _shown(chinese.text)
    for words in ("营销信息推送", "已同意", "电子邮件地址", "同意"):
        assert words in text, words
    assert not any(key in text for key in KEYS) and "Marketing messages" not in text
    assert '<option value="email" selected>电子邮件地址</option>' in chinese.text  # the identity types by name
    assert email not in chinese.text  # the identity stays masked


def test_the_consent_lookup_still_refuses_bad_input(client: TestClient, officer) -> None:
    token = officer("agent")
    empty = client.post("/admin/consent", headers=ZH, data={"csrf_token": token, "type": "email", "value": ""})
    assert empty.status_code == 422 and "电子邮件地址" in empty.text
    assert (
        client.post("/admin/consent", headers=HTML, data={"type": "email", "value": "x@example.com"}).status_code == 403
    )  # no CSRF token: refused


def test_a_receipt_names_its_evidence_and_its_notice(
    client: TestClient, app: FastAPI, db: Session, officer, applied
) -> None:
    _email, record, _subject = _visitor_and_subject(app, db)
    officer("auditor")
    english = client.get(f"/admin/consent/receipts/{record}", headers=HTML).text
    assert "Source: privacy-centre" in english and "Global Privacy Control sent: No" in english
    assert "language 中文" in english  # the language named, not its code
    chinese = client.get(f"/admin/consent/receipts/{record}", headers=ZH).text
    assert "来源: privacy-centre" in chinese and "发送了全球隐私控制（GPC）信号: 否" in chinese
    assert 'title="gpc"' in chinese and ">gpc:" not in chinese


def test_a_banner_choice_in_evidence_reads_per_category() -> None:
    from starlette.requests import Request

    from privet.web.admin.receipts import _evidence

    request = Request({"type": "http", "headers": [(b"accept-language", b"zh-CN")], "query_string": b""})
    key, name, value = _evidence(request, "banner_choice", {"necessary": True, "analytics": False})
    assert key == "banner_choice" and name == "横幅中的选择" and "analytics" not in value and "否" in value


def test_records_of_processing_in_chinese_name_states_mechanisms_and_kinds(client: TestClient, officer, seeded) -> None:
    officer("auditor")
    chinese = client.get("/admin/records/records-of-processing.html?lang=zh_CN", headers=HTML)
    assert chinese.status_code == 200 and '<html lang="zh-Hans">' in chinese.text
    text = _shown(chinese.text)
    for words in ("经 标准合同 传输至 DE", "（草稿）", "生物识别", "注销账号后 2 年, 删除"):
        assert words in text, words
    for english in ("(draft)", "(biometric)", ", delete", "via standard"):
        assert english not in text, english
    english = client.get("/admin/records/records-of-processing.html?lang=en", headers=HTML).text
    assert "DE via standard contract" in english and "(draft)" in english and "草稿" not in english
    client.get("/admin/records?lang=zh_CN", headers=HTML)  # the officer switches the console to Chinese
    by_console = client.get("/admin/records/records-of-processing.html", headers=HTML)
    assert '<html lang="zh-Hans">' in by_console.text and "（草稿）" in by_console.text
    unknown = client.get("/admin/records/records-of-processing.html?lang=fr", headers=HTML)
    assert unknown.status_code == 200 and '<html lang="zh-Hans">' in unknown.text  # the console's language


def test_records_of_processing_need_registers_read(client: TestClient, officer, seeded) -> None:
    officer("agent")
    assert client.get("/admin/records/records-of-processing.html?lang=zh_CN", headers=HTML).status_code == 403
    assert client.get("/admin/records/records-of-processing.csv?lang=zh_CN", headers=HTML).status_code == 403


def test_manual_task_texts_name_categories_and_actions_in_both_languages() -> None:
    from privet.requests.execution.runner import INSTRUCTIONS
    from privet.requests.manual.service import TAKE_OVER
    from privet.web.admin.tasks_text import translated

    fix = INSTRUCTIONS["rectify"].format(ref="A-7", store="crm", categories="user.contact.email, user.name")
    assert translated(fix, "en") == (
        "Correct the records of the person of request A-7 in crm (Email address, Name), "
        "then confirm with the counts per table."
    )
    assert translated(fix, "zh_CN") == "更正 crm 中请求 A-7 所涉个人的记录（电子邮件地址、姓名），然后确认各表的数量。"
    taken = TAKE_OVER.format(action="fetch", ref="A-7", store="crm") + " (Filing cabinet)"
    for lang, words in (
        ("en", "Step “find the person's data” of request A-7"),
        ("zh_CN", "步骤 “查找个人的数据” 失败"),
    ):
        shown = translated(taken, lang)
        assert words in shown and "fetch" not in shown and shown.endswith("(Filing cabinet)"), shown
    company = "Ring the branch and ask for user.contact.email"  # the company's own words stay as written
    assert translated(company, "zh_CN") == company and translated(company, "en") == company
