"""The served site opens in a real browser, in both languages, and the admin console starts at its login."""

from __future__ import annotations


def test_the_centre_opens_in_chinese_and_english(browser, site) -> None:
    context = browser.new_context(base_url=site.url, locale="zh-CN")
    tab = context.new_page()
    tab.goto("/")
    assert tab.locator("html").get_attribute("lang") == "zh-Hans" and "隐私中心" in tab.title()
    tab.get_by_role("link", name="English").click()
    assert tab.locator("html").get_attribute("lang") == "en"
    tab.goto("/")  # the choice is remembered
    assert tab.locator("html").get_attribute("lang") == "en"
    context.close()


def test_admin_redirects_to_login(page, site) -> None:
    page.goto("/admin")
    assert "/admin/login?next=/admin" in page.url
