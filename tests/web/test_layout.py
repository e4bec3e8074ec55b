"""Layout that holds: every console, centre and banner page at 1280 and 390 px wide has no horizontal scrolling,
nothing sticking out of the window or cut off, pills and references on one line, tables that scroll in their own
box, and a menu in one row (wide) or a tidy compact one (narrow). A failing page is saved as a screenshot."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.web.banner.conftest import shop  # noqa: F401 - the demo website fixture
from tests.web.centre.conftest import person  # noqa: F401 - generated e-mail addresses
from tests.web.page_walk import (
    BANNER_STATES,
    centre_paths,
    console_paths,
    goto,
    log_in,
    opened,
    signed_in_paths,
    tab,
    wide_report,
)

WIDTHS = (1280, 390)

# What a reader of the page would call broken, as a list of sentences (empty when the layout holds).
PROBLEMS = r"""([scope, wide]) => {
  const doc = document.documentElement, width = doc.clientWidth, out = [];
  const root = scope ? document.querySelector(scope).shadowRoot : document;
  const all = [...root.querySelectorAll('*')];
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (el.classList.length ? '.' + [...el.classList].join('.') : '') +
    ' "' + (el.innerText || '').trim().slice(0, 40) + '"';
  const hidden = (el) => el.closest('.visually-hidden, .sr, .skip, [hidden]') || !el.getClientRects().length;
  const scroller = (el) => {
    for (let p = el.parentElement; p; p = p.parentElement || (p.getRootNode().host || null)) {
      const o = getComputedStyle(p).overflowX;
      if ((o === 'auto' || o === 'scroll') && p !== doc && p !== document.body) return p;
    }
    return null;
  };
  if (doc.scrollWidth > width) out.push(`the page is ${doc.scrollWidth}px wide in a ${width}px window`);
  for (const el of all) {
    if (hidden(el)) continue;
    const box = el.getBoundingClientRect(), style = getComputedStyle(el);
    if (box.width && (box.right > width + 1 || box.left < -1) && !scroller(el) && style.position !== 'fixed')
      out.push(`sticks out of the window (${Math.round(box.left)}..${Math.round(box.right)}px): ${name(el)}`);
    const control = el.matches('input, textarea, select:not([multiple])') || (!wide && el.matches('select'));
    if ((style.overflowX === 'hidden' || style.overflowX === 'clip') && el.scrollWidth > el.clientWidth + 1 && !control)
      out.push(`cut off (${el.scrollWidth}px of text in ${el.clientWidth}px): ${name(el)}`);
  }
  const reference = /^[A-Z]{1,4}-[0-9A-Z]{4,}$/;  // R-K3STKPPH, A-W2DL6GFJ
  const pills = [...root.querySelectorAll('.badge, .reference, .ref, [data-status]')]
    .filter(el => el.innerText.trim().split(/\s+/).length <= 4)  // a pill holding a sentence wraps between words
    .concat(all.filter(el => (el.tagName === 'A' || el.tagName === 'CODE') && reference.test(el.innerText.trim())));
  for (const el of pills) {
    if (hidden(el)) continue;
    if (getComputedStyle(el).whiteSpace !== 'nowrap' || el.getClientRects().length > 1)
      out.push(`may break mid-word (a pill or reference must stay on one line): ${name(el)}`);
  }
  return [...new Set(out)].slice(0, 12);
}"""

# The menu: when wide, in one row or one column; when narrow, every item on one line; none broken over two lines.
MENU = r"""(wide) => {
  const links = [...document.querySelectorAll('nav.main a, nav.main button')].filter(el => el.getClientRects().length);
  const out = [], at = (side) => new Set(links.map(el => Math.round(el.getBoundingClientRect()[side]))).size;
  if (wide && at('top') > 1 && at('left') > 1) out.push(`the menu wraps into ${at('top')} rows`);
  for (const el of links) if (el.getClientRects().length > 1 || getComputedStyle(el).whiteSpace !== 'nowrap')
    out.push(`a menu item may break over two lines: "${el.innerText.trim()}"`);
  return out;
}"""


def _check(page, label: str, shots: list[str], problems: list[str], scope: str | None = None) -> None:
    found = page.evaluate(PROBLEMS, [scope, page.viewport_size["width"] > 1000])
    if found:
        folder = Path(tempfile.gettempdir()) / "privet-layout"
        folder.mkdir(exist_ok=True)
        shot = folder / (label.strip("/").replace("/", "_").replace("?", "_").replace(" ", "_") + ".png")
        page.screenshot(path=shot, full_page=True)
        shots.append(str(shot))
        problems += [f"{label}: {p}" for p in found]


def _report(problems: list[str], shots: list[str]) -> str:
    return "\n".join(problems) + "\nscreenshots: " + " ".join(shots)


def test_console_pages_hold_at_both_widths(browser, site) -> None:
    problems: list[str] = []
    shots: list[str] = []
    with tab(browser, site) as page:
        log_in(page, site)
        paths = console_paths(page)
        assert len(paths) > 12 and "/admin/datamap" in paths and any(p.startswith("/admin/requests/") for p in paths)
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            for path in paths:
                failed = opened(page, path, "en")
                if failed:
                    problems.append(failed)
                    continue
                _check(page, f"{width}px {path}", shots, problems)
            problems += [f"{width}px menu: {p}" for p in page.evaluate(MENU, width > 1000)]
    assert not problems, _report(problems, shots)


def test_console_login_and_chinese_pages_hold_when_narrow(browser, site) -> None:
    problems: list[str] = []
    shots: list[str] = []
    with tab(browser, site, lang="zh_CN", width=390) as page:
        goto(page, "/admin/login", "zh_CN")
        _check(page, "390px zh /admin/login", shots, problems)
        log_in(page, site)
        for path in ("/admin", "/admin/requests", "/admin/audit", "/admin/registers"):
            goto(page, path, "zh_CN")
            _check(page, f"390px zh {path}", shots, problems)
        page.set_viewport_size({"width": 1280, "height": 900})
        goto(page, "/admin", "zh_CN")
        problems += [f"1280px zh menu: {p}" for p in page.evaluate(MENU, True)]
    assert not problems, _report(problems, shots)


def test_centre_pages_hold_at_both_widths(browser, site, person) -> None:
    problems: list[str] = []
    shots: list[str] = []
    with tab(browser, site) as page:
        public = centre_paths(page)
        assert "/" in public and "/signin" in public and "/requests?type=access" in public
        mine = signed_in_paths(page, site, person())
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            for path in mine + [p for p in public if p != "/signin"]:
                goto(page, path, "en")
                _check(page, f"{width}px {path}", shots, problems)
            problems += [f"{width}px menu: {p}" for p in page.evaluate(MENU, width > 1000)]
    with tab(browser, site, width=390) as page:  # signed out: the sign-in and code pages
        goto(page, "/signin", "en")
        _check(page, "390px /signin", shots, problems)
        page.locator("#identity").fill(person())
        page.locator("form[action='/signin'] button[type=submit]").click()
        expect(page.locator("#code")).to_be_visible()
        _check(page, "390px code page", shots, problems)
    assert not problems, _report(problems, shots)


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_the_banner_holds_at_both_widths(browser, shop, lang: str) -> None:
    problems: list[str] = []
    shots: list[str] = []
    for width in WIDTHS:
        for state in BANNER_STATES:
            context = browser.new_context(locale=lang, viewport={"width": width, "height": 844})
            page = context.new_page()
            page.goto(f"{shop}/page?site=shop&lang={lang}")
            state.reach(page)
            _check(page, f"{width}px banner {lang} {state.name}", shots, problems)
            _check(page, f"{width}px banner {lang} {state.name}", shots, problems, scope="#privet-banner")
            context.close()
    assert not problems, _report(problems, shots)


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_the_access_report_holds_and_names_columns_readably(browser, lang: str) -> None:
    problems: list[str] = []
    shots: list[str] = []
    for width in WIDTHS:
        context = browser.new_context(viewport={"width": width, "height": 900})
        page = context.new_page()
        page.set_content(wide_report(lang))
        box = page.locator(".scroll").first
        expect(box.locator("th").nth(2)).to_contain_text("E-mail address")  # the data map's name, then the column
        expect(box.locator("th code").first).to_have_text("email")
        _check(page, f"{width}px report {lang}", shots, problems)
        if width < 1000:  # the table is wider than the phone: it scrolls in its box, which the keyboard reaches
            assert box.evaluate("(e) => e.scrollWidth > e.clientWidth")
            box.focus()
            expect(box).to_be_focused()
            page.keyboard.press("ArrowRight")
            expect(box).not_to_have_js_property("scrollLeft", 0)
        context.close()
    assert not problems, _report(problems, shots)
