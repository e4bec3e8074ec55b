"""Accessible: axe-core, run in Debian's Chromium, finds no serious or critical violation on any console, centre or
banner page, in English or Chinese. The pages are walked as in the layout test (tests/web/page_walk.py)."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.web.banner.conftest import shop  # noqa: F401 - the demo website fixture
from tests.web.centre.conftest import person  # noqa: F401 - generated e-mail addresses
from tests.web.page_walk import (
    BANNER_STATES,
    HTML_LANG,
    LOCALES,
    centre_paths,
    console_paths,
    log_in,
    opened,
    signed_in_paths,
    tab,
    wide_report,
)

AXE = Axe()
BAD = ("serious", "critical")
LANGS = ("en", "zh_CN")


def violations(page, label: str, context: dict | None = None) -> list[str]:
    """The serious and critical violations axe finds on the page: rule, impact, where (CSS selectors)."""
    found = AXE.run(page, context=context).response["violations"]
    return [
        f"{label}: {v['id']} ({v['impact']}) at " + "; ".join(" >> ".join(n["target"]) for n in v["nodes"][:6])
        for v in found
        if v["impact"] in BAD
    ]


def _walk(page, paths: list[str], lang: str) -> list[str]:
    problems = []
    for path in paths:
        failed = opened(page, path, lang)
        problems += [failed] if failed else violations(page, f"{lang} {path}")
    return problems


@pytest.mark.parametrize("lang", LANGS)
def test_console_pages_have_no_serious_violations(browser, site, lang: str) -> None:
    with tab(browser, site, lang=lang) as page:
        page.goto("/admin/login")
        problems = violations(page, f"{lang} /admin/login")
        log_in(page, site)
        paths = console_paths(page, lang)
        assert "/admin/datamap" in paths and any(p.startswith("/admin/requests/") for p in paths)
        problems += _walk(page, paths, lang)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("lang", LANGS)
def test_centre_pages_have_no_serious_violations(browser, site, person, lang: str) -> None:
    with tab(browser, site, lang=lang) as page:
        problems = _walk(page, centre_paths(page, lang), lang)
        page.goto("/requests?type=access")  # signed out: the request form asks for a code
        page.locator("#identity").fill(person())
        page.locator("#request-form button[type=submit]").click()
        expect(page.locator("#code")).to_be_visible()
        problems += violations(page, f"{lang} code page")
        problems += _walk(page, signed_in_paths(page, site, person()), lang)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("lang", LANGS)
def test_banner_has_no_serious_violations(browser, shop, lang: str) -> None:
    problems = []
    for state in BANNER_STATES:
        context = browser.new_context(locale=LOCALES[lang])
        page = context.new_page()
        page.goto(f"{shop}/page?site=shop&lang={LOCALES[lang]}")
        state.reach(page)
        expect(page.locator(f"#privet-banner {state.shown}")).to_be_visible()
        if state.shown == "[role=dialog]":
            expect(page.locator("#privet-banner [role=dialog]")).to_have_attribute("lang", HTML_LANG[lang])
        problems += violations(page, f"{lang} banner, {state.name}", context={"include": [["#privet-banner"]]})
        context.close()
    assert not problems, "\n".join(problems)


def test_the_access_report_has_no_serious_violations(browser) -> None:
    page = browser.new_page()
    problems = []
    for lang in LANGS:
        page.set_content(wide_report(lang))
        expect(page.locator("table").first).to_be_visible()
        problems += violations(page, f"{lang} report.html")
    page.close()
    assert not problems, "\n".join(problems)
