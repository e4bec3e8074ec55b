"""The console's retention runs in a real browser (Chromium): an officer starts a dry run and watches the page
follow it to the end, table by table, in English and in Chinese. A dry run changes nothing in the shared site."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.web.admin.test_browser import log_in


def _dry_run(page, start: str, done: str) -> None:
    page.get_by_role("button", name=start).click()
    page.wait_for_url(re.compile(r".*/admin/retention/runs/[A-Za-z0-9]+\?done=started$"))
    expect(page.locator("#run-status")).to_have_text(done, timeout=60_000)  # the page refreshes itself meanwhile
    finished, total = page.locator("#run-finished").inner_text().split(" / ")
    assert int(total) > 0 and finished == total
    assert page.locator("#run-tables tbody tr").count() == int(total)


def test_an_officer_starts_a_dry_run_and_watches_it_finish_in_english_and_chinese(page, site) -> None:
    log_in(page, site, "privacy_officer", "/admin/retention")
    expect(page.get_by_role("radio", name=re.compile("^Dry run:"))).to_be_checked()
    _dry_run(page, "Start the run", "Dry run done")
    assert "no row was deleted or changed" in page.locator("main").inner_text()
    page.goto("/admin/retention?lang=zh_CN")
    expect(page.get_by_role("radio", name=re.compile("^试运行："))).to_be_checked()
    _dry_run(page, "开始运行", "试运行已完成")
    assert "没有任何行被删除或修改" in page.locator("main").inner_text()
