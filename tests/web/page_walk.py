"""The pages of the console, the privacy centre and the banner, for the layout, accessibility and keyboard tests.

The console's pages are walked from its menu (every link an admin sees) and one page of each kind those pages link
to (a request, an incident, a notice...), so a page added to the menu is covered without touching the tests. The
centre's are its menu, the pages its policy links to, the request form of each request type, and the pages a
signed-in person sees. The banner is the demo shop's page (tests/web/banner/conftest.py) in its three states.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from playwright.sync_api import expect

from tests.web.admin.test_browser import officer
from tests.web.centre.conftest import sign_in

LOCALES = {"en": "en-US", "zh_CN": "zh-CN"}
HTML_LANG = {"en": "en", "zh_CN": "zh-Hans"}
LINKS = "(els) => els.map(e => e.getAttribute('href'))"
DOWNLOAD = re.compile(r"\.[a-z]{2,5}$")  # /admin/records/records-of-processing.csv and the like: files, not pages
PER_KIND = 2  # pages of one kind (e.g. /admin/notices/<key>) walked at most


@contextmanager
def tab(browser, site, lang: str = "en", width: int = 1280) -> Iterator:
    """A page in a fresh context whose browser asks for `lang`, `width` px wide."""
    context = browser.new_context(
        base_url=site.url, locale=LOCALES[lang], viewport={"width": width, "height": 900 if width > 600 else 844}
    )
    context.set_default_timeout(20_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def opened(page, path: str, lang: str) -> str | None:
    """Open `path` and wait until the page is there in `lang` (its <html lang> and its heading); what went wrong."""
    answer = page.goto(path)
    if answer is None or answer.status != 200:
        return f"{path} answered {answer.status if answer else 'nothing'}"
    expect(page.locator("html")).to_have_attribute("lang", HTML_LANG[lang])
    expect(page.locator("main h1").first).to_be_visible()
    return None


def goto(page, path: str, lang: str) -> None:
    """`opened`, which must succeed."""
    problem = opened(page, path, lang)
    assert problem is None, problem


def log_in(page, site) -> None:
    username, password = officer(site, "admin")
    page.goto("/admin/login")
    page.locator("#username").fill(username)
    page.locator("#password").fill(password)
    page.locator("form[action='/admin/login'] button[type=submit]").click()
    expect(page.locator("nav.main")).to_be_visible()


def _kind(path: str) -> str:
    """`/admin/requests/A-AWYRMRL4` → `/admin/requests/#`: pages told apart by what their last part names."""
    head, _, last = path.rstrip("/").rpartition("/")
    return f"{head}/#" if any(ch.isdigit() for ch in last) else f"{head}/*"


def _linked(page, scope: str, keep: Callable[[str], bool]) -> list[str]:
    found = []
    for href in page.eval_on_selector_all(f":is({scope}) a[href^='/']", LINKS):
        path = href.split("#")[0]
        if path and "?" not in path and not DOWNLOAD.search(path) and keep(path):
            found.append(path)
    return list(dict.fromkeys(found))


def console_paths(page, lang: str = "en") -> list[str]:
    """Every console page in the menu, then up to PER_KIND pages of each kind they link to."""
    goto(page, "/admin", lang)
    menu = _linked(page, "nav.main, header", lambda p: p.startswith("/admin"))  # the menu, "Your password"
    paths, kinds = list(menu), {}
    for path in menu:
        if opened(page, path, lang):
            continue  # the tests that walk the pages say so
        for target in _linked(page, "main", lambda p: p.startswith("/admin/") and p != "/admin/logout"):
            kind = _kind(target)
            if target not in paths and kinds.get(kind, 0) < PER_KIND:
                kinds[kind] = kinds.get(kind, 0) + 1
                paths.append(target)
    return paths


def centre_paths(page, lang: str = "en") -> list[str]:
    """The centre's menu, what its policy page links to, and the request form of each request type."""
    goto(page, "/", lang)
    paths = _linked(page, "nav.main", lambda p: not p.startswith(("/admin", "/signout")))
    kinds: dict[str, int] = {}
    for target in _linked(page, "main", lambda p: p.startswith("/policy/")):
        if kinds.get(_kind(target), 0) < PER_KIND:
            kinds[_kind(target)] = kinds.get(_kind(target), 0) + 1
            paths.append(target)
    paths.append("/sources")
    goto(page, "/requests", lang)
    types = page.eval_on_selector_all("#choose-type input[name=type]", "(els) => els.map(e => e.value)")
    return list(dict.fromkeys(paths + [f"/requests?type={t}" for t in types]))


def signed_in_paths(page, site, address: str) -> list[str]:
    """Sign `address` in, file an access request through the form; the pages a signed-in person sees."""
    sign_in(page, site, address)
    page.goto("/requests?type=access")
    page.locator("#request-form button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/requests/[^/?]+"))
    reference = page.url.split("/requests/")[1].split("?")[0]
    return ["/consents", "/requests", f"/requests/{reference}"]


@dataclass
class BannerState:
    """One state of the cookie banner on the demo shop page: how to reach it, what to look at."""

    name: str
    reach: Callable  # (page) -> None, on a freshly opened shop page
    shown: str  # selector (inside the banner's shadow root) that is visible in this state


def _first(page) -> None:
    expect(page.locator("#privet-banner [role=dialog]")).to_be_visible()


def _customised(page) -> None:
    _first(page)
    page.locator("#privet-banner button[aria-controls='pv-p']").click()
    expect(page.locator("#privet-banner #pv-p")).to_be_visible()


def _chosen(page) -> None:
    _first(page)
    page.locator("#privet-banner .btns button").first.click()  # reject all
    expect(page.locator("#privet-banner button.re")).to_be_visible()


BANNER_STATES = (
    BannerState("dialog", _first, "[role=dialog]"),
    BannerState("customise", _customised, "#pv-p"),
    BannerState("after a choice", _chosen, "button.re"),
)


def wide_report(lang: str) -> str:
    """An access package's report.html with a table of many columns and long values (generated data), the columns
    named in the data map by category."""
    from faker import Faker

    from privet.requests.packages.service import render_report

    fake = Faker("zh_CN" if lang == "zh_CN" else "en_US")
    labels = {"email": "E-mail address", "phone": "Phone number", "ip_address": "IP address", "user_agent": "Device"}
    columns = [
        "id",
        "name",
        "email",
        "phone",
        "ip_address",
        "user_agent",
        "referrer",
        "address",
        "note",
        "created_at",
        "updated_at",
        "status",
        "loyalty_tier",
        "marketing_opt_in",
    ]
    rows = [
        {
            "id": n,
            "name": fake.name(),
            "email": fake.email(),
            "phone": fake.phone_number(),
            "ip_address": fake.ipv4(),
            "user_agent": fake.user_agent(),
            "referrer": fake.url() + "x" * 90,
            "address": fake.address(),
            "note": fake.paragraph(nb_sentences=4),
            "created_at": "2031-01-01T00:00:00",
            "updated_at": "2031-02-01T00:00:00",
            "status": "active",
            "loyalty_tier": "gold",
            "marketing_opt_in": True,
        }
        for n in range(3)
    ]
    explanation = {
        "datasets": [
            {
                "datastore": "crm",
                "key": "crm_accounts",
                "description": "Customer accounts.",
                "tables": [
                    {
                        "name": "customers",
                        "description": "One row per account.",
                        "fields": [{"name": c, "category_name": labels.get(c)} for c in columns],
                    }
                ],
            }
        ]
    }
    meta = {"reference": "R-WIDE0001", "type": "access", "identity_type": "email"}
    return render_report(meta, {"crm": {"customers": rows}}, explanation, lang)
