"""The dashboard's consent and banner figures against counts computed here (SQLite and PostgreSQL), and the consent
lookup of a banner visitor by id (found, signed in, unknown, malformed)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from faker import Faker
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from privet.consent import visitors
from privet.consent.ledger import service as ledger
from privet.kit.crypto import Keyring
from privet.web.admin import stats
from tests.web.admin.conftest import HTML

KEPTEK = Path(__file__).resolve().parents[3] / "examples" / "keptek" / "datamap"
PURPOSE = "marketing.communications"
YES = ("given", "renewed")


@pytest.fixture
def keptek(db: Session) -> Session:
    """The Keptek data map applied in the test's transaction."""
    from privet.datamap.service import validate_and_apply

    validate_and_apply(db, KEPTEK, actor="test")
    db.flush()
    return db


def _person(db: Session, ring: Keyring) -> str:
    from privet.subjects.service import create_subject

    email = Faker().unique.email(domain="example.com")
    return create_subject(db, ring, [("email", email, True)], actor="test").id


def _visitor() -> str:
    return "v-" + Faker().unique.hexify("^" * 24)


def _consent(db: Session, ring: Keyring, plan: list[list[str]]) -> tuple[int, int]:
    """Each list is one person's choices for PURPOSE in order; returns (people holding a record, with consent now)
    counted here from the plan, not by the code under test."""
    for events in plan:
        subject_id = _person(db, ring)
        for event in events:
            ledger.record(db, subject_id=subject_id, purpose=PURPOSE, event=event, method="form", actor="test")
    return len(plan), sum(1 for events in plan if events[-1] in YES)


def _choose(db: Session, choices: list[tuple[bool, bool]]) -> list[str]:
    """One banner choice per visitor: (analytics allowed, GPC sent); returns the visitor ids."""
    ids = []
    for analytics, gpc in choices:
        ids.append(_visitor())
        visitors.record_cookie_choice(
            db, visitor_id=ids[-1], categories={"analytics": analytics, "marketing": True}, gpc=gpc, actor="test"
        )
    return ids


def test_one_person_giving_withdrawing_and_giving_again_has_consent(db: Session, keptek: Session) -> None:
    ring = Keyring(b"k" * 32)
    assert _consent(db, ring, [["given", "withdrawn", "given"]]) == (1, 1)
    now = {p.purpose: p for p in stats.consent_now(db)}
    assert (now[PURPOSE].holders, now[PURPOSE].consenting, now[PURPOSE].share) == (1, 1, 100.0)


def test_consent_now_counts_people_by_their_latest_choice(db: Session, keptek: Session) -> None:
    ring = Keyring(b"k" * 32)
    plan = [["given", "withdrawn", "given"], ["given", "withdrawn"], ["refused"], ["given"], ["given", "renewed"]]
    holders, consenting = _consent(db, ring, plan)
    # a visitor who signed in as a person who gave consent, refusing later on the same purpose: one person, refused
    signed_in = _person(db, ring)
    ledger.record(db, subject_id=signed_in, purpose=PURPOSE, event="given", method="form", actor="test")
    visitor = _visitor()
    ledger.record(db, visitor_id=visitor, purpose=PURPOSE, event="refused", method="banner", actor="test")
    visitors.link_visitor(db, visitor, signed_in, actor="test")
    holders += 1
    now = {p.purpose: p for p in stats.consent_now(db)}[PURPOSE]
    assert (now.holders, now.consenting) == (holders, consenting) == (6, 3)
    assert now.share == round(100 * consenting / holders, 1)


def test_four_visitors_each_choosing_count_four(db: Session, keptek: Session) -> None:
    choices = [(True, False), (False, False), (True, True), (False, False)]
    ids = _choose(db, choices)
    since = stats.weeks()[0][0]
    assert stats.banner_visitors(db, since) == (len(ids), sum(gpc for _a, gpc in choices)) == (4, 1)
    allowed = sum(analytics for analytics, _gpc in choices)
    assert stats.banner_choices(db, since)["analytics.usage"] == (allowed, len(choices) - allowed)
    # one visitor changes their mind: still four visitors, counted by their latest choice
    visitors.record_cookie_choice(db, visitor_id=ids[1], categories={"analytics": True}, gpc=False, actor="test")
    assert stats.banner_visitors(db, since) == (4, 1)
    assert stats.banner_choices(db, since)["analytics.usage"] == (allowed + 1, len(choices) - allowed - 1)


def test_the_dashboard_states_its_figures_in_words(
    client: TestClient, app: FastAPI, db: Session, keptek: Session, officer
) -> None:
    holders, consenting = _consent(db, app.state.keyring, [["given", "withdrawn", "given"], ["given", "withdrawn"]])
    _choose(db, [(True, False), (False, False), (True, True), (False, False)])
    db.commit()
    officer("privacy_officer")
    page = client.get("/admin", headers=HTML)
    assert page.status_code == 200, page.text[-2000:]
    text = page.text
    row = re.search(r'<table id="consent-now">.*?</table>', text, re.S).group(0)
    assert re.search(rf"<td>{holders}</td><td>{consenting}</td><td>50%</td>", row), row
    assert (
        "Visitors who made a banner choice in the last eight weeks: 4, of whom 1 sent Global Privacy Control." in text
    )
    assert "the share whose latest choice gives consent now" in text  # the denominator, in words
    assert text.count('<ul class="legend"') == 4 and text.count('class="axis-title"') == 8
    assert "Made a banner choice" in text and "Allowed" in text and "Refused" in text
    chinese = client.get("/admin?lang=zh_CN", headers=HTML).text
    assert "各用途当前同意的人数比例" in chinese and "过去八周在横幅上作出选择的访客：4 位" in chinese


def test_the_consent_lookup_finds_a_banner_visitor(
    client: TestClient, app: FastAPI, db: Session, keptek: Session, officer
) -> None:
    visitor, linked = _choose(db, [(True, False), (False, True)])
    subject_id = _person(db, app.state.keyring)
    visitors.link_visitor(db, linked, subject_id, actor="test")
    db.commit()
    token = officer("auditor")

    def look(kind: str, value: str):
        return client.post("/admin/consent", headers=HTML, data={"csrf_token": token, "type": kind, "value": value})

    found = look("visitor", visitor)
    assert found.status_code == 200 and f"<code>{visitor}</code>" in found.text
    assert "This visitor has not signed in" in found.text and "analytics.usage" in found.text
    history = re.search(r'id="history-title".*?</table>', found.text, re.S).group(0)
    assert history.count("<tr>") - 1 == len(ledger.history(db, [f"v:{visitor}"])) > 0
    typed_as_user_id = look("user_id", visitor)  # the banner's id typed under another type is still found
    assert typed_as_user_id.status_code == 200 and f"<code>{visitor}</code>" in typed_as_user_id.text
    signed_in = look("visitor", linked)
    assert subject_id in signed_in.text and f"Banner visitor {linked} signed in as this subject" in signed_in.text
    unknown = look("visitor", _visitor())
    assert unknown.status_code == 200 and "No banner choice is recorded for this visitor id" in unknown.text
    assert 'id="history-title"' not in unknown.text
    malformed = look("visitor", "v-<script>")
    assert malformed.status_code == 422 and "That is not a visitor id" in malformed.text
    assert "<script>" not in malformed.text.split("</form>", 1)[1].split("</main>", 1)[0]
