"""The verification gate (P15): nothing runs before the identity is proven; the clock starts at verification."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from privet.jobs.models import Job
from privet.kit.clock import frozen_at
from privet.kit.crypto import Keyring
from privet.kit.errors import Conflict, Forbidden, InvalidInput, NotFound
from privet.requests.intake.verify import record_identity_check, send_code, verify_with_code, verify_with_subject
from privet.requests.law import deadlines
from privet.requests.models import RequestStep
from privet.settings import Settings
from privet.subjects.service import find_subject, get_or_create_subject
from privet.subjects.verification import CodeRejected


def _step_jobs(db: Session) -> list[Job]:
    return list(db.scalars(select(Job).where(Job.kind == "requests.step")))


@pytest.mark.promise("P15")
def test_nothing_runs_before_verification(store: Session, file, shop_db, drain) -> None:
    request = file("access", shop_db.customers[0])
    assert _step_jobs(store) == [] and request.steps == []
    drain()  # only the "received" message goes out
    assert request.status == "unverified" and not store.scalars(select(RequestStep)).all()


def test_code_verifies_starts_the_clock_and_queues_steps(
    store: Session, keyring: Keyring, conf: Settings, file, shop_db, smtp
) -> None:
    customer = shop_db.customers[0]
    at = datetime(2025, 9, 29, 2, 0, tzinfo=UTC)  # the Monday before the PRC National Day week
    with frozen_at(at):
        request = file("erasure", customer)
        start = send_code(store, keyring, conf, request)
        code = smtp.code_for(customer.email)
        verify_with_code(store, keyring, conf, request, challenge_id=start.challenge_id, code=code)
    assert request.status == "running" and request.verified_at == at and request.verify_by is None
    assert request.due_on == deadlines.due_on("pipl", "erasure", date(2025, 9, 29))
    assert request.due_on > date(2025, 10, 17)  # 15 working days, holidays not counted
    subject = find_subject(store, keyring, "email", customer.email)
    assert request.subject_id == subject.id
    assert [s.datastore_key for s in request.steps] == ["shop_db"]
    assert [j.payload for j in _step_jobs(store)] == [{"step_id": request.steps[0].id}]


def test_wrong_code_and_a_code_for_someone_else(
    store: Session, keyring: Keyring, conf: Settings, file, shop_db, smtp
) -> None:
    mine, theirs = shop_db.customers[0], shop_db.customers[1]
    request = file("access", mine)
    other = file("access", theirs)
    start_other = send_code(store, keyring, conf, other)
    with pytest.raises(NotFound):  # the other request's code cannot verify this one, nor is it used up
        verify_with_code(
            store, keyring, conf, request, challenge_id=start_other.challenge_id, code=smtp.code_for(theirs.email)
        )
    start = send_code(store, keyring, conf, request)
    code = smtp.code_for(mine.email)
    with pytest.raises(CodeRejected):
        verify_with_code(
            store, keyring, conf, request, challenge_id=start.challenge_id, code=f"{(int(code) + 1) % 1_000_000:06d}"
        )
    assert request.status == "unverified" and request.subject_id is None
    verify_with_code(
        store, keyring, conf, other, challenge_id=start_other.challenge_id, code=smtp.code_for(theirs.email)
    )
    assert other.status == "running"


def test_subject_session_must_hold_the_identity(
    store: Session, keyring: Keyring, conf: Settings, file, shop_db
) -> None:
    mine, theirs = shop_db.customers[0], shop_db.customers[1]
    me, _ = get_or_create_subject(store, keyring, "email", mine.email, actor="test", verified=True)
    request = file("access", theirs)
    with pytest.raises(Forbidden):
        verify_with_subject(store, keyring, conf, request, subject_id=me.id, method="session")
    assert request.status == "unverified"
    own = file("access", mine)
    verify_with_subject(store, keyring, conf, own, subject_id=me.id, method="session")
    assert own.status == "running" and own.subject_id == me.id


def test_staff_identity_check_is_recorded(store: Session, keyring: Keyring, conf: Settings, file, shop_db) -> None:
    request = file("access", shop_db.customers[2], channel="staff_phone", filed_by="user:officer")
    with pytest.raises(InvalidInput):
        record_identity_check(store, keyring, conf, request, method="gut_feeling", note=None, actor="user:officer")
    with pytest.raises(InvalidInput):  # notes are stored in clear: no contact details in them
        record_identity_check(
            store,
            keyring,
            conf,
            request,
            method="call_back",
            note=f"called {shop_db.customers[2].phone}",
            actor="user:officer",
        )
    record_identity_check(
        store, keyring, conf, request, method="call_back", note="called the number on file", actor="user:officer"
    )
    assert request.status == "running"
    assert request.details["identity_check"] == {
        "method": "call_back",
        "by": "user:officer",
        "note": "called the number on file",
    }
    with pytest.raises(Conflict):
        record_identity_check(store, keyring, conf, request, method="call_back", note=None, actor="user:officer")


def test_manual_approval_types_wait_for_an_officer(
    store: Session, keyring: Keyring, conf: Settings, file, shop_db, verified
) -> None:
    from privet.jobs import dispatch

    strict = conf.model_copy(update={"requests_manual_approval": ["erasure"]})
    store.info[dispatch.SETTINGS_KEY] = strict
    request = file("erasure", shop_db.customers[0])
    record_identity_check(store, keyring, strict, request, method="id_document", note=None, actor="user:officer")
    assert request.status == "pending_approval" and request.due_on is not None
    assert _step_jobs(store) == []
