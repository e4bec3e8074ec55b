"""P18: a request with a fee due waits, nothing running, until an officer records the fee paid or waives it (CLI,
API, console); the settlement is recorded and audited and the person is told, in English and Chinese."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from privet.audit.models import AuditEvent
from privet.jobs import dispatch
from privet.kit.crypto import Keyring
from privet.kit.errors import Conflict, InvalidInput
from privet.requests.models import RequestStep
from privet.requests.workflow import fees
from privet.requests.workflow import service as workflow
from privet.settings import Settings
from tests.conftest import PrivetCli
from tests.requests.shop import ADDRESSES, Shop, write_datamap

pytestmark = pytest.mark.promise("P18")


@pytest.fixture
def charging(store: Session, conf: Settings) -> Settings:
    """One request of a type free per window, then 20 CNY."""
    paid = conf.model_copy(update={"requests_fee": "20 CNY", "requests_free_per_window": 1})
    store.info[dispatch.SETTINGS_KEY] = paid
    return paid


def _second(store: Session, keyring: Keyring, settings: Settings, file, customer, request_type: str, **kwargs: object):
    """A customer's second request of a type, verified by a staff identity check: the fee falls due."""
    from privet.requests.intake.verify import record_identity_check

    first, second = file(request_type, customer, **kwargs), file(request_type, customer, **kwargs)
    for request in (first, second):
        record_identity_check(store, keyring, settings, request, method="id_document", note=None, actor="user:o")
    return first, second


def _events(store: Session, request, action: str) -> list[AuditEvent]:
    return list(
        store.scalars(select(AuditEvent).where(AuditEvent.object_id == request.id, AuditEvent.action == action))
    )


def test_a_fee_request_does_not_run_until_paid(
    store: Session, keyring: Keyring, charging: Settings, file, drain, shop_db: Shop, smtp
) -> None:
    customer = shop_db.customers[0]
    _first, request = _second(store, keyring, charging, file, customer, "erasure")
    assert request.status == "fee_due" and request.fee["amount"] == "20.00" and request.fee["currency"] == "CNY"
    assert not store.scalars(select(RequestStep).where(RequestStep.request_id == request.id)).all()
    with pytest.raises(Conflict, match="fee"):
        workflow.approve(store, keyring, charging, request, actor="user:officer")
    with pytest.raises(Conflict):
        workflow.run(store, keyring, charging, request, actor="user:officer")
    drain(charging)
    store.refresh(request)
    assert request.status == "fee_due"  # the queue ran dry and nothing of this request ran
    assert shop_db.count(ADDRESSES, customer_id=customer.id) == 0  # the first, free erasure ran
    steps = store.scalars(select(RequestStep).where(RequestStep.request_id == request.id)).all()
    assert steps == []
    [told] = [m for to, m in smtp.messages if customer.email in to and "fee is due" in m["Subject"]]
    body = told.get_content()
    assert "20.00 CNY" in body and request.reference in body and "GB/T 35273-2020" in body
    verified = _events(store, request, "request.verified")[0]
    assert verified.details["fee_due"] is True

    fees.settle(store, keyring, charging, request, outcome="paid", note="receipt 2026-0042", actor="user:officer")
    assert request.fee["status"] == "paid" and request.fee["settled_by"] == "user:officer"
    assert request.status == "running"
    [paid] = _events(store, request, "request.fee_paid")
    assert paid.actor == "user:officer" and paid.details["amount"] == "20.00"
    drain(charging)
    store.refresh(request)
    assert request.status == "completed"
    [going] = [m for to, m in smtp.messages if customer.email in to and "going ahead" in m["Subject"]]
    assert "We have received the fee of 20.00 CNY" in going.get_content()
    with pytest.raises(Conflict):  # settled once
        fees.settle(store, keyring, charging, request, outcome="waived", note="goodwill", actor="user:officer")


def test_a_waived_fee_runs_and_the_person_is_told_in_chinese(
    store: Session, keyring: Keyring, charging: Settings, file, drain, shop_db: Shop, smtp
) -> None:
    customer = shop_db.customers[1]
    _first, request = _second(store, keyring, charging, file, customer, "access", language="zh_CN")
    assert request.status == "fee_due"
    with pytest.raises(InvalidInput, match="reason"):
        fees.settle(store, keyring, charging, request, outcome="waived", note=None, actor="user:officer")
    with pytest.raises(InvalidInput, match="personal data"):
        fees.settle(
            store,
            keyring,
            charging,
            request,
            outcome="waived",
            note="asked by someone@example.com",
            actor="user:officer",
        )
    with pytest.raises(InvalidInput):
        fees.settle(store, keyring, charging, request, outcome="refunded", note="x", actor="user:officer")
    assert request.status == "fee_due" and "status" not in request.fee  # nothing changed by refused attempts
    fees.settle(
        store,
        keyring,
        charging,
        request,
        outcome="waived",
        note="first repeat after a site outage",
        actor="user:officer",
    )
    assert request.fee["status"] == "waived" and request.fee["note"] == "first repeat after a site outage"
    assert _events(store, request, "request.fee_waived")
    drain(charging)
    store.refresh(request)
    assert request.status == "completed"
    subjects = [m["Subject"] for to, m in smtp.messages if customer.email in to]
    assert any("需要支付费用" in s for s in subjects) and any("已开始办理" in s for s in subjects)
    [waived] = [m for to, m in smtp.messages if customer.email in to and "已开始办理" in m["Subject"]]
    assert "我们决定不收取费用" in waived.get_content()


def test_a_settled_fee_waits_for_approval_where_the_type_needs_it(
    store: Session, keyring: Keyring, charging: Settings, file, shop_db: Shop
) -> None:
    approving = charging.model_copy(update={"requests_manual_approval": ["erasure"]})
    store.info[dispatch.SETTINGS_KEY] = approving
    customer = shop_db.customers[2]
    _first, request = _second(store, keyring, approving, file, customer, "erasure")
    assert request.status == "fee_due"
    fees.settle(store, keyring, approving, request, outcome="paid", note=None, actor="user:officer")
    assert request.status == "pending_approval"
    workflow.approve(store, keyring, approving, request, actor="user:officer")
    assert request.status == "running"


def test_without_a_configured_fee_an_officer_decides(
    store: Session, keyring: Keyring, conf: Settings, file, shop_db: Shop
) -> None:
    flagging = conf.model_copy(update={"requests_free_per_window": 1})
    store.info[dispatch.SETTINGS_KEY] = flagging
    _first, request = _second(store, keyring, flagging, file, shop_db.customers[3], "access")
    assert request.status == "pending_approval" and request.fee["action"] == "flag_for_officer"
    with pytest.raises(Conflict):  # there is no fee to settle
        fees.settle(store, keyring, flagging, request, outcome="paid", note=None, actor="user:officer")


def test_fee_by_api(
    store: Session, keyring: Keyring, charging: Settings, engine, session_factory, file, drain, shop_db: Shop
) -> None:
    from privet.app import create_app
    from privet.auth.keys import create_api_key

    _first, request = _second(store, keyring, charging, file, shop_db.customers[0], "access")
    _key, token = create_api_key(store, "officer", ["requests:read", "requests:write"], actor="test")
    _key, read_only = create_api_key(store, "auditor", ["requests:read"], actor="test")
    store.commit()
    app = create_app(charging, engine=engine, check_migrations=False)
    app.state.test_sessionmaker = session_factory
    officer, auditor = {"Authorization": f"Bearer {token}"}, {"Authorization": f"Bearer {read_only}"}
    with TestClient(app) as client:
        app.state.sessionmaker = app.state.test_sessionmaker
        path = f"/api/v1/requests/{request.reference}/fee"
        assert client.post(path, json={"outcome": "paid"}, headers=auditor).status_code == 403
        no_reason = client.post(path, json={"outcome": "waived"}, headers=officer)
        assert no_reason.status_code == 422 and no_reason.json()["errors"][0]["where"] == "reason"
        assert client.post(path, json={"outcome": "maybe"}, headers=officer).status_code == 422
        shown = client.get(f"/api/v1/requests/{request.reference}", headers=officer).json()
        assert shown["status"] == "fee_due" and "status" not in shown["fee"]
        done = client.post(path, json={"outcome": "waived", "reason": "goodwill"}, headers=officer)
        assert done.status_code == 200, done.text
        assert done.json()["fee"]["status"] == "waived" and done.json()["status"] == "running"
        assert client.post(path, json={"outcome": "paid"}, headers=officer).status_code == 409


def test_fee_by_cli(cli_store: str, shop_db: Shop, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from privet.settings import get_settings

    monkeypatch.setenv("PRIVET_SECRETS", json.dumps({"shop_db": shop_db.url}))
    monkeypatch.setenv("PRIVET_MAIL_SENDER", "console")
    monkeypatch.setenv("PRIVET_REQUESTS_FEE", "15 EUR")
    monkeypatch.setenv("PRIVET_REQUESTS_FREE_PER_WINDOW", "1")
    monkeypatch.setenv("PRIVET_JOBS_RETRY_SECONDS", "0.01")
    get_settings.cache_clear()
    cli = PrivetCli()
    assert cli("db", "upgrade").exit_code == 0
    assert cli("datamap", "apply", str(write_datamap(tmp_path / "datamap", shop_db.kind))).exit_code == 0
    email = shop_db.customers[1].email
    refs = [
        re.search(
            r"R-[0-9A-Z]{8}",
            cli("requests", "file", "--type", "access", "--identity", email, "--checked", "in_person").output,
        ).group(0)
        for _ in range(2)
    ]
    shown = json.loads(cli("requests", "show", refs[1], "--json").output)
    assert shown["status"] == "fee_due" and shown["fee"]["amount"] == "15.00"
    neither = cli("requests", "fee", refs[1])
    assert neither.exit_code == 2 and "--paid or --waive" in neither.output
    no_reason = cli("requests", "fee", refs[1], "--waive")
    assert no_reason.exit_code == 2 and "reason" in no_reason.output.lower()
    paid = cli("requests", "fee", refs[1], "--paid", "--reason", "receipt 77")
    assert paid.exit_code == 0 and "fee paid" in paid.output, paid.output
    again = cli("requests", "fee", refs[1], "--paid")
    assert again.exit_code == 2
    shown = json.loads(cli("requests", "show", refs[1], "--json").output)
    assert shown["fee"]["status"] == "paid" and shown["status"] != "fee_due"
    assert any(e["action"] == "request.fee_paid" for e in shown["trail"])


def test_fee_in_the_console(
    store: Session, keyring: Keyring, charging: Settings, engine, session_factory, file, shop_db: Shop, smtp
) -> None:
    from privet.app import create_app
    from privet.auth import service as auth
    from tests.web.admin.conftest import HTML, PASSWORD, form_token

    customer = shop_db.customers[2]
    _first, request = _second(store, keyring, charging, file, customer, "access")
    auth.create_user(store, "fee-officer", "privacy_officer", password=PASSWORD, actor="test")
    auth.create_user(store, "fee-auditor", "auditor", password=PASSWORD, actor="test")
    store.commit()
    app = create_app(charging, engine=engine, check_migrations=False)
    app.state.test_sessionmaker = session_factory

    def log_in(client: TestClient, username: str) -> str:
        answer = client.post(
            "/admin/login",
            headers=HTML,
            follow_redirects=False,
            data={"username": username, "password": PASSWORD, "csrf_token": form_token(client), "next": "/admin"},
        )
        assert answer.status_code == 303, answer.text
        return form_token(client, "/admin/password")

    path = f"/admin/requests/{request.reference}"
    with TestClient(app) as auditor:
        app.state.sessionmaker = app.state.test_sessionmaker
        token = log_in(auditor, "fee-auditor")
        page = auditor.get(path, headers=HTML).text
        assert "Waiting for the fee" in page and 'id="fee-outcome"' not in page  # a reader sees, cannot act
        assert (
            auditor.post(f"{path}/fee", headers=HTML, data={"csrf_token": token, "outcome": "paid"}).status_code == 403
        )
    with TestClient(app) as officer:
        app.state.sessionmaker = app.state.test_sessionmaker
        token = log_in(officer, "fee-officer")
        page = officer.get(path, headers=HTML).text
        assert 'id="fee-outcome"' in page and customer.email not in page
        assert "pipl (the organisation&#39;s profile)" in page or "pipl (the organisation's profile)" in page
        assert officer.post(f"{path}/fee", headers=HTML, data={"outcome": "paid"}).status_code in (400, 403)
        refused = officer.post(f"{path}/fee", headers=HTML, data={"csrf_token": token, "outcome": "waived"})
        assert refused.status_code == 422 and "reason" in refused.text  # a waiver needs a reason
        store.expire_all()
        assert request.status == "fee_due"
        done = officer.post(
            f"{path}/fee",
            headers=HTML,
            follow_redirects=False,
            data={"csrf_token": token, "outcome": "waived", "reason": "goodwill after an outage"},
        )
        assert done.status_code == 303 and done.headers["location"] == f"{path}?done=fee_settled"
        after = officer.get(done.headers["location"], headers=HTML).text
        assert "The fee was recorded" in after and "request.fee_waived" in after
    store.expire_all()
    assert request.status == "running" and request.fee["settled_by"] == "user:fee-officer"


def test_the_fee_message_says_the_law_and_that_the_clock_runs() -> None:
    from datetime import date

    from privet.requests.messages.render import render_message

    values = {
        "reference": "R-TEST0001",
        "request_type": "access",
        "amount": "20.00",
        "currency": "EUR",
        "due": date(2026, 4, 2),
        "free": 1,
        "window_days": 365,
    }
    _subject, body = render_message("fee_due", "en", profile="gdpr", profile_source="datastore", region="EU", **values)
    assert "handled under the EU General Data Protection Regulation (GDPR)" in body
    assert "kept in our systems for the European Union" in body and "does not stop the time" in body
    assert "2 April 2026" in body and "Article 12(5)" in body
    _subject, body = render_message(
        "fee_due", "zh_CN", profile="ccpa", profile_source="declared", region="US-CA", **values
    )
    assert (
        "《加州消费者隐私法》（CCPA）" in body
        and "您告知我们您位于美国加利福尼亚州" in body
        and "答复期限不会中止" in body
    )
    _subject, body = render_message("fee_due", "en", profile="pipl", profile_source=None, **values)
    assert "the law we follow as an organisation" in body
