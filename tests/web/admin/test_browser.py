"""The admin console in a real browser (Chromium): log in, refuse a request with a previewed reason and find it
in the audit trail, roles and the 403 page, the dashboard's charts, the audit chain's status."""

from __future__ import annotations

import itertools
import time

from faker import Faker

from privet.db.engine import begin_write
from privet.requests.intake import service as intake


def officer(site, role: str) -> tuple[str, str]:
    """`site.officer(role)`, retried: it writes without taking SQLite's write lock first, so a write by the served
    app in between can make it fail at once ("database is locked"); nothing is kept from a failed try."""
    from sqlalchemy.exc import OperationalError

    for attempt in range(5):
        try:
            return site.officer(role)
        except OperationalError:
            if attempt == 4:
                raise
            time.sleep(0.2)
    raise AssertionError("unreachable")


def log_in(page, site, role: str, next_path: str = "/admin") -> None:
    username, password = officer(site, role)
    page.goto(f"/admin/login?next={next_path}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"**{next_path}")


def _file_request(site) -> str:
    with site.session() as session:
        begin_write(session)  # the served app writes too: queue for SQLite's write lock first
        found = intake.file_request(
            session,
            site.app.state.keyring,
            site.settings,
            request_type="access",
            identity_type="email",
            identity=Faker().unique.email(domain="example.com"),
            filed_by="test",
            channel="api",
        )
        session.commit()
        return found.reference


def test_an_officer_refuses_a_request_and_sees_it_in_the_audit_trail(page, site) -> None:
    reference = _file_request(site)
    page.goto("/admin/requests")
    assert "/admin/login" in page.url  # anonymous: sent to log in first
    page.get_by_label("Username").fill(officer(site, "privacy_officer")[0])
    page.get_by_label("Password").fill(officer(site, "privacy_officer")[1])
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/admin/requests")
    page.get_by_role("link", name=reference).click()
    assert reference in page.title() and "@" not in page.title()
    page.get_by_label("Refuse with the reason").select_option("trade_secret")
    page.get_by_label("Note to the requester (optional, no personal data)").fill("Supplier terms are protected")
    page.get_by_role("button", name="Preview the refusal").click()
    preview = page.locator("#refusal-preview")
    assert "The request concerns trade secrets." in preview.inner_text()
    assert "Supplier terms are protected" in preview.inner_text()
    page.get_by_role("button", name="Refuse and send this message").click()
    page.wait_for_url(f"**/admin/requests/{reference}?done=refused")
    assert "refused" in page.get_by_role("status").inner_text()
    assert page.locator("#request-status").inner_text() == "Refused"
    trail = page.locator("#trail")
    refused_row = trail.locator("tr", has_text="request.refused")
    assert refused_row.count() == 1 and "code=trade_secret" in refused_row.inner_text()
    assert officer(site, "privacy_officer")[0] in refused_row.inner_text()


def test_a_bad_password_is_refused_with_a_clear_message(page, site) -> None:
    username, _password = officer(site, "agent")
    page.goto("/admin/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("not-the-password-123")
    page.get_by_role("button", name="Log in").click()
    assert "Wrong username or password" in page.get_by_role("alert").inner_text()
    assert not [c for c in page.context.cookies() if c["name"] == "privet_session"]


def test_wrong_roles_get_the_403_page(page, site) -> None:
    log_in(page, site, "auditor")
    answer = page.goto("/admin/users")
    assert answer.status == 403 and "Your role cannot open this page" in page.content()
    assert page.get_by_role("link", name="Users and API keys").count() == 0
    page.context.clear_cookies()
    log_in(page, site, "agent")
    for path in ("/admin/users", "/admin/audit"):
        assert page.goto(path).status == 403


def test_the_dashboard_shows_charts_with_titles_legends_and_axes(page, site) -> None:
    from playwright.sync_api import expect

    from privet.consent.visitors import record_cookie_choice

    with site.session() as session:
        begin_write(session)
        for n, gpc in enumerate((False, False, True)):
            record_cookie_choice(
                session,
                visitor_id=f"dash-visitor-{n}-{Faker().uuid4()[:8]}",
                categories={"analytics": n == 0, "marketing": n == 0},
                gpc=gpc,
                actor="test",
            )
        session.commit()
    _file_request(site)
    log_in(page, site, "privacy_officer")
    charts = page.locator("svg.chart[role=img]")
    expect(charts).to_have_count(4)
    titles = [
        "Open requests by deadline",
        "People with consent now, by purpose",
        "Banner visitors per week",
        "Banner choices by category, last eight weeks",
    ]
    for i, title in enumerate(titles):
        expect(charts.nth(i).locator("title").first).to_have_text(title)
        expect(charts.nth(i).locator("desc")).to_have_count(1)
        expect(charts.nth(i).locator("text.axis-title")).to_have_count(2)
    expect(page.locator("ul.legend")).to_have_count(4)
    expect(page.locator("ul.legend").nth(2)).to_contain_text("Made a banner choice")
    expect(page.locator("ul.legend").nth(2)).to_contain_text("Sent GPC")
    expect(page.locator("ul.legend").nth(3)).to_contain_text("Allowed")
    expect(page.locator("#chart-consent rect.bar").first).to_be_visible()
    expect(page.locator("#chart-deadlines rect.bar")).to_have_count(4)
    expect(page.locator("#consent-now tbody tr").first).to_be_visible()
    expect(page.locator("#banner-total")).to_contain_text("Visitors who made a banner choice in the last eight weeks")
    page.get_by_text("The figures as a table").first.click()  # the numbers behind the chart, as a table
    expect(page.locator("figure.chart table").first).to_be_visible()


def test_consent_lookup_finds_a_banner_visitor_and_says_when_it_cannot(page, site) -> None:
    from playwright.sync_api import expect

    from privet.consent.visitors import record_cookie_choice

    visitor = "v-" + Faker().hexify("^" * 24)
    with site.session() as session:
        begin_write(session)
        record_cookie_choice(session, visitor_id=visitor, categories={"analytics": True}, gpc=False, actor="test")
        session.commit()
    log_in(page, site, "agent", "/admin/consent")
    page.get_by_label("Identity type").select_option("visitor")
    page.get_by_label("Identity", exact=True).fill(visitor)
    page.get_by_role("button", name="Look up").click()
    expect(page.get_by_role("heading", name=f"Banner visitor {visitor}")).to_be_visible()
    history = page.locator("section", has=page.get_by_role("heading", name="Ledger history"))
    expect(history.locator("tbody tr").first).to_contain_text("given")
    expect(
        page.locator("section", has=page.get_by_role("heading", name="Current consents")).locator("tbody tr").first
    ).to_be_visible()
    assert visitor not in page.url
    page.get_by_label("Identity type").select_option("visitor")
    page.get_by_label("Identity", exact=True).fill("v-" + Faker().hexify("^" * 24))
    page.get_by_role("button", name="Look up").click()
    expect(page.get_by_role("alert")).to_contain_text("No banner choice is recorded for this visitor id")
    page.get_by_label("Identity type").select_option("visitor")
    page.get_by_label("Identity", exact=True).fill("v-bad id!")
    page.get_by_role("button", name="Look up").click()
    expect(page.get_by_role("alert")).to_contain_text("That is not a visitor id")


def test_the_audit_page_shows_the_chain_verified(page, site) -> None:
    log_in(page, site, "auditor", "/admin/audit")
    status = page.locator("#chain-status")
    assert "Chain verified" in status.inner_text()
    assert page.locator("table tbody tr").count() > 0


def test_login_and_logout_by_keyboard_only(page, site) -> None:
    username, password = officer(site, "agent")
    page.goto("/admin/login")
    assert page.evaluate("document.activeElement.id") == "username"  # the form takes the focus on arrival
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(password)
    page.keyboard.press("Enter")
    page.wait_for_url("**/admin")
    page.get_by_role("button", name="Log out").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/admin/login")
    assert page.goto("/admin").url.endswith("/admin/login?next=/admin")


def test_an_agent_watches_the_plan_completes_a_manual_task_and_opens_the_package(page, site) -> None:
    from privet.requests.intake import verify

    with site.session() as session:
        begin_write(session)
        filed = intake.file_request(
            session,
            site.app.state.keyring,
            site.settings,
            request_type="access",
            identity_type="email",
            identity=Faker().unique.email(domain="example.com"),
            filed_by="test",
            channel="staff_phone",
        )
        verify.record_identity_check(
            session, site.app.state.keyring, site.settings, filed, method="call_back", note=None, actor="test"
        )
        session.commit()
        reference = filed.reference
    log_in(page, site, "agent", f"/admin/requests/{reference}")
    for _ in range(60):  # the served app's job runner fetches from each datastore; the paper archive waits
        if page.locator("button", has_text="Show whom to look for").count():
            break
        time.sleep(0.5)
        page.reload()
    assert page.locator("#progress").get_attribute("max") == "5"
    page.get_by_role("button", name="Show whom to look for").click()
    assert "@example.com" in page.locator(".secret").inner_text() and "@" not in page.title()
    page.get_by_label("What was done (no personal data)").fill("Nothing found in the paper archive")
    page.get_by_role("button", name="Complete the task").click()
    page.wait_for_url(f"**/admin/requests/{reference}?done=task_done")
    for _ in range(60):  # the package is built by a job once the last step is done
        if page.get_by_role("button", name="Download the package").count():
            break
        time.sleep(0.5)
        page.reload()
    assert page.locator("#request-status").inner_text() == "Completed"
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the package").click()
    assert download.value.suggested_filename == f"privet-{reference}.zip"
    page.goto(f"/admin/requests/{reference}")
    trail = page.locator("#trail").inner_text()
    assert "task.identity_shown" in trail and "task.completed" in trail and "package.opened_by_staff" in trail


def test_consent_lookup_shows_history_and_a_receipt_without_the_identity_in_the_url(page, site) -> None:
    from privet.consent.ledger import service as ledger
    from privet.consent.ledger.rules import current_policy
    from privet.subjects.service import create_subject

    email = Faker().unique.email(domain="example.com")
    with site.session() as session:
        begin_write(session)
        subject = create_subject(session, site.app.state.keyring, [("email", email, True)], actor="test")
        purpose = next(k for k, r in sorted(current_policy(session).purposes.items()) if r.consent_bases)
        ledger.record(session, subject_id=subject.id, purpose=purpose, event="given", method="staff", actor="test")
        ledger.record(session, subject_id=subject.id, purpose=purpose, event="withdrawn", method="staff", actor="test")
        session.commit()
    log_in(page, site, "agent", "/admin/consent")
    page.get_by_label("Identity type").select_option("email")
    page.get_by_label("Identity", exact=True).fill(email)
    page.get_by_role("button", name="Look up").click()
    assert email not in page.url and email not in page.content() and subject.id in page.content()
    history = page.locator("section", has=page.get_by_role("heading", name="Ledger history"))
    assert history.locator("tbody tr").count() == 2 and "withdrawn" in history.inner_text()
    history.get_by_role("link", name="Receipt").first.click()
    record = page.locator("#receipt-record").inner_text()  # the receipt read as a record, the JSON folded away
    assert "Consent withdrawn" in record or "Consent given" in record
    assert "Signature valid" in page.content()
    page.get_by_text("The signed JSON").click()
    assert '"signature"' in page.locator("pre").inner_text() and email not in page.content()


UNLABELLED = """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea, button')]
  .filter(el => el.tagName === 'BUTTON' ? !el.innerText.trim() && !el.getAttribute('aria-label')
                                        : !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
  .map(el => el.outerHTML.slice(0, 120))"""
HEADINGS = "() => [...document.querySelectorAll('main h1, main h2, main h3')].map(h => Number(h.tagName[1]))"


def test_every_page_has_labelled_controls_and_ordered_headings(page, site) -> None:
    reference = _file_request(site)
    blocked = []
    page.on(
        "console", lambda message: blocked.append(message.text) if "Content Security Policy" in message.text else None
    )
    log_in(page, site, "admin")
    for path in (
        "/admin",
        "/admin/requests",
        f"/admin/requests/{reference}",
        "/admin/datamap?q=email",
        "/admin/consent",
        "/admin/notices",
        "/admin/users",
        "/admin/audit",
        "/admin/password",
        "/admin?lang=zh_CN",
    ):
        assert page.goto(path).status == 200, path
        assert page.evaluate(UNLABELLED) == [], path
        levels = page.evaluate(HEADINGS)
        assert levels[0] == 1 and levels.count(1) == 1, path
        assert all(b - a <= 1 for a, b in itertools.pairwise(levels)), (path, levels)
    assert page.locator("html").get_attribute("lang") == "zh-Hans" and "概览" in page.title()
    assert blocked == []  # nothing on the pages breaks the Content-Security-Policy
