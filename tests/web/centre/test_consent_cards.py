"""Consent cards on the Keptek demo: one card per choice the person can make, nothing to consent to for uses
needed for the service, the children's-account use only on a child's page, location tracks only to device owners."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import httpx
import pytest
from sqlalchemy import select

from tests.web.centre.conftest import code_for, sign_in

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
CHILD_CARD, LOCATION_CARD = "p-service-account", "p-service"


def _person(site, address: str, *, subject_type: str | None = None, age: int | None = None) -> str:
    """A subject made by the services, with a verified e-mail, a subject type and a recorded age; its id."""
    from privet.db.engine import begin_write
    from privet.subjects.ages import age_policy, set_birth_date
    from privet.subjects.service import create_subject

    keyring = site.app.state.keyring
    with site.session() as session:
        begin_write(session)  # SQLite: queue for the write lock like the served app does
        subject = create_subject(session, keyring, [("email", address, True)], actor="test", subject_type=subject_type)
        if age is not None:
            today = date.today()
            set_birth_date(
                session, keyring, subject, date(today.year - age, 1, 15), policy=age_policy(session), actor="test"
            )
        session.commit()
        return subject.id


@contextmanager
def _signed_in(site, address: str, language: str = "en") -> Iterator[httpx.Client]:
    """An HTTP client signed in to the centre as `address` through the code e-mail."""
    with httpx.Client(
        base_url=site.url,
        headers={"Accept": "text/html", "Accept-Language": language},
        follow_redirects=True,
        timeout=30,
    ) as client:
        _sign_in(client, site, address)
        yield client


def _sign_in(client: httpx.Client, site, address: str) -> None:
    form = client.get("/signin")
    answer = client.post("/signin", data={"identity": address, "csrf_token": CSRF.search(form.text).group(1)})
    hidden = dict(re.findall(r'type="hidden" name="(challenge_id|channel|next)" value="([^"]*)"', answer.text))
    client.post(
        "/signin/code",
        data={"code": code_for(site, address), "csrf_token": CSRF.search(answer.text).group(1), **hidden},
    )
    assert client.cookies.get("privet_subject"), "not signed in"


def _cards(html: str) -> dict[str, str]:
    """Card id → the card's HTML."""
    return dict(re.findall(r'<li class="purpose card[^"]*" id="([^"]+)">(.*?)</li>', html, re.S))


def test_an_adult_customer_sees_no_consent_asked_for_contract_uses_and_no_children_card(site, person) -> None:
    address = person()
    _person(site, address, subject_type="customer", age=40)
    with _signed_in(site, address) as client:
        html = client.get("/consents").text
    cards = _cards(html)
    assert CHILD_CARD not in cards and LOCATION_CARD not in cards
    assert "p-marketing-communications" in cards  # an ordinary consent the customer can give
    for key in ("service-order", "service-after-sales", "notice-updates", "security"):
        assert f"p-{key}" not in cards  # contract and legal obligation: nothing to give
    needed = html.split('id="needed-title"')[1].split("</section>")[0]
    assert "Account registration and login" in needed and "Contract" in needed and "Legal obligation" in needed
    assert "Information of a child" not in html and "Location track" not in html
    assert "recorded age is under 14" in html
    assert "We do not know which" not in html  # the subject type is known: no "for whom" guesswork


def test_a_person_recorded_under_the_child_age_sees_the_children_card_for_the_guardian(site, person) -> None:
    from privet.consent.models import ConsentRecord

    address = person()
    subject_id = _person(site, address, age=10)
    with _signed_in(site, address) as client:
        html = client.get("/consents").text
        refused = client.post(
            "/consents", data={"purpose": "service.account", "event": "given", "csrf_token": CSRF.search(html).group(1)}
        )
    card = _cards(html)[CHILD_CARD]
    assert "About a child" in card and "under 14" in card and 'data-state="off"' in card
    assert "Give consent" not in card and "Your guardian gives this consent" in card  # PIPL Art 31: not the child
    assert refused.status_code == 422  # as the ledger has it: a child's consent comes from a guardian
    with site.session() as session:
        assert session.execute(select(ConsentRecord).where(ConsentRecord.subject_id == subject_id)).first() is None


def test_a_guardian_sees_the_children_card_on_the_child_s_page_only(site, family) -> None:
    with _signed_in(site, family.guardian_email) as client:
        own = _cards(client.get("/consents").text)
        child = _cards(client.get(f"/consents?child={family.child_id}").text)
    assert CHILD_CARD not in own
    assert "About a child" in child[CHILD_CARD]


@pytest.mark.parametrize(("subject_type", "shown"), [("device_owner", True), ("customer", False), (None, True)])
def test_location_tracks_only_to_people_they_may_concern(site, person, subject_type, shown) -> None:
    address = person()
    _person(site, address, subject_type=subject_type, age=30)
    with _signed_in(site, address) as client:
        html = client.get("/consents").text
    cards = _cards(html)
    assert (LOCATION_CARD in cards) is shown
    if shown:
        assert "Location track" in cards[LOCATION_CARD]  # the sensitive category that makes it separate
    if subject_type is None:
        assert "For: Device owner" in cards[LOCATION_CARD] and "We do not know which" in html


def test_cards_read_in_chinese(site, person) -> None:
    address = person()
    _person(site, address, age=9)
    with _signed_in(site, address, "zh-CN") as client:
        html = client.get("/consents").text
    cards = _cards(html)
    assert "涉及儿童" in cards[CHILD_CARD] and "不满14周岁" in cards[CHILD_CARD]
    assert "行踪轨迹" in cards[LOCATION_CARD] and "适用对象" in cards[LOCATION_CARD]
    assert "提供服务所必需，无需征得同意" in html and "订立或履行合同所必需" in html


def test_a_guardian_gives_and_withdraws_on_the_children_card_as_separate_consent(site, family) -> None:
    from privet.consent.models import ConsentRecord

    with _signed_in(site, family.guardian_email) as client:
        token = CSRF.search(client.get(f"/consents?child={family.child_id}").text).group(1)
        for event in ("given", "withdrawn"):
            answer = client.post(
                "/consents",
                data={"purpose": "service.account", "event": event, "child": family.child_id, "csrf_token": token},
            )
            assert answer.status_code == 200 and "Your choice was recorded." in answer.text
            state = "on" if event == "given" else "off"
            assert f'data-state="{state}"' in _cards(answer.text)[CHILD_CARD]
    with site.session() as session:
        records = (
            session.execute(
                select(ConsentRecord).where(ConsentRecord.subject_id == family.child_id).order_by(ConsentRecord.seq)
            )
            .scalars()
            .all()
        )
    assert [(r.purpose, r.event, r.method, r.guardian_id) for r in records] == [
        ("service.account", "given", "guardian", family.guardian_id),
        ("service.account", "withdrawn", "guardian", family.guardian_id),
    ]
    assert {r.legal_basis for r in records} == {"separate_consent"}


@pytest.mark.promise("P27")
def test_in_chromium_a_guardian_finds_the_children_card_on_the_child_s_page_only(page, site, family) -> None:
    from playwright.sync_api import expect

    sign_in(page, site, family.guardian_email)
    expect(page.locator("h1")).to_have_text("My consents")
    expect(page.locator(f"#{CHILD_CARD}")).to_have_count(0)  # the guardian's own page: an adult
    expect(page.locator("section[aria-labelledby='needed-title']")).to_contain_text("Account registration and login")
    page.locator("section[aria-labelledby='children-title']").get_by_role(
        "link", name=re.compile("Manage consents")
    ).click()
    expect(page.locator(".acting")).to_contain_text("You are acting as guardian for:")
    card = page.locator(f"#{CHILD_CARD}")
    expect(card.locator(".kind")).to_contain_text("About a child")
    expect(card.locator(".badge")).to_have_attribute("data-state", "off")
    card.get_by_role("button", name=re.compile("Give consent")).click()
    expect(page.locator(".flash")).to_contain_text("Your choice was recorded.")
    expect(page.locator(f"#{CHILD_CARD} .badge")).to_have_attribute("data-state", "on")
    page.locator(f"#{CHILD_CARD}").get_by_role("button", name=re.compile("Withdraw consent")).click()
    expect(page.locator(f"#{CHILD_CARD} .badge")).to_have_attribute("data-state", "off")
    expect(page.locator("table.history")).to_contain_text("guardian")
