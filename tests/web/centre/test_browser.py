"""The privacy centre in a real browser: policy versions, signing in by code, consents, requests, guardians."""

from __future__ import annotations

import re
import time
import zipfile
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.web.centre.conftest import code_for, sign_in


@pytest.mark.promise("P28", "P30")
def test_policy_with_earlier_versions_material_summary_and_outside_links(page) -> None:
    page.goto("/")
    assert page.locator("h1").first.inner_text() == "Keptek Privacy Policy"
    assert "Version 2" in page.locator("article.policy").inner_text()
    external = page.locator("article.policy a.external")
    assert external.count() >= 2
    for i in range(external.count()):
        link = external.nth(i)
        assert "noopener" in (link.get_attribute("rel") or "") and "(outside this policy)" in link.inner_text()
    own = page.locator("article.policy a[href^='https://privacy.keptek.example']")
    assert own.count() == 1 and "external" not in (own.get_attribute("class") or "")
    history = page.locator("aside .versions")
    assert "Material change" in history.inner_text() and "Section 3 changed" in history.inner_text()
    assert page.get_by_role("link", name=re.compile("Keptek Cloud")).count() == 1  # product notice beside it

    page.get_by_role("link", name="Version 1").click()
    assert page.url.endswith("/policy/privacy-policy/1")
    body = page.locator("article.policy").inner_text()
    assert "Earlier version" in body and "First version" in body and "usage logs" not in body

    page.get_by_role("link", name="Version 2").first.click()
    changes = page.locator("section.changes").inner_text()
    assert "Material change" in changes and "Personalised experience and content" in changes
    assert "Section 3 changed" in changes and "usage logs" in page.locator("article.policy").inner_text()


def test_policy_reads_in_chinese(browser, site) -> None:
    context = browser.new_context(base_url=site.url, locale="zh-CN")
    tab = context.new_page()
    tab.goto("/policy/privacy-policy/2")
    assert tab.locator("html").get_attribute("lang") == "zh-Hans"
    text = tab.locator("article.policy").inner_text()
    assert "Keptek 隐私政策" in text and "重大变更" in text and "第三节已修改" in text
    assert "（不适用本政策）" in tab.locator("a.external").first.inner_text()
    context.close()


def _wait_for_status(tab, status: str, timeout: float = 40.0) -> None:
    deadline = time.monotonic() + timeout
    while tab.locator("#request-status").get_attribute("data-status") != status:
        assert time.monotonic() < deadline, (
            "the request did not reach "
            + status
            + ", it is "
            + str(tab.locator("#request-status").get_attribute("data-status"))
        )
        time.sleep(0.5)
        tab.reload()


def _answer_manual_tasks(site, reference: str) -> None:
    """What an officer does in the console for the demo's paper datastore: confirm nothing was found."""
    from privet.requests.manual import service as manual
    from privet.requests.models import DsrRequest, ManualTask

    with site.session() as session:
        request = session.execute(select(DsrRequest).where(DsrRequest.reference == reference)).scalar_one()
        for task in session.execute(select(ManualTask).where(ManualTask.request_id == request.id)).scalars():
            manual.complete_task(
                session,
                site.app.state.keyring,
                site.settings,
                task.id,
                actor="user:test",
                confirmation="Searched the paper files: nothing about this person",
            )
        session.commit()


def test_an_access_request_in_chinese_with_a_code_then_the_package(browser, site, person) -> None:
    address = person()
    context = browser.new_context(base_url=site.url, locale="zh-CN", accept_downloads=True)
    context.set_default_timeout(15_000)
    tab = context.new_page()
    tab.goto("/requests")
    assert tab.locator("html").get_attribute("lang") == "zh-Hans"
    tab.get_by_label("查阅我的信息（查阅）").check()
    tab.get_by_role("button", name="继续").click()  # the type first, then only what it asks
    tab.get_by_label("电子邮件地址或手机号码").fill(address)
    tab.get_by_role("button", name="提交请求").click()
    assert "我们已通过电子邮件发送六位验证码" in tab.locator("main").inner_text()
    reference = tab.locator(".reference").inner_text()
    assert address not in tab.url and address not in tab.title()
    tab.get_by_label("六位验证码").fill(code_for(site, address))
    tab.get_by_role("button", name="确认").click()
    tab.wait_for_url(f"**/requests/{reference}**")
    assert "我们已收到您的请求" in tab.locator(".flash").inner_text()
    _wait_for_status(tab, "waiting")  # the paper contracts are searched by hand: the officer answers that task
    _answer_manual_tasks(site, reference)
    _wait_for_status(tab, "completed")
    assert "法定答复期限" in tab.locator("main").inner_text()
    with tab.expect_download() as download:
        tab.get_by_role("button", name="下载您的信息（zip）").click()
    path = download.value.path()
    assert zipfile.is_zipfile(path) and download.value.suggested_filename == f"privet-{reference}.zip"
    with zipfile.ZipFile(path) as archive:
        assert "data.json" in archive.namelist()
    context.close()


def test_a_wrong_code_is_refused_and_changes_nothing(page, site, person) -> None:
    from privet.requests.models import DsrRequest

    address = person()
    page.goto("/requests")
    page.get_by_role("button", name="Continue").click()  # access, the type chosen by default
    page.get_by_label("E-mail address or mobile number").fill(address)
    page.get_by_role("button", name="Send request").click()
    reference = page.locator(".reference").inner_text()
    code = code_for(site, address)
    wrong = "111111" if code != "111111" else "222222"
    page.get_by_label("Six-digit code").fill(wrong)
    page.get_by_role("button", name="Confirm").click()
    alert = page.get_by_role("alert")
    assert "The code is wrong" in alert.inner_text() and "Nothing was changed" in alert.inner_text()
    assert page.get_by_label("Six-digit code").get_attribute("aria-invalid") == "true"
    assert not [c for c in page.context.cookies() if c["name"] == "privet_subject"]
    with site.session() as session:
        found = session.execute(select(DsrRequest).where(DsrRequest.reference == reference)).scalar_one()
        assert found.status == "unverified" and found.subject_id is None
    page.goto("/consents")
    assert "/signin" in page.url  # still nobody signed in


def test_giving_and_withdrawing_a_consent_is_recorded(page, site, person) -> None:
    from privet.consent.models import ConsentRecord

    sign_in(page, site, person())
    assert "You are signed in." in page.locator(".flash").inner_text()
    card = page.locator("#p-marketing-communications")
    assert card.locator(".badge").get_attribute("data-state") == "off"
    card.get_by_role("button", name=re.compile("Give consent")).click()
    expect(page.locator(".flash")).to_contain_text("Your choice was recorded.")  # waits for the next page
    card = page.locator("#p-marketing-communications")
    assert card.locator(".badge").get_attribute("data-state") == "on"
    assert "Marketing messages" in page.locator("table.history").inner_text()
    separate = page.locator("section[aria-labelledby='separate-title']")
    assert separate.locator("#p-partner-certification").count() == 1  # sensitive: shown as separate consent
    assert "Sensitive personal information" in page.locator("#p-partner-certification .kind").inner_text()
    card.get_by_role("button", name=re.compile("Withdraw consent")).click()
    assert page.locator("#p-marketing-communications .badge").get_attribute("data-state") == "off"
    with site.session() as session:
        records = (
            session.execute(
                select(ConsentRecord)
                .where(ConsentRecord.purpose == "marketing.communications")
                .order_by(ConsentRecord.seq.desc())
                .limit(2)
            )
            .scalars()
            .all()
        )
        assert [r.event for r in records] == ["withdrawn", "given"]
        assert {r.method for r in records} == {"form"} and records[0].language == "en"


@pytest.mark.promise("P8", "P35")
def test_channel_preferences_and_locked_service_notices(page, site, person) -> None:
    from privet.consent.channels import preferences
    from privet.subjects.service import find_subject

    address = person()
    sign_in(page, site, address)
    assert page.locator("#ch-notice-updates-email").is_disabled()
    page.locator("#ch-marketing-communications-sms").check()
    page.get_by_role("button", name="Save message preferences").click()
    expect(page.locator(".flash")).to_contain_text("Your message preferences were saved.")  # waits for the next page
    assert page.locator("#ch-marketing-communications-sms").is_checked()
    with site.session() as session:
        subject = find_subject(session, site.app.state.keyring, "email", address)
        chosen = preferences(session, subject.id)["marketing.communications"]["channels"]
        assert chosen == {"email": False, "sms": True, "push": False}


@pytest.mark.promise("P30")
def test_a_material_change_asks_for_consent_again(page, site, person) -> None:
    from privet.consent.ledger import service as ledger
    from privet.kit.clock import utcnow
    from privet.subjects.service import create_subject

    address = person()
    with site.session() as session:
        subject = create_subject(session, site.app.state.keyring, [("email", address, True)], actor="test")
        ledger.record(
            session,
            subject_id=subject.id,
            purpose="marketing.personalisation",
            event="given",
            method="form",
            actor="test",
            at=utcnow() - timedelta(hours=1),
            notice_version=1,
        )
        session.commit()
    sign_in(page, site, address)
    assert page.locator(".flash.warn").count() == 1
    page.goto("/")
    page.get_by_role("link", name="Review my consents").click()
    card = page.locator("#p-marketing-personalisation")
    assert "renew" in card.get_attribute("class")
    card.get_by_role("button", name=re.compile("Confirm consent again")).click()
    assert page.locator(".flash.warn").count() == 0
    assert "renew" not in page.locator("#p-marketing-personalisation").get_attribute("class")


@pytest.mark.promise("P27")
def test_a_guardian_consents_and_files_a_request_for_a_child(page, site, family) -> None:
    from privet.consent.models import ConsentRecord
    from privet.requests.models import DsrRequest

    sign_in(page, site, family.guardian_email)
    children = page.locator("section[aria-labelledby='children-title']")
    assert family.child_email in children.inner_text()
    children.get_by_role("link", name=re.compile("Manage consents")).click()
    assert "You are acting as guardian for:" in page.locator(".acting").inner_text()
    page.locator("#p-marketing-events").get_by_role("button", name=re.compile("Give consent")).click()
    assert page.locator("#p-marketing-events .badge").get_attribute("data-state") == "on"
    assert "guardian" in page.locator("table.history").inner_text()
    with site.session() as session:
        record = session.execute(select(ConsentRecord).where(ConsentRecord.subject_id == family.child_id)).scalar_one()
        assert (record.method, record.guardian_id, record.event) == ("guardian", family.guardian_id, "given")
        assert (
            session.execute(select(ConsentRecord).where(ConsentRecord.subject_id == family.guardian_id)).first() is None
        )  # the guardian's own stay untouched

    page.goto(f"/requests?child={family.child_id}")
    page.get_by_label("Explain how my data is used").check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Send request").click()
    page.wait_for_url("**/requests/R-**")
    reference = page.locator("h1 .reference").inner_text()
    with site.session() as session:
        filed = session.execute(select(DsrRequest).where(DsrRequest.reference == reference)).scalar_one()
        assert filed.subject_id == family.child_id and filed.filed_by == f"subject:{family.guardian_id}"


def test_a_guardian_cannot_act_for_someone_else(page, site, family, person) -> None:
    sign_in(page, site, person())
    answer = page.goto(f"/consents?child={family.child_id}")
    assert answer.status == 404 and "You cannot act for this person" in page.locator("main").inner_text()


def test_the_main_controls_are_reachable_by_keyboard(page, site, person) -> None:
    page.goto("/signin")
    reached = []
    for _ in range(15):
        page.keyboard.press("Tab")
        reached.append(page.evaluate("document.activeElement.id || document.activeElement.textContent.trim()"))
        if reached[-1] == "identity":
            break
    assert reached[0] == "Skip to content" and "identity" in reached
    address = person()
    page.keyboard.type(address)
    page.keyboard.press("Enter")  # submits the form
    page.locator("#code").wait_for()
    assert page.evaluate("document.activeElement.id") == "code"  # the code field takes the focus
    page.keyboard.type(code_for(site, address))
    page.keyboard.press("Enter")
    page.wait_for_url("**/consents**")
    for _ in range(60):  # the first consent button is reachable with Tab and works with Enter
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.tagName") == "BUTTON" and "Give consent" in page.evaluate(
            "document.activeElement.textContent"
        ):
            break
    else:
        raise AssertionError("no consent button reached by Tab")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # a visible focus
    page.keyboard.press("Enter")
    expect(page.locator(".flash")).to_contain_text("Your choice was recorded.")  # waits for the next page


def test_a_wrong_sign_in_code_is_refused(page, site, person) -> None:
    address = person()
    page.goto("/signin")
    page.get_by_label("E-mail address or mobile number").fill(address)
    page.get_by_role("button", name="Send me a code").click()
    code = code_for(site, address)
    page.get_by_label("Six-digit code").fill("111111" if code != "111111" else "222222")
    page.get_by_role("button", name="Confirm").click()
    assert "The code is wrong" in page.get_by_role("alert").inner_text()
    assert not [c for c in page.context.cookies() if c["name"] == "privet_subject"]
    page.get_by_label("Six-digit code").fill(code)  # the right code still works on the same challenge
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url("**/consents**")


def test_a_signed_in_person_files_without_a_new_code(page, site, person) -> None:
    address = person()
    sign_in(page, site, address)
    page.get_by_role("link", name="My requests").click()
    page.get_by_label("Close my account").check()
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("#chosen-type")).to_have_text("Close my account")
    assert page.get_by_label("E-mail address or mobile number").count() == 0  # no identity asked for
    page.get_by_role("button", name="Send request").click()
    page.wait_for_url("**/requests/R-**")
    assert "Your request was received and your identity confirmed." in page.locator(".flash").inner_text()
    reference = page.locator("h1 .reference").inner_text()
    assert page.locator("#request-status").get_attribute("data-status") != "unverified"
    page.get_by_role("link", name="All requests").click()
    assert reference in page.locator("table").inner_text()
    page.get_by_role("button", name="Sign out").click()
    assert "You are signed out." in page.locator(".flash").inner_text()
    page.goto(f"/requests/{reference}")
    assert "/signin" in page.url  # the reference alone shows nothing


def test_a_rectification_filed_by_keyboard_alone(page, site, person) -> None:
    from privet.requests.models import DsrRequest

    sign_in(page, site, person())
    page.goto("/requests")
    expect(page.locator("#choose-type")).to_be_visible()

    def tab_to(selector: str, limit: int = 80) -> None:
        """Press Tab until the element matching `selector` has the focus (it waits for the focus, never races)."""
        target = page.locator(selector)
        for _ in range(limit):
            page.keyboard.press("Tab")
            if target.evaluate("el => el === document.activeElement"):
                break
        expect(target).to_be_focused()

    tab_to("#type-access")  # the checked radio of the group takes the focus; arrows choose within the group
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(page.locator("#type-rectification")).to_be_checked()
    tab_to("#choose-type button[type=submit]")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/requests\?type=rectification"))
    expect(page.locator("#chosen-type")).to_have_text("Correct my data")
    expect(page.locator("#request-form input[name='purposes']")).to_have_count(0)
    expect(page.locator("#request-form fieldset.fix-group legend").first).to_be_visible()
    tab_to("#fix-user-name")
    page.keyboard.type("Keyboard Person")
    expect(page.locator("#fix-user-name")).to_have_value("Keyboard Person")
    tab_to("#request-form button[type=submit]")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/requests/R-"))
    expect(page.locator(".flash")).to_contain_text("Your request was received and your identity confirmed.")
    expect(page.locator("#asked")).to_contain_text("Name: Keyboard Person")
    expect(page.locator("#asked")).to_contain_text("Correct my data")
    expect(page.locator("main")).to_contain_text("Legal deadline for our answer")
    reference = page.locator("h1 .reference").inner_text()
    with site.session() as session:
        filed = session.execute(select(DsrRequest).where(DsrRequest.reference == reference)).scalar_one()
        assert filed.type == "rectification" and filed.details["categories"] == ["user.name"]
