"""The request form per type on the Keptek demo: each type asks only what it needs (withdrawal: the uses the person
consented to; rectification: fields grouped as people know them; restriction: the mode; complaint: the text), the
filed request's page repeats what was asked, and anything not offered is refused with nothing filed."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import func, select

from tests.web.centre.test_consent_cards import CSRF, _person, _signed_in

CHANGE = re.compile(r'name="change:([^"]+)"')
PURPOSE = re.compile(r'name="purposes" value="([^"]+)"')


def _form(html: str) -> str:
    return html.split('id="new-title"')[1].split("</section>")[0]


def _give(site, subject_id: str, *purposes: str) -> None:
    from privet.consent.ledger import service as ledger
    from privet.db.engine import begin_write

    with site.session() as session:
        begin_write(session)
        for purpose in purposes:
            ledger.record(session, subject_id=subject_id, purpose=purpose, event="given", method="form", actor="test")
        session.commit()


def _count(site) -> int:
    from privet.requests.models import DsrRequest

    with site.session() as session:
        return session.scalar(select(func.count()).select_from(DsrRequest))


def _file(client: httpx.Client, request_type: str, data: dict) -> httpx.Response:
    form = client.get(f"/requests?type={request_type}")
    return client.post("/requests", data={"type": request_type, "csrf_token": CSRF.search(form.text).group(1), **data})


def _filed(site, reference: str):
    from privet.requests.models import DsrRequest

    with site.session() as session:
        return session.execute(select(DsrRequest).where(DsrRequest.reference == reference)).scalar_one()


def _asked(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html.split('id="asked-title"')[1].split("</section>")[0]))


def test_the_type_comes_first_and_types_without_details_ask_nothing_more(site, person) -> None:
    with httpx.Client(base_url=site.url, headers={"Accept": "text/html"}) as client:
        first = _form(client.get("/requests").text)
        assert 'method="get"' in first and 'name="type"' in first and "csrf_token" not in first
        for kind in ("access", "erasure", "closure", "explanation", "portability"):
            form = _form(client.get(f"/requests?type={kind}").text)
            assert 'name="type" value="' + kind + '"' in form and 'name="identity"' in form
            assert not PURPOSE.search(form) and not CHANGE.search(form) and 'name="mode"' not in form
            assert 'name="text"' not in form


def test_withdrawal_lists_only_the_uses_the_person_consented_to(site, person) -> None:
    from privet.consent.ledger.rules import current_policy

    address = person()
    subject_id = _person(site, address, subject_type="customer", age=40)
    _give(site, subject_id, "marketing.communications", "marketing.events")
    with site.session() as session:
        policy = current_policy(session)
        not_consent = {k for k, r in policy.purposes.items() if not r.consent_bases}
        consent_based = {k for k, r in policy.purposes.items() if r.consent_bases}
    assert "security" in not_consent
    with _signed_in(site, address) as client:
        form = _form(client.get("/requests?type=withdrawal").text)
        assert set(PURPOSE.findall(form)) == {"marketing.communications", "marketing.events"}
        assert not CHANGE.search(form) and 'name="mode"' not in form and 'name="text"' not in form
        before = _count(site)
        refused = _file(client, "withdrawal", {"purposes": ["marketing.communications", "marketing.personalisation"]})
        assert refused.status_code == 422 and 'role="alert"' in refused.text
        assert "You have not given consent to one of the uses chosen" in refused.text
        refused = _file(client, "withdrawal", {"purposes": ["security"]})
        assert refused.status_code == 422 and _count(site) == before
        answer = _file(client, "withdrawal", {"purposes": ["marketing.events"]})
        assert answer.status_code == 200 and "/requests/R-" in str(answer.url)
        assert "Event invitations" in _asked(answer.text) or "event" in _asked(answer.text).lower()
        filed = _filed(site, str(answer.url).split("/requests/")[1].split("?")[0])
        assert filed.details["purposes"] == ["marketing.events"]
        assert "What was done" in answer.text
    with httpx.Client(base_url=site.url, headers={"Accept": "text/html"}) as anonymous:
        shown = set(PURPOSE.findall(_form(anonymous.get("/requests?type=withdrawal").text)))
        assert shown and shown <= consent_based and not shown & not_consent


def test_rectification_offers_fields_grouped_as_people_know_them(site, person) -> None:
    address = person()
    _person(site, address, subject_type="customer", age=40)
    with _signed_in(site, address) as client:
        page = client.get("/requests?type=rectification").text
        form = _form(page)
        fields = set(CHANGE.findall(form))
        assert {"user.name", "user.contact.phone"} <= fields
        assert not {f for f in fields if f.startswith(("user.behavior", "user.device", "user.authorization"))}
        legends = re.findall(r"<legend>([^<]+)</legend>", form)
        assert {"Name", "Contact details", "Postal address"} <= set(legends)
        assert not PURPOSE.search(form) and 'name="text"' not in form
        before = _count(site)
        for wrong in ("user.behavior.clicks", "no.such.thing"):
            refused = _file(client, "rectification", {f"change:{wrong}": "x"})
            assert refused.status_code == 422 and "This information cannot be corrected here" in refused.text
        empty = _file(client, "rectification", {"change:user.name": ""})
        assert empty.status_code == 422 and "at least one field" in empty.text
        assert _count(site) == before
        answer = _file(client, "rectification", {"change:user.name": "Mei Lin Corrected"})
        assert "/requests/R-" in str(answer.url), answer.text[-3000:]
        assert "Name: Mei Lin Corrected" in _asked(answer.text)
        filed = _filed(site, str(answer.url).split("/requests/")[1].split("?")[0])
        assert filed.details["categories"] == ["user.name"]
        zh = client.get("/requests?type=rectification", headers={"Accept-Language": "zh-CN"}).text
        assert "联系方式" in _form(zh) and "姓名" in _form(zh)


def test_restriction_asks_the_mode_and_the_page_repeats_it(site, person) -> None:
    from privet.consent.ledger.rules import current_policy

    address = person()
    _person(site, address, subject_type="customer", age=40)
    with site.session() as session:
        policy = current_policy(session)
        only_law = {k for k, r in policy.purposes.items() if r.bases and r.bases <= {"legal_obligation"}}
    with _signed_in(site, address) as client:
        form = _form(client.get("/requests?type=restriction").text)
        offered = PURPOSE.findall(form)
        assert offered and not set(offered) & only_law
        assert 'name="mode" value="object"' in form and 'name="mode" value="restrict"' in form
        assert not CHANGE.search(form) and 'name="text"' not in form
        answer = _file(client, "restriction", {"purposes": [offered[0]], "mode": "restrict"})
        assert "/requests/R-" in str(answer.url), answer.text[-3000:]
        assert "Restrict: keep the data but do not use it" in _asked(answer.text)
        filed = _filed(site, str(answer.url).split("/requests/")[1].split("?")[0])
        assert filed.details == {"purposes": [offered[0]], "mode": "restrict"}


def test_a_complaint_asks_the_text_and_the_page_repeats_it_to_the_person(site, person) -> None:
    address = person()
    _person(site, address, subject_type="customer", age=40)
    with _signed_in(site, address) as client:
        form = _form(client.get("/requests?type=complaint").text)
        assert 'name="text"' in form and not PURPOSE.search(form) and not CHANGE.search(form)
        assert 'name="mode"' not in form
        answer = _file(client, "complaint", {"text": "You kept e-mailing me after I said stop.", "region": "CN"})
        assert "/requests/R-" in str(answer.url), answer.text[-3000:]
        asked = _asked(answer.text)
        assert "You kept e-mailing me after I said stop." in asked and "CN" in asked
        reference = str(answer.url).split("/requests/")[1].split("?")[0]
        assert _filed(site, reference).declared_region == "CN"
    with httpx.Client(base_url=site.url, headers={"Accept": "text/html"}) as stranger:
        page = stranger.get(f"/requests/{reference}")
        assert "You kept e-mailing me" not in page.text  # to them only
