"""The banner in a real browser on a demo website of another origin: accept, reject, customise, GPC, keyboard,
Chinese, reopen, re-prompt after a material notice change, Consent Mode v2, and the ledger behind every choice."""

from __future__ import annotations

import time
import uuid
from datetime import date

import pytest
from sqlalchemy import select

from privet.consent.models import ConsentRecord

IN_BANNER = "document.activeElement && document.activeElement.id === 'privet-banner'"
FOCUSED = (
    "() => { const r = document.getElementById('privet-banner').shadowRoot.activeElement; "
    "return r ? [r.tagName, r.textContent || r.id, getComputedStyle(r).outlineStyle] : null; }"
)


def _records(site, visitor_id: str) -> dict[str, ConsentRecord]:
    with site.session() as session:
        rows = (
            session.execute(
                select(ConsentRecord).where(ConsentRecord.visitor_id == visitor_id).order_by(ConsentRecord.seq)
            )
            .scalars()
            .all()
        )
        session.expunge_all()
    return {r.purpose: r for r in rows}  # the latest record per purpose


def _saved(tab, count: int = 1) -> str:
    """Wait until the banner's choice reached Privet; the visitor id."""
    tab.wait_for_function(f"window.Privet && window.Privet.saved >= {count}")
    return tab.evaluate("Privet.choice().visitor")


def _consent_updates(tab) -> list[dict]:
    return [call[2] for call in tab.evaluate("window.gtagCalls") if call[:2] == ["consent", "update"]]


def _ran(tab, category: str) -> bool:
    return tab.evaluate(f"window.{category}Ran === true")


def test_accept_all_runs_blocked_scripts_records_and_signals(visit, site) -> None:
    tab = visit()
    dialog = tab.get_by_role("dialog", name="Cookies on this site")
    dialog.wait_for()
    assert dialog.get_attribute("aria-modal") == "true"
    assert not _ran(tab, "analytics") and not _ran(tab, "marketing")
    assert _consent_updates(tab) == []
    dialog.get_by_role("button", name="Accept all").click()
    tab.wait_for_function("window.analyticsRan === true && window.marketingRan === true")
    assert not dialog.is_visible()
    visitor = _saved(tab)
    records = _records(site, visitor)
    assert records["analytics.usage"].event == "given" and records["marketing.personalisation"].event == "given"
    assert records["analytics.usage"].method == "banner" and records["analytics.usage"].language == "en"
    assert records["analytics.usage"].evidence["banner_choice"]["necessary"] is True
    assert _consent_updates(tab)[-1] == {
        "ad_storage": "granted",
        "ad_user_data": "granted",
        "ad_personalization": "granted",
        "analytics_storage": "granted",
        "functionality_storage": "granted",
        "personalization_storage": "granted",
        "security_storage": "granted",
    }
    cookie = next(c for c in tab.context.cookies() if c["name"] == "privet_consent")
    assert cookie["domain"] == "localhost" and cookie["sameSite"] == "Lax" and cookie["expires"] > 0
    tab.reload()  # a returning visitor: no banner, the scripts run, the choice can be reopened
    tab.wait_for_function("window.analyticsRan === true")
    assert not tab.get_by_role("dialog").is_visible()
    assert tab.get_by_role("button", name="Cookie settings").is_visible()
    assert _consent_updates(tab)[-1]["analytics_storage"] == "granted"


@pytest.mark.promise("P4")
def test_reject_all_keeps_scripts_inert(visit, site) -> None:
    tab = visit()
    tab.get_by_role("button", name="Reject all").click()
    visitor = _saved(tab)
    records = _records(site, visitor)
    assert {r.event for r in records.values()} == {"refused"}
    assert {"analytics.usage", "marketing.personalisation"} <= set(records)
    update = _consent_updates(tab)[-1]
    assert update["analytics_storage"] == update["ad_storage"] == update["ad_user_data"] == "denied"
    assert update["security_storage"] == "granted"
    tab.reload()
    tab.get_by_role("button", name="Cookie settings").wait_for()
    tab.wait_for_timeout(300)
    assert not _ran(tab, "analytics") and not _ran(tab, "marketing") and not _ran(tab, "preferences")


def test_customise_analytics_only(visit, site) -> None:
    tab = visit()
    dialog = tab.get_by_role("dialog")
    customise = dialog.get_by_role("button", name="Customise")
    assert customise.get_attribute("aria-expanded") == "false"
    customise.click()
    assert customise.get_attribute("aria-expanded") == "true"
    necessary = dialog.get_by_label("Necessary")
    assert necessary.is_checked() and necessary.is_disabled()
    assert not dialog.get_by_label("Marketing").is_checked()
    dialog.get_by_label("Analytics").check()
    dialog.get_by_role("button", name="Save my choices").click()
    tab.wait_for_function("window.analyticsRan === true")
    visitor = _saved(tab)
    assert not _ran(tab, "marketing") and not _ran(tab, "preferences")
    records = _records(site, visitor)
    assert records["analytics.usage"].event == "given"
    assert records["marketing.personalisation"].event == "refused"
    update = _consent_updates(tab)[-1]
    assert update["analytics_storage"] == "granted" and update["ad_storage"] == "denied"
    assert update["personalization_storage"] == "denied"


def test_gpc_visitor_sees_marketing_off_and_the_notice(visit, site) -> None:
    tab = visit(gpc=True)
    dialog = tab.get_by_role("dialog")
    dialog.get_by_text("Global Privacy Control").wait_for()
    dialog.get_by_role("button", name="Customise").click()
    marketing = dialog.get_by_label("Marketing")
    assert not marketing.is_checked() and marketing.is_disabled()
    dialog.get_by_role("button", name="Accept all").click()
    tab.wait_for_function("window.analyticsRan === true")
    visitor = _saved(tab)
    assert not _ran(tab, "marketing")
    records = _records(site, visitor)
    assert records["analytics.usage"].event == "given"
    marketing_record = records["marketing.personalisation"]
    assert marketing_record.event == "refused" and marketing_record.method == "gpc"
    assert marketing_record.evidence["gpc_honoured"] is True
    assert _consent_updates(tab)[-1]["ad_storage"] == "denied"


def test_keyboard_only(visit, site) -> None:
    tab = visit()
    tab.get_by_role("dialog").wait_for()
    tab.wait_for_function(IN_BANNER)  # the dialog takes focus when it opens

    def tab_to(name: str, backwards: bool = False) -> None:
        for _ in range(20):
            tab.keyboard.press("Shift+Tab" if backwards else "Tab")
            assert tab.evaluate(IN_BANNER), "focus left the dialog"
            found = tab.evaluate(FOCUSED)
            assert found and found[2] != "none", f"no visible focus on {found}"
            if name in found[1]:
                return
        raise AssertionError(f"{name!r} not reachable by keyboard")

    seen = []
    for _ in range(12):  # forwards and round again: focus cycles inside the dialog
        tab.keyboard.press("Tab")
        assert tab.evaluate(IN_BANNER)
        seen.append(tab.evaluate(FOCUSED)[1])
    assert {"Privacy centre", "Reject all", "Customise", "Accept all"} <= set(seen)
    for _ in range(6):
        tab.keyboard.press("Shift+Tab")
        assert tab.evaluate(IN_BANNER)
    tab_to("Customise")
    tab.keyboard.press("Enter")
    assert tab.get_by_label("Analytics").is_visible()
    tab_to("pv-analytics")
    tab.keyboard.press("Space")
    assert tab.get_by_label("Analytics").is_checked()
    tab.keyboard.press("Escape")  # closes the categories, focus back on Customise
    assert not tab.get_by_label("Analytics").is_visible()
    assert tab.evaluate(FOCUSED)[1] == "Customise"
    tab.keyboard.press("Space")
    assert tab.get_by_label("Analytics").is_checked()  # the choice in progress is kept
    tab_to("Save my choices")
    tab.keyboard.press("Enter")
    tab.wait_for_function("window.analyticsRan === true")
    _saved(tab)
    assert not _ran(tab, "marketing")


def test_chinese_page_gets_chinese_texts(visit, site) -> None:
    tab = visit(lang="zh-CN")
    dialog = tab.get_by_role("dialog", name="本网站使用 Cookie")
    dialog.wait_for()
    assert dialog.get_attribute("lang") == "zh-Hans"
    dialog.get_by_role("button", name="自定义").click()
    assert dialog.get_by_label("统计分析").is_visible()
    dialog.get_by_role("button", name="全部接受").click()
    visitor = _saved(tab)
    assert _records(site, visitor)["analytics.usage"].language == "zh_CN"
    assert tab.get_by_role("button", name="Cookie 设置").is_visible()


def test_reopen_from_the_page_link_changes_the_choice(visit, site) -> None:
    tab = visit()
    tab.get_by_role("button", name="Reject all").click()
    visitor = _saved(tab)
    assert not _ran(tab, "analytics")
    tab.locator("#settings-link").click()
    dialog = tab.get_by_role("dialog")
    assert dialog.is_visible() and not dialog.get_by_label("Analytics").is_checked()
    dialog.get_by_label("Analytics").check()
    dialog.get_by_role("button", name="Save my choices").click()
    tab.wait_for_function("window.analyticsRan === true")
    assert _saved(tab, 2) == visitor  # the same visitor, a new record
    assert _records(site, visitor)["analytics.usage"].event == "given"
    tab.get_by_role("button", name="Cookie settings").click()  # the floating button reopens too
    assert dialog.get_by_label("Analytics").is_checked()
    tab.keyboard.press("Escape")  # categories closed
    tab.keyboard.press("Escape")  # a standing choice: Escape closes the dialog
    assert not dialog.is_visible()


@pytest.mark.promise("P30")
def test_material_notice_change_asks_again(visit, site) -> None:
    from privet.notices import service as notices

    key = f"shop-{uuid.uuid4().hex[:8]}"

    def publish(text: str, material: list[str]) -> None:
        with site.session() as session:
            notices.publish(
                session,
                key=key,
                texts={"en": f"# Shop privacy\n\n## 1. Cookies\n\n{text}\n"},
                effective_date=date.today(),
                purposes=["analytics.usage"],
                material=material,
                actor="test",
            )
            session.commit()

    publish("We use analytics cookies.", [])
    tab = visit(site=key)
    tab.get_by_role("button", name="Accept all").click()
    visitor = _saved(tab)
    first = _records(site, visitor)["analytics.usage"]
    assert (first.notice_key, first.notice_version) == (key, 1)
    cookies = tab.context.cookies()

    publish("We use analytics cookies, as before, worded better.", [])  # not material: no new question
    again = visit(site=key, cookies=cookies)
    again.wait_for_function("window.analyticsRan === true")
    assert not again.get_by_role("dialog").is_visible()

    publish("We now share analytics with partners.", ["analytics.usage"])  # material: ask again
    changed = visit(site=key, cookies=cookies)
    dialog = changed.get_by_role("dialog")
    dialog.get_by_text("Our privacy notice has changed").wait_for()
    changed.wait_for_timeout(300)
    assert not _ran(changed, "analytics")  # the old consent no longer runs anything
    dialog.get_by_role("button", name="Accept all").click()
    changed.wait_for_function("window.analyticsRan === true")
    assert _saved(changed) == visitor
    latest = _records(site, visitor)["analytics.usage"]
    assert (latest.notice_version, latest.event) == (3, "given")


def test_choice_is_shared_by_sub_domains_on_the_parent_domain(browser, site, shop) -> None:
    from tests.web.conftest import CHROMIUM

    port = shop.rsplit(":", 1)[1]
    settings = site.app.state.settings
    site.app.state.settings = settings.model_copy(
        update={"banner_cookie_domain": "shop.test", "banner_cookie_days": 30}
    )
    try:
        # a second Chromium that resolves www.shop.test and blog.shop.test to the demo site
        chromium = browser.browser_type.launch(
            executable_path=CHROMIUM, headless=True, args=["--host-resolver-rules=MAP *.shop.test 127.0.0.1"]
        )
        try:
            context = chromium.new_context()
            context.set_default_timeout(15_000)
            www = context.new_page()
            www.goto(f"http://www.shop.test:{port}/page?site=shop")
            www.get_by_role("button", name="Accept all").click()
            visitor = _saved(www)
            cookie = next(c for c in context.cookies() if c["name"] == "privet_consent")
            assert cookie["domain"] == ".shop.test"
            assert 29 * 86400 < cookie["expires"] - time.time() <= 30 * 86400
            blog = context.new_page()
            blog.goto(f"http://blog.shop.test:{port}/page?site=shop")
            blog.wait_for_function("window.analyticsRan === true")  # no second question on the sub-domain
            assert not blog.get_by_role("dialog").is_visible()
            assert blog.evaluate("Privet.choice().visitor") == visitor
        finally:
            chromium.close()
    finally:
        site.app.state.settings = settings


def test_works_on_a_site_with_a_strict_content_security_policy(visit, site) -> None:
    tab = visit(csp=True)
    violations = []
    tab.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    dialog = tab.get_by_role("dialog")
    dialog.wait_for()
    assert dialog.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(255, 255, 255)"  # styles applied
    dialog.get_by_role("button", name="Accept all").click()

    def until(expression: str) -> None:  # wait_for_function would need 'unsafe-eval' on this page
        deadline = time.monotonic() + 15
        while not tab.evaluate(expression):
            assert time.monotonic() < deadline, expression
            tab.wait_for_timeout(50)

    until("window.analyticsRan === true")  # the page's nonce travels to the activated script
    until("window.Privet.saved >= 1")
    assert violations == []


def test_gpc_turned_on_later_overrides_an_earlier_marketing_consent(visit, site) -> None:
    tab = visit()
    tab.get_by_role("button", name="Accept all").click()
    visitor = _saved(tab)
    assert _records(site, visitor)["marketing.personalisation"].event == "given"
    later = visit(gpc=True, cookies=tab.context.cookies())
    visitor_later = _saved(later)  # recorded again without asking: the signal decides marketing
    later.wait_for_function("window.analyticsRan === true")
    assert visitor_later == visitor and not _ran(later, "marketing")
    assert not later.get_by_role("dialog").is_visible()
    record = _records(site, visitor)["marketing.personalisation"]
    assert record.event == "refused" and record.method == "gpc"
    assert _consent_updates(later)[-1]["ad_storage"] == "denied"
