"""Officer actions and sweeps: refusal (with the message the person gets), extension, repeats and fees,
approval, complaints, expiry of unverified requests, deadline lists and reminders."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from privet.audit.models import AuditEvent
from privet.jobs import dispatch
from privet.kit.clock import frozen_at, utcnow
from privet.kit.crypto import Keyring
from privet.kit.errors import Conflict, InvalidInput
from privet.requests.workflow import service as workflow
from privet.settings import Settings


@pytest.mark.promise("P16")
def test_refusal_tells_the_reason_the_law_and_where_to_complain(
    store: Session, file, verified, drain, shop_db, smtp
) -> None:
    customer = shop_db.customers[0]
    request = file("erasure", customer)
    with pytest.raises(InvalidInput):
        workflow.refuse(store, request, code="because", note=None, actor="user:officer")
    with pytest.raises(InvalidInput):  # a GDPR-only ground under a PIPL profile
        workflow.refuse(store, request, code="manifestly_unfounded", note=None, actor="user:officer")
    workflow.refuse(store, request, code="impractical", note="the data sits on backup tapes only", actor="user:officer")
    assert request.status == "refused" and request.refusal_code == "impractical"
    drain()
    body = smtp.last_to(customer.email).get_content()
    assert request.reference in body and "backup tapes" in body
    assert "Article 50" in body and "people's court" in body  # PIPL: where to complain
    with pytest.raises(Conflict):
        workflow.refuse(store, request, code="impractical", note=None, actor="user:officer")


def test_refusing_a_running_request_stops_its_queued_steps(store: Session, file, verified, drain, shop_db) -> None:
    from tests.requests.shop import ADDRESSES

    customer = shop_db.customers[0]
    request = file("erasure", customer)
    verified(request)
    workflow.refuse(store, request, code="legal_obligation", note=None, actor="user:officer")
    drain()
    assert request.status == "refused" and request.steps[0].status == "skipped"
    assert shop_db.count(ADDRESSES, customer_id=customer.id) == 1


def test_extension_where_the_profile_allows_it(
    store: Session, keyring: Keyring, conf: Settings, file, verified, drain, shop_db, smtp, tmp_path
) -> None:
    from privet.datamap.service import validate_and_apply
    from tests.requests.shop import write_datamap

    pipl = file("access", shop_db.customers[0])
    verified(pipl)
    with pytest.raises(InvalidInput):  # PIPL allows no extension
        workflow.extend(store, pipl, reason="many systems", actor="user:officer")
    validate_and_apply(store, write_datamap(tmp_path / "gdpr", shop_db.kind, profile="gdpr"), actor="test")
    customer = shop_db.customers[1]
    with frozen_at(datetime(2026, 1, 31, 9, tzinfo=UTC)):
        request = file("access", customer)
        verified(request)
    assert request.due_on == date(2026, 2, 28)  # one month from 31 January: the month's last day
    workflow.extend(store, request, reason="many systems hold records", actor="user:officer")
    assert request.extended_to == date(2026, 4, 28) and request.extension_reason == "many systems hold records"
    with pytest.raises(InvalidInput):
        workflow.extend(store, request, reason="again", actor="user:officer")
    drain()
    [body] = [m.get_content() for to, m in smtp.messages if customer.email in to and "More time" in m["Subject"]]
    assert "many systems hold records" in body and "28 April 2026" in body


def test_repeats_are_detected_and_past_the_free_number_wait_for_an_officer(
    store: Session, keyring: Keyring, conf: Settings, file, verified, shop_db
) -> None:
    customer = shop_db.customers[0]
    first, second, third = (file("access", customer) for _ in range(3))
    verified(first)
    verified(second)
    assert first.repeat_of is None and first.fee is None
    assert second.repeat_of == first.id and second.fee is None and second.status == "running"
    verified(third)  # the third in the window: no fee configured, so an officer decides
    assert third.status == "pending_approval" and third.fee["action"] == "flag_for_officer"
    workflow.approve(store, keyring, conf, third, actor="user:officer")
    assert third.status == "running" and third.approved_by == "user:officer"


def test_a_configured_fee_is_recorded_and_the_request_waits(
    store: Session, keyring: Keyring, conf: Settings, file, shop_db
) -> None:
    """P18: past the free number the request waits for the fee (paying and waiving: tests/requests/test_fees.py)."""
    from privet.requests.intake.verify import record_identity_check

    paid = conf.model_copy(update={"requests_fee": "20 CNY", "requests_free_per_window": 1})
    store.info[dispatch.SETTINGS_KEY] = paid
    customer = shop_db.customers[1]
    first, second = file("access", customer), file("access", customer)
    for request in (first, second):
        record_identity_check(store, keyring, paid, request, method="id_document", note=None, actor="user:o")
    assert first.fee is None
    assert second.fee["amount"] == "20.00" and second.fee["currency"] == "CNY" and second.status == "fee_due"
    assert first.status == "running" and not second.steps


def test_an_old_request_outside_the_window_is_no_repeat(store: Session, file, verified, shop_db) -> None:
    customer = shop_db.customers[2]
    with frozen_at(utcnow() - timedelta(days=400)):
        old = file("erasure", customer)
        verified(old)
    new = file("erasure", customer)
    verified(new)
    assert new.repeat_of is None


def test_unverified_requests_expire_and_are_purged(store: Session, conf: Settings, file, shop_db) -> None:
    customer = shop_db.customers[0]
    stale = file(
        "rectification",
        customer,
        details={"changes": {"user.name": "New Name"}},
        channel="agent",
        agent={"name": "Agent Office", "authorisation": "POA-1"},
        filed_by="user:agent",
    )
    fresh = file("access", shop_db.customers[1])
    later = utcnow() + timedelta(days=conf.requests_verify_days, minutes=1)
    with frozen_at(later - timedelta(days=1)):
        fresh.verify_by = later + timedelta(days=1)
    assert workflow.expire_unverified(store, now=later) == 1
    assert stale.status == "expired" and stale.identity_enc == b"" and stale.details_enc is None
    assert stale.agent is None and stale.identity_blind_index == ""
    assert fresh.status == "unverified"
    event = store.scalars(
        select(AuditEvent).where(AuditEvent.object_id == stale.id, AuditEvent.action == "request.expired")
    ).one()
    assert event.details["purged"] is True


@pytest.mark.promise("P21")
def test_complaints_stay_with_the_officer(
    store: Session, keyring: Keyring, conf: Settings, file, verified, drain, shop_db, smtp, fake
) -> None:
    customer = shop_db.customers[3]
    request = file("complaint", customer, details={"text": fake.paragraph()})
    verified(request)
    assert request.status == "waiting" and request.steps == []
    with pytest.raises(InvalidInput):
        workflow.refuse(store, request, code="deceptive", note=None, actor="user:officer")
    workflow.assign(store, request, assignee="alice", actor="user:officer")
    workflow.complete(
        store, keyring, conf, request, note="apologised and corrected the mailing list", actor="user:alice"
    )
    assert request.status == "completed" and request.result["outcome"].startswith("apologised")
    drain()
    assert request.reference in smtp.last_to(customer.email).get_content()


def test_deadline_lists_and_reminders(store: Session, conf: Settings, file, verified, shop_db, smtp) -> None:
    from privet.requests.queries import due_soon, overdue

    with frozen_at(utcnow() - timedelta(days=60)):
        late = file("access", shop_db.customers[0])
        verified(late)
    soon = file("access", shop_db.customers[1])
    verified(soon)
    today = utcnow().date()
    assert late in overdue(store, today=today) and soon not in overdue(store, today=today)
    assert soon in due_soon(store, days=40, today=today) and late not in due_soon(store, days=40, today=today)
    counts = workflow.remind(store, conf, today=soon.due_on - timedelta(days=1))
    assert counts["overdue"] >= 1 and counts["due_soon"] >= 1
    assert counts["sent"] == counts["overdue"] + counts["due_soon"]
    reminder = smtp.last_to("privacy@shop.example")
    assert "needs attention" in reminder["Subject"]
    assert shop_db.customers[0].email not in reminder.get_content()


def test_housekeeping_job_expires_requests_and_purges_packages(
    store: Session, keyring: Keyring, conf: Settings, session_factory, file, verified, drain, shop_db
) -> None:
    from privet.jobs.context import JobContext
    from privet.requests.models import AccessPackage
    from privet.requests.tasks import housekeeping_job

    answered = file("access", shop_db.customers[2])
    verified(answered)
    drain()
    assert answered.steps[0].output_enc is not None  # the rows stay for a rebuild until the package expires
    lapsed = file("access", shop_db.customers[3])
    store.commit()
    later = utcnow() + timedelta(days=max(conf.package_days, conf.requests_verify_days) + 1)
    with frozen_at(later):
        housekeeping_job(JobContext(session_factory, conf, keyring, "job", 1, True, "test"), {})
    store.expire_all()
    assert lapsed.status == "expired" and lapsed.identity_enc == b""
    package = store.scalars(select(AccessPackage).where(AccessPackage.request_id == answered.id)).one()
    assert package.blob_enc is None and package.purged_at is not None
    assert answered.steps[0].output_enc is None
