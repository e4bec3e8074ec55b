"""Executing verified requests against a real shop database through the job queue (inline, in this thread)."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from privet.audit.models import AuditEvent
from privet.kit.clock import utcnow
from privet.kit.crypto import Keyring
from privet.requests.execution import held
from privet.requests.holds import service as holds
from privet.requests.models import AccessPackage
from privet.settings import Settings
from tests.requests.shop import ADDRESSES, CUSTOMERS, ITEMS, LOGINS, ORDERS


def _download(store: Session, keyring: Keyring, smtp, address: str) -> dict:
    from privet.requests.packages.service import open_package

    body = smtp.last_to(address).get_content()
    token = body.split("/api/v1/public/packages/", 1)[1].split()[0]
    _package, data = open_package(store, keyring, token)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return json.loads(archive.read("data.json"))


def _errors(store: Session) -> list[str]:
    from privet.jobs.models import Job

    return [f"{j.kind}: {j.last_error}" for j in store.scalars(select(Job).where(Job.last_error.is_not(None)))]


def _actions(store: Session, request) -> list[str]:
    return [
        e.action
        for e in store.scalars(select(AuditEvent).where(AuditEvent.object_id == request.id).order_by(AuditEvent.seq))
    ]


@pytest.mark.promise("P14")
def test_access_end_to_end_to_a_package(
    store: Session, keyring: Keyring, conf: Settings, file, verified, drain, shop_db, smtp
) -> None:
    customer = shop_db.customers[2]
    request = file("access", customer)
    verified(request, smtp)
    drain()
    assert request.status == "completed", (request.result, _errors(store))
    step = request.steps[0]
    assert step.status == "done" and step.attempts == 1
    assert step.counts["customers"]["found"] == 1 and step.counts["orders"]["found"] == customer.orders
    assert step.counts["order_items"]["found"] == customer.items  # three levels down
    package = store.scalars(select(AccessPackage).where(AccessPackage.request_id == request.id)).one()
    assert request.result["package"]["id"] == package.id
    document = _download(store, keyring, smtp, customer.email)
    rows = document["data"]["shop_db"]
    assert [r["email"] for r in rows["customers"]] == [customer.email]
    assert len(rows["order_items"]) == customer.items and len(rows["login_events"]) == customer.logins
    others = {c.email for c in shop_db.customers} - {customer.email}
    assert not others & set(json.dumps(document).split('"'))  # nobody else's data
    kinds = [m.get("Subject") for _to, m in smtp.messages if customer.email in _to]
    assert any("received" in (k or "") for k in kinds) and any("ready" in (k or "") for k in kinds)
    assert "request.completed" in _actions(store, request)


def test_nobody_found_gives_an_honest_empty_package(
    store: Session, keyring: Keyring, file, verified, drain, smtp, fake
) -> None:
    stranger = fake.unique.email()
    request = file("access", identity=stranger)
    verified(request, smtp)
    drain()
    assert request.status == "completed"
    document = _download(store, keyring, smtp, stranger)
    assert document["summary"]["rows"] == 0


@pytest.mark.promise("P14", "P22", "P23")
def test_erasure_retains_what_the_law_keeps_and_records_proof(
    store: Session, file, verified, drain, shop_db, conf: Settings
) -> None:
    customer, other = shop_db.customers[1], shop_db.customers[2]
    request = file("erasure", customer)
    verified(request)
    drain()
    assert request.status == "completed", (request.result, _errors(store))
    assert shop_db.count(ADDRESSES, customer_id=customer.id) == 0
    assert shop_db.count(LOGINS, customer_id=customer.id) == 0
    assert shop_db.count(ORDERS, customer_id=customer.id) == customer.orders  # kept: totals are accounting records
    row = shop_db.row(CUSTOMERS, customer.id)
    assert row["email"] is None and row["phone"] is None and row["name"] is None
    order = shop_db.row(ORDERS, 1 + sum(c.orders for c in shop_db.customers[:1]))
    assert order["recipient"] is None and order["total"] is not None
    assert shop_db.count(ADDRESSES, customer_id=other.id) == 1  # the others are untouched
    result = request.result
    assert result["backups_clear_by"] == (utcnow().date() + timedelta(days=conf.backup_retention_days)).isoformat()
    kept = {(r["table"], r["field"]): r for r in result["retained"]}
    assert kept[("orders", "total")]["reason"] == "accounting records"
    assert date.fromisoformat(kept[("orders", "total")]["until"]).year == utcnow().year + 5
    assert result["tables"]["shop_db"]["addresses"]["deleted"] == 1
    assert customer.email not in json.dumps(result)


def test_legal_hold_blocks_erasure_until_released(
    store: Session, keyring: Keyring, file, verified, drain, shop_db
) -> None:
    from privet.subjects.service import get_or_create_subject

    customer = shop_db.customers[0]
    subject, _ = get_or_create_subject(store, keyring, "email", customer.email, actor="test", verified=True)
    hold = holds.place(
        store,
        subject_id=subject.id,
        reason="litigation pending, case 2024-17",
        reference="2024-17",
        actor="user:officer",
    )
    request = file("erasure", customer)
    verified(request)
    drain()
    assert request.status == "waiting"
    assert request.result["legal_hold"]["hold_id"] == hold.id
    assert request.steps[0].status == "skipped" and request.steps[0].last_error == held.HELD
    assert shop_db.count(ADDRESSES, customer_id=customer.id) == 1  # nothing erased
    assert "request.erasure_blocked" in _actions(store, request)
    holds.release(store, hold.id, actor="user:officer")
    drain()
    assert request.status == "completed" and shop_db.count(ADDRESSES, customer_id=customer.id) == 0


def test_hold_placed_after_queueing_stops_the_step(
    store: Session, keyring: Keyring, file, verified, drain, shop_db
) -> None:
    customer = shop_db.customers[0]
    request = file("erasure", customer)
    verified(request)
    holds.place(
        store,
        subject_id=request.subject_id,
        reason="authority's preservation order",
        reference=None,
        actor="user:officer",
    )
    drain()
    assert request.status == "waiting" and shop_db.count(ADDRESSES, customer_id=customer.id) == 1


@pytest.mark.promise("P45")
def test_closure_erases_withdraws_every_consent_and_closes(
    store: Session, keyring: Keyring, file, verified, drain, shop_db
) -> None:
    from privet.consent.ledger import service as ledger
    from privet.consent.ledger.projection import state
    from privet.subjects import sessions
    from privet.subjects.models import Subject
    from privet.subjects.service import get_or_create_subject

    customer = shop_db.customers[3]
    subject, _ = get_or_create_subject(store, keyring, "email", customer.email, actor="test", verified=True)
    for purpose in ("marketing.communications", "analytics.usage"):
        ledger.grant(store, subject_id=subject.id, purpose=purpose, method="form", actor="test")
    before = sessions.read(keyring, sessions.issue(keyring, subject_id=subject.id, identity_type="email"))
    assert sessions.still_valid(store, before)
    request = file("closure", customer)
    verified(request)
    drain()
    assert request.status == "completed", (request.result, _errors(store))
    assert {c["purpose"] for c in request.result["consent"]} == {"marketing.communications", "analytics.usage"}
    for purpose in ("marketing.communications", "analytics.usage"):
        assert state(store, f"s:{subject.id}", purpose).event == "withdrawn"
    assert store.get(Subject, subject.id).status == "closed"
    assert shop_db.count(LOGINS, customer_id=customer.id) == 0
    assert not sessions.still_valid(store, before)  # every session of the person is over too


@pytest.mark.promise("P45")
def test_erasure_ends_every_consent_and_session(
    store: Session, keyring: Keyring, file, verified, drain, shop_db
) -> None:
    """P45: after an erasure the person's consents read withdrawn (with the reason and the request) and every
    subject session issued before it is over; a session issued afterwards works."""
    from privet.consent.ledger import service as ledger
    from privet.consent.ledger.projection import state
    from privet.consent.models import ConsentRecord
    from privet.subjects import sessions
    from privet.subjects.service import get_or_create_subject

    customer = shop_db.customers[2]
    subject, _ = get_or_create_subject(store, keyring, "email", customer.email, actor="test", verified=True)
    ledger.grant(store, subject_id=subject.id, purpose="marketing.communications", method="form", actor="test")
    before = sessions.read(keyring, sessions.issue(keyring, subject_id=subject.id, identity_type="email"))
    assert sessions.still_valid(store, before)
    request = file("erasure", customer)
    verified(request)
    drain()
    assert request.status == "completed", (request.result, _errors(store))
    assert state(store, f"s:{subject.id}", "marketing.communications").event == "withdrawn"
    last = store.scalars(
        select(ConsentRecord).where(ConsentRecord.subject_id == subject.id).order_by(ConsentRecord.at.desc())
    ).first()
    assert last.evidence["reason"] == "erasure" and last.evidence["source_id"] == request.reference
    assert not sessions.still_valid(store, before)
    after = sessions.read(keyring, sessions.issue(keyring, subject_id=subject.id, identity_type="email"))
    assert sessions.still_valid(store, after)
    assert "subject.sessions_ended" in [
        e.action for e in store.scalars(select(AuditEvent).where(AuditEvent.object_id == subject.id))
    ]


@pytest.mark.promise("P14", "P17")
def test_withdrawal_and_objection_are_ledger_records(store: Session, keyring: Keyring, file, verified, shop_db) -> None:
    from privet.consent.ledger.projection import state

    customer = shop_db.customers[0]
    withdrawal = file("withdrawal", customer, details={"purposes": ["marketing.communications"]})
    verified(withdrawal)
    assert withdrawal.status == "completed" and withdrawal.steps == []
    subject = withdrawal.subject_id
    assert state(store, f"s:{subject}", "marketing.communications").event == "withdrawn"
    objection = file("restriction", customer, details={"purposes": ["service.order", "analytics.usage"]})
    verified(objection)
    events = {c["purpose"]: c["event"] for c in objection.result["consent"]}
    assert events == {"service.order": "objected", "analytics.usage": "withdrawn"}
    assert state(store, f"s:{subject}", "service.order").event == "objected"


def test_a_correction_in_parts_sets_each_column_to_its_part(
    store: Session, file, verified, drain, shop_db, fake
) -> None:
    customer, other = shop_db.customers[1], shop_db.customers[2]
    untouched = shop_db.row(ADDRESSES, other.id)
    before = shop_db.row(ADDRESSES, customer.id)
    street = fake.street_address()
    request = file(
        "rectification",
        customer,
        details={"changes": {"user.contact.address": {"line1": street, "postcode": "518000"}}},
    )
    verified(request)
    drain()
    assert request.status == "completed", (request.result, _errors(store))
    row = shop_db.row(ADDRESSES, customer.id)
    assert row["street"] == street and row["postcode"] == "518000" and row["city"] == before["city"]
    assert shop_db.row(ADDRESSES, other.id) == untouched
    assert request.result["tables"]["shop_db"]["addresses"] == {"found": 1, "rectified": 1}


def test_a_correction_that_cannot_be_written_goes_to_an_officer_not_to_retries(
    store: Session, keyring: Keyring, conf: Settings, file, verified, drain, shop_db
) -> None:
    """The database changed after filing (the postcode column is gone): no retry can help, so the step becomes an
    officer's task at once, naming the column; the officer can reveal the requested value (audited)."""
    import sqlalchemy as sa

    from privet.connectors.sql import schema
    from privet.requests.manual import service as manual

    customer = shop_db.customers[0]
    request = file("rectification", customer, details={"changes": {"user.contact.address": {"postcode": "200000"}}})
    engine = shop_db.engine()
    with engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE addresses DROP COLUMN postcode"))
    engine.dispose()
    schema.forget()
    verified(request)
    drain()
    step = request.steps[0]
    assert request.status == "waiting" and step.status == "waiting" and step.attempts == 1, step.last_error
    assert "addresses.postcode" in step.last_error and "SchemaMismatch" in step.last_error
    task = manual.list_tasks(store, status="open")[0]
    assert "addresses.postcode" in task.instructions
    shown = manual.task_subject(store, keyring, task, actor="user:officer")
    assert shown["changes"] == {"user.contact.address": {"postcode": "200000"}}
    assert "request.step_handed_over" in _actions(store, request)
    manual.complete_task(
        store,
        keyring,
        conf,
        task.id,
        actor="user:officer",
        confirmation="corrected by hand",
        counts={"addresses": {"rectified": 1}},
    )
    drain()
    assert request.status == "completed" and request.result["tables"]["shop_db"]["addresses"]["rectified"] == 1


def test_an_erasure_on_a_changed_schema_fails_at_once_naming_the_column(
    store: Session, file, verified, drain, shop_db
) -> None:
    """A declared column is gone: the erasure changes nothing, is not retried, and the request says which column;
    nothing is reported as done."""
    import sqlalchemy as sa

    from privet.connectors.sql import schema

    customer = shop_db.customers[1]
    engine = shop_db.engine()
    with engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE login_events DROP COLUMN ip"))
    engine.dispose()
    schema.forget()
    request = file("erasure", customer)
    verified(request)
    drain()
    step = request.steps[0]
    assert request.status == "failed" and step.status == "failed" and step.attempts == 1
    assert "login_events.ip" in step.last_error and "datastore shop_db failed" in request.result["error"]
    assert shop_db.count(ADDRESSES, customer_id=customer.id) == 1 and shop_db.count(LOGINS, customer_id=customer.id)
    assert "request.completed" not in _actions(store, request) and not step.counts


@pytest.mark.parametrize("mode", ["complete", "review"])
def test_an_erasure_that_leaves_personal_data_says_so(
    store: Session, keyring: Keyring, conf: Settings, file, verified, drain, shop_db, tmp_path, mode: str
) -> None:
    """The data map gives login events no erasure action: their rows stay with personal data. The request does not
    end "completed": it ends completed_with_exceptions (or waits until an officer completes it), and the person's
    message counts the rows changed and names what was not erased and why."""
    from privet.datamap.service import validate_and_apply
    from privet.jobs.models import Job
    from privet.requests.messages.render import render_message
    from privet.requests.workflow.service import complete
    from tests.requests.shop import DATAMAP

    folder = tmp_path / "no-action"
    folder.mkdir()
    without = DATAMAP.replace(
        "      - name: login_events\n        primary_key: [id]\n        erasure: {{action: delete_row}}\n",
        "      - name: login_events\n        primary_key: [id]\n",
    )
    assert without != DATAMAP
    (folder / "shop.yaml").write_text(without.format(kind=shop_db.kind, profile="pipl"), encoding="utf-8")
    validate_and_apply(store, folder, actor="test")
    settings = conf.model_copy(update={"erasure_exceptions": mode})
    customer = shop_db.customers[1]
    request = file("erasure", customer)
    verified(request)
    drain(settings)
    assert shop_db.count(ADDRESSES, customer_id=customer.id) == 0  # what has an action is erased
    assert shop_db.count(LOGINS, customer_id=customer.id) == customer.logins  # the rest stays, and is said
    if mode == "review":
        assert request.status == "waiting", request.result
        assert "request.exceptions_review" in _actions(store, request)
        complete(
            store, keyring, settings, request, note="login events are erased by hand next week", actor="user:officer"
        )
    assert request.status == "completed_with_exceptions", request.result
    [exception] = request.result["exceptions"]
    assert exception["table"] == "login_events" and exception["reason"] == "no_action"
    assert exception["rows"] == customer.logins
    payload = store.scalars(select(Job.payload).where(Job.kind == "requests.message")).all()
    values = next(p["values"] for p in payload if p["request_id"] == request.id and p["kind"] == "completed")
    subject, body = render_message("completed", "en", reference=request.reference, request_type="erasure", **values)
    assert "with exceptions" in subject and "- Contact details: 1 deleted" in body
    assert f"- Device information ({customer.logins} records): no way to delete it has been set up yet" in body
    assert "shop_db" not in body and "login_events" not in body and ".." not in body and ".," not in body


@pytest.mark.promise("P14")
def test_rectification_updates_every_field_of_the_category(
    store: Session, file, verified, drain, shop_db, fake
) -> None:
    customer = shop_db.customers[1]
    new_email = fake.unique.email()
    request = file("rectification", customer, details={"changes": {"user.contact.email": new_email}})
    verified(request)
    drain()
    assert request.status == "completed", (request.result, _errors(store))
    assert shop_db.row(CUSTOMERS, customer.id)["email"] == new_email.lower()
    assert request.result["tables"]["shop_db"]["customers"]["rectified"] == 1


def test_a_datastore_that_is_down_retries_then_fails_naming_it(
    store: Session, keyring: Keyring, conf: Settings, file, verified, drain, shop_db, tmp_path
) -> None:
    from privet.jobs.models import Job

    down = conf.model_copy(update={"secrets": {"shop_db": f"sqlite:///{tmp_path / 'missing' / 'gone.sqlite'}"}})
    request = file("erasure", shop_db.customers[0])
    verified(request)
    drain(down)
    step = request.steps[0]
    assert step.status == "failed" and step.attempts == conf.jobs_max_attempts
    assert step.last_error.startswith("shop_db: ")
    assert request.status == "failed" and request.result["failed"] == ["shop_db"]
    assert "completed" not in _actions(store, request) and request.completed_at is None
    job = store.scalars(select(Job).where(Job.kind == "requests.step")).one()
    assert job.status == "failed" and shop_db.customers[0].email not in (job.last_error or "")
    # the datastore is back: an officer runs the request again and it completes
    from privet.requests.workflow.service import run

    assert run(store, keyring, conf, request, actor="user:officer") == 1
    drain()
    assert request.status == "completed" and "failed" not in request.result


class Killed(BaseException):
    """Stands for the process being killed: nothing in Privet catches it, the job row stays `running`."""


@pytest.mark.parametrize("crash_on", ["step_finished", "_call"])
def test_killed_worker_resumes_without_repeating(
    store: Session, keyring: Keyring, conf: Settings, file, verified, drain, shop_db, monkeypatch, crash_on: str
) -> None:
    """Killed after the datastore committed its erasure (before or while recording it): once the job's lease runs
    out the step is taken up again, recognises from its intent that the erasure was committed, records the counts
    of what changed (not the zeros a second run would find), and the proof says the step was resumed."""
    from privet.kit.clock import frozen_at
    from privet.requests.execution import executor, runner

    customer = shop_db.customers[2]
    request = file("erasure", customer)
    verified(request)
    target = executor if crash_on == "step_finished" else runner
    real = getattr(target, crash_on)
    calls = []

    def crash_once(*args, **kwargs):
        out = real(*args, **kwargs)  # the datastore has committed (or the outcome was just written, uncommitted)
        calls.append(1)
        if len(calls) == 1:
            raise Killed()
        return out

    monkeypatch.setattr(target, crash_on, crash_once)
    with pytest.raises(Killed):
        drain()
    store.expire_all()
    assert request.steps[0].status == "running" and shop_db.count(ADDRESSES, customer_id=customer.id) == 0
    with frozen_at(utcnow() + timedelta(seconds=conf.jobs_lease_seconds + 60)):  # the dead worker's lease ran out
        drain()
    # the datastore is not called again: its intent was found committed (a crashed recording is simply redone)
    assert len(calls) == (1 if crash_on == "_call" else 2) and request.status == "completed", request.result
    step = request.steps[0]
    assert step.attempts == 2 and step.last_error == executor.INTERRUPTED
    assert step.counts["addresses"]["deleted"] == customer.addresses and step.intent_enc is None
    assert request.result["resumed"] == ["shop_db"]
    assert shop_db.count(ORDERS, customer_id=customer.id) == customer.orders  # retained rows still there, once
    assert shop_db.count(ITEMS) == sum(c.items for c in shop_db.customers) - customer.items
    assert shop_db.row(CUSTOMERS, customer.id)["email"] is None
    assert "request.step_resumed" in _actions(store, request)
