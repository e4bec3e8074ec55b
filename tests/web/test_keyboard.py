"""Keyboard alone: a person files a request in the privacy centre and a visitor makes (and changes) a cookie-banner
choice with Tab, arrows, Space and Enter only; every step waits for the focus it expects."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select

from tests.web.banner.conftest import shop  # noqa: F401 - the demo website fixture
from tests.web.centre.conftest import code_for, person  # noqa: F401 - generated e-mail addresses
from tests.web.page_walk import tab

ACTIVE = (
    "() => { let e = document.activeElement; while (e && e.shadowRoot && e.shadowRoot.activeElement) "
    "e = e.shadowRoot.activeElement; return e ? e.outerHTML.slice(0, 80) : ''; }"
)


def tab_to(page, target, limit: int = 40, backwards: bool = False) -> None:
    """Press Tab (Shift+Tab) until `target` has the focus, at most `limit` times."""
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
        if target.evaluate("(e) => e === (e.getRootNode().activeElement)"):
            break
    expect(target).to_be_focused()
    assert target.evaluate("(e) => getComputedStyle(e).outlineStyle") != "none", "the focus must be visible"


def test_a_request_filed_with_the_keyboard_alone(browser, site, person) -> None:
    from privet.requests.models import DsrRequest

    address = person()
    with tab(browser, site, width=390) as page:
        page.goto("/requests")
        expect(page.locator("#choose-type")).to_be_visible()
        page.keyboard.press("Tab")  # the first stop skips to the content
        expect(page.locator("a.skip")).to_be_focused()
        page.keyboard.press("Enter")
        expect(page.locator("main")).to_be_focused()
        checked = page.locator("#choose-type input[name=type]:checked")
        tab_to(page, checked)  # one stop for the group: the chosen type
        expect(page.locator("#type-access")).to_be_checked()
        for _ in range(8):  # arrows move the choice through the group
            if page.locator("#type-erasure").is_checked():
                break
            page.keyboard.press("ArrowDown")
            expect(page.locator("#choose-type input[name=type]:checked")).to_be_focused()
        expect(page.locator("#type-erasure")).to_be_checked()
        tab_to(page, page.locator("#choose-type button[type=submit]"))
        page.keyboard.press("Enter")
        expect(page.locator("#request-form")).to_be_visible()
        expect(page.locator("#chosen-type")).to_have_text("Delete my data")
        tab_to(page, page.locator("#identity"))
        page.keyboard.type(address)
        tab_to(page, page.locator("#region"))
        page.keyboard.press("ArrowDown")  # a region chosen from the list by keyboard
        expect(page.locator("#region")).not_to_have_value("")
        tab_to(page, page.locator("#request-form button[type=submit]"))
        page.keyboard.press("Enter")
        expect(page.locator("#code")).to_be_focused()  # the code page puts the cursor in the code field
        reference = page.locator(".reference").inner_text()
        page.keyboard.type(code_for(site, address))
        page.keyboard.press("Enter")
        page.wait_for_url(f"**/requests/{reference}**")
        expect(page.locator(".flash")).to_be_visible()
        expect(page.locator("#request-status")).to_be_visible()
    with site.session() as session:
        filed = session.execute(select(DsrRequest).where(DsrRequest.reference == reference)).scalar_one()
        assert filed.type == "erasure" and filed.status != "unverified" and filed.subject_id is not None


def test_a_banner_choice_made_and_changed_with_the_keyboard_alone(browser, site, shop) -> None:
    from privet.consent.models import ConsentRecord

    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        page.goto(f"{shop}/page?site=shop&lang=zh-CN")
        dialog = page.locator("#privet-banner [role=dialog]")
        expect(dialog).to_be_focused()  # the dialog takes the focus when it opens
        customise = page.locator("#privet-banner button[aria-controls='pv-p']")
        tab_to(page, customise)
        expect(customise).to_have_attribute("aria-expanded", "false")
        page.keyboard.press("Enter")
        expect(customise).to_have_attribute("aria-expanded", "true")
        preferences = page.locator("#privet-banner #pv-preferences")
        expect(preferences).to_be_focused()  # the first category one can change
        analytics = page.locator("#privet-banner #pv-analytics")
        tab_to(page, analytics)
        page.keyboard.press("Space")
        expect(analytics).to_be_checked()
        save = page.locator("#privet-banner #pv-p button")
        tab_to(page, save)
        page.keyboard.press("Enter")
        expect(dialog).to_be_hidden()
        page.wait_for_function("window.Privet && window.Privet.saved >= 1")
        assert page.evaluate("Privet.choice().categories") == {
            "necessary": True,
            "preferences": False,
            "analytics": True,
            "marketing": False,
        }
        # Changed later: from the page's own link, then "reject all", still by keyboard
        tab_to(page, page.locator("#settings-link"), backwards=True)
        page.keyboard.press("Enter")
        expect(dialog).to_be_visible()
        reject = page.locator("#privet-banner .btns button").first
        tab_to(page, reject)
        page.keyboard.press("Enter")
        expect(dialog).to_be_hidden()
        expect(page.locator("#settings-link")).to_be_focused()  # the focus goes back where it was
        page.wait_for_function("window.Privet.saved >= 2")
        visitor = page.evaluate("Privet.choice().visitor")
    finally:
        context.close()
    with site.session() as session:
        rows = (
            session.execute(
                select(ConsentRecord).where(ConsentRecord.visitor_id == visitor).order_by(ConsentRecord.seq)
            )
            .scalars()
            .all()
        )
        analytics = [r.event for r in rows if r.purpose == "analytics.usage"]
        assert analytics[-2:] == ["given", "refused"], analytics  # the choice, then its change, on record
        assert all(r.language == "zh_CN" and r.method == "banner" for r in rows)
