"""P44 channel-aware decisions: marketing by a channel the person switched off is denied, by that channel only;
service notices are never switched off (P35). In-process, from the store, at an earlier time, over HTTP (fast lane,
full route, batch), through the SDK's change feed and the CLI."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from privet.auth.keys import create_api_key
from privet.consent import channels
from privet.consent.decisions.service import Decider, decide
from privet.consent.ledger import service as ledger
from privet.kit.clock import frozen_at, utcnow
from privet.kit.errors import InvalidInput
from privet.sdk import PrivetClient
from tests.consent.test_sdk import key, server  # noqa: F401 - fixtures: a served app and a decide key

pytestmark = pytest.mark.usefixtures("keptek")
MARKETING, NOTICE, SERVICE = "marketing.communications", "notice.updates", "service.order"
URL = "/api/v1/decisions"


@pytest.fixture
def consenting(db: Session, make_subject):
    """A subject who gave marketing consent and switched e-mail marketing off (SMS left as it was)."""
    subject = make_subject()
    ledger.record(db, subject_id=subject.id, purpose=MARKETING, event="given", method="api", actor="t")
    channels.set_preference(db, subject.id, MARKETING, "email", False, actor="t")
    db.flush()
    return subject


def test_a_channel_switched_off_denies_marketing_by_that_channel_only(db: Session, consenting) -> None:
    decider = Decider.load(db)
    by = {c: decider.decide(MARKETING, consenting.id, channel=c) for c in (None, "email", "sms", "push")}
    assert (by["email"].allowed, by["email"].reason) == (False, "CHANNEL_OPTED_OUT")
    assert by["email"].legal_basis == "consent" and by["email"].record_id == by[None].record_id
    assert all(by[c].allowed and by[c].reason == "CONSENT_GIVEN" for c in (None, "sms", "push"))
    # the store path answers the same
    assert decide(db, purpose=MARKETING, subject_id=consenting.id, channel="email").reason == "CHANNEL_OPTED_OUT"
    assert decide(db, purpose=MARKETING, subject_id=consenting.id, channel="sms").allowed
    # no consent stays the first reason: the channel never turns a refusal into another refusal
    ledger.record(db, subject_id=consenting.id, purpose=MARKETING, event="withdrawn", method="api", actor="t")
    db.flush()
    decider.sync(db)
    assert decider.decide(MARKETING, consenting.id, channel="email").reason == "CONSENT_WITHDRAWN"
    assert decider.decide(MARKETING, consenting.id, channel="sms").reason == "CONSENT_WITHDRAWN"


def test_service_notices_ignore_channels_and_cannot_be_switched_off(db: Session, consenting) -> None:
    with pytest.raises(InvalidInput, match="cannot be switched off"):
        channels.set_preference(db, consenting.id, NOTICE, "email", False, actor="t")
    decider = Decider.load(db)
    for channel in ("email", "sms", "push"):
        notice = decider.decide(NOTICE, consenting.id, channel=channel)
        assert notice.allowed, (channel, notice)
        assert decider.decide(SERVICE, consenting.id, channel=channel).allowed  # not a messaging purpose
    assert decider.decide(MARKETING, consenting.id, channel="fax").reason == "UNKNOWN_CHANNEL"


def test_the_decider_follows_switching_back_on_and_decisions_at_an_earlier_time(db: Session, consenting) -> None:
    decider = Decider.load(db)
    assert not decider.decide(MARKETING, consenting.id, channel="email").allowed
    off_at = utcnow()
    with frozen_at(off_at + timedelta(seconds=5)):
        channels.set_preference(db, consenting.id, MARKETING, "email", True, actor="t")
        db.flush()
    assert decider.sync(db)  # an audited subject change moves the generation
    assert decider.decide(MARKETING, consenting.id, channel="email").allowed
    with frozen_at(off_at + timedelta(seconds=10)):
        channels.set_preference(db, consenting.id, MARKETING, "sms", False, actor="t")
        db.flush()
    decider.sync(db)
    assert decider.decide(MARKETING, consenting.id, channel="sms").reason == "CHANNEL_OPTED_OUT"
    assert decider.decide(MARKETING, consenting.id, channel="email").allowed
    # as the audit chain says the choices stood then: e-mail was off, SMS was not yet
    earlier = decide(db, purpose=MARKETING, subject_id=consenting.id, channel="email", at=off_at + timedelta(seconds=1))
    assert earlier.reason == "CHANNEL_OPTED_OUT"
    assert decide(
        db, purpose=MARKETING, subject_id=consenting.id, channel="sms", at=off_at + timedelta(seconds=1)
    ).allowed


def test_merged_subjects_keep_their_latest_choice(db: Session, make_subject) -> None:
    from privet.subjects.service import merge

    survivor, absorbed = make_subject(), make_subject()
    ledger.record(db, subject_id=survivor.id, purpose=MARKETING, event="given", method="api", actor="t")
    channels.set_preference(db, absorbed.id, MARKETING, "push", False, actor="t")
    db.flush()
    merge(db, survivor, absorbed, actor="t")
    db.flush()
    decider = Decider.load(db)
    assert decider.decide(MARKETING, survivor.id, channel="push").reason == "CHANNEL_OPTED_OUT"
    assert decider.decide(MARKETING, survivor.id, channel="email").allowed


def _key(db: Session, scopes: list[str]) -> dict[str, str]:
    token = create_api_key(db, "svc", scopes, actor="test")[1]
    db.flush()
    return {"Authorization": f"Bearer {token}"}


def test_the_api_route_and_batch_answer_alike(client: TestClient, db: Session, consenting) -> None:
    headers = _key(db, ["decide"])
    email = {"subject_id": consenting.id, "purpose": MARKETING, "channel": "email"}
    first = client.post(URL, json=email, headers=headers)  # first use of the key: checked in the store
    assert first.status_code == 200
    second = client.post(URL, json=email, headers=headers)  # the key remembered
    assert second.content == first.content
    assert (second.json()["allowed"], second.json()["reason"]) == (False, "CHANNEL_OPTED_OUT")
    sms = client.post(URL, json={**email, "channel": "sms"}, headers=headers).json()
    assert (sms["allowed"], sms["reason"]) == (True, "CONSENT_GIVEN")
    unknown = client.post(URL, json={**email, "channel": "fax"}, headers=headers)
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["where"] == "body.channel"
    items = [
        email,
        {**email, "channel": "sms"},
        {"subject_id": consenting.id, "purpose": MARKETING},
        {**email, "categories": ["user.contact.email"]},
        {**email, "purpose": NOTICE},
    ]
    batch = client.post(URL + "/batch", json={"items": items}, headers=headers)
    assert batch.status_code == 200, batch.text
    assert [i["reason"] for i in batch.json()["items"]] == [
        "CHANNEL_OPTED_OUT",
        "CONSENT_GIVEN",
        "CONSENT_GIVEN",
        "CHANNEL_OPTED_OUT",
        "CONTRACT",
    ]
    bad = client.post(URL + "/batch", json={"items": [{**email, "channel": "fax"}]}, headers=headers)
    assert bad.status_code == 422


def test_staff_and_services_set_a_channel_by_api(client: TestClient, db: Session, consenting) -> None:
    headers = _key(db, ["consent:write", "decide"])
    body = {"subject_id": consenting.id, "purpose": MARKETING, "channel": "sms", "opted_in": False}
    answer = client.post("/api/v1/consent/channels", json=body, headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["channels"][MARKETING]["channels"] == {"email": False, "sms": False, "push": None}
    decided = client.post(
        URL, json={"subject_id": consenting.id, "purpose": MARKETING, "channel": "sms"}, headers=headers
    ).json()
    assert decided["reason"] == "CHANNEL_OPTED_OUT"
    locked = client.post("/api/v1/consent/channels", json={**body, "purpose": NOTICE}, headers=headers)
    assert locked.status_code == 422 and "cannot be switched off" in locked.json()["detail"] + locked.text
    neither = client.post(
        "/api/v1/consent/channels", json={k: v for k, v in body.items() if k != "subject_id"}, headers=headers
    )
    assert neither.status_code == 422
    empty = client.post("/api/v1/consent/channels", json={**body, "subject_id": ""}, headers=headers)
    assert empty.status_code == 404 and empty.json()["title"], empty.text  # no subject has an empty id: not a 500
    reader = _key(db, ["decide"])
    assert client.post("/api/v1/consent/channels", json=body, headers=reader).status_code == 403


def test_the_sdk_cache_drops_answers_when_a_channel_is_switched_off(
    server: str, key: str, db: Session, consenting
) -> None:
    from tests.consent.test_sdk import Counting

    wire = Counting()
    with PrivetClient(server, key, sync_interval=3600, transport=wire) as privet:
        assert privet.decide(MARKETING, subject_id=consenting.id, channel="email").reason == "CHANNEL_OPTED_OUT"
        sms = privet.decide(MARKETING, subject_id=consenting.id, channel="sms")
        assert sms.allowed and sms.holders == (f"s:{consenting.id}",)
        asked = len(wire.paths)
        assert privet.decide(MARKETING, subject_id=consenting.id, channel="sms").allowed
        assert len(wire.paths) == asked  # cached per channel
        channels.set_preference(db, consenting.id, MARKETING, "sms", False, actor="t")
        db.flush()
        assert privet.sync() == 1  # the subject change is in the feed, though the ledger did not move
        assert privet.decide(MARKETING, subject_id=consenting.id, channel="sms").reason == "CHANNEL_OPTED_OUT"
        assert privet.decide(MARKETING, subject_id=consenting.id).allowed  # no channel named: consent only
        assert privet.sync() == 0
