"""Filing requests: every bad input refused with all its problems and nothing stored; good input encrypted."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from privet.audit.models import AuditEvent
from privet.jobs.models import Job
from privet.kit.crypto import Keyring
from privet.kit.errors import InvalidInput
from privet.requests.crypto import decrypt_json, details_context
from privet.requests.intake.service import file_request
from privet.requests.models import DsrRequest
from privet.requests.service import identity_value, normalise_reference
from privet.settings import Settings


def _count(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(DsrRequest))


def _problems(exc: pytest.ExceptionInfo) -> dict[str, str]:
    return {p.where: p.message for p in exc.value.problems}


def test_access_request_is_stored_encrypted_and_unverified(
    store: Session, keyring: Keyring, conf: Settings, file, shop_db
) -> None:
    customer = shop_db.customers[0]
    request = file("access", identity=customer.email.upper())
    assert request.status == "unverified" and request.subject_id is None and request.due_on is None
    assert request.reference.startswith("R-") and len(request.reference) == 10
    assert request.profile == "pipl" and request.language == "en"
    assert request.verify_by - request.received_at == timedelta(days=conf.requests_verify_days)
    assert customer.email.encode() not in request.identity_enc
    assert identity_value(keyring, request) == customer.email.lower()
    assert request.identity_blind_index == keyring.blind_index("email", customer.email.lower())
    events = store.scalars(select(AuditEvent).where(AuditEvent.object_id == request.id)).all()
    assert [e.action for e in events] == ["request.filed"]
    assert customer.email not in str(events[0].details)
    jobs = store.scalars(select(Job).where(Job.kind == "requests.message")).all()
    assert [j.payload["kind"] for j in jobs] == ["received"] and customer.email not in str(jobs[0].payload)


def test_unknown_type_lists_the_types_and_stores_nothing(store: Session, file, shop_db) -> None:
    before = _count(store)
    with pytest.raises(InvalidInput) as exc:
        file("delete_everything", shop_db.customers[0])
    assert "erasure" in exc.value.problems[0].hint and "access" in exc.value.problems[0].hint
    assert _count(store) == before


@pytest.mark.parametrize(
    ("identity_type", "value"), [("email", "not-an-address"), ("phone", "12"), ("passport", "E1234567")]
)
def test_malformed_identity_is_refused(store: Session, file, identity_type: str, value: str) -> None:
    before = _count(store)
    with pytest.raises(InvalidInput) as exc:
        file("access", identity_type=identity_type, identity=value)
    assert value not in str(exc.value.as_problem())  # the value is never echoed back
    assert _count(store) == before


def test_all_problems_at_once(store: Session, file) -> None:
    with pytest.raises(InvalidInput) as exc:
        file(
            "rectification",
            identity="nobody",
            channel="fax",
            language="fr",
            details={"changes": {"user.contact.email": "still-not-an-email", "user.made_up": "x"}, "extra": 1},
        )
    where = _problems(exc)
    assert {
        "identity",
        "channel",
        "language",
        "details.extra",
        "details.changes.user.contact.email",
        "details.changes.user.made_up",
    } <= set(where)


def test_rectification_values_are_validated_normalised_and_encrypted(
    store: Session, keyring: Keyring, file, shop_db, fake
) -> None:
    new_email = fake.unique.email().upper()
    request = file(
        "rectification",
        shop_db.customers[0],
        details={"changes": {"user.contact.email": new_email, "user.name": fake.name()}},
    )
    assert request.details == {"categories": ["user.contact.email", "user.name"]}
    secret = decrypt_json(keyring, request.details_enc, context=details_context(request.id))
    assert secret["changes"]["user.contact.email"] == new_email.lower()
    assert new_email.lower().encode() not in request.details_enc


def test_rectification_of_a_category_no_field_holds_is_refused(store: Session, file, shop_db) -> None:
    with pytest.raises(InvalidInput) as exc:
        file("rectification", shop_db.customers[0], details={"changes": {"user.demographic.date_of_birth": "2000"}})
    assert "no field of the data map" in exc.value.problems[0].message


def test_a_correction_in_parts_is_checked_against_each_column_when_filed(store: Session, file, shop_db, fake) -> None:
    """An address stored in columns (line1, city, postcode) is corrected in parts; a part too long for its column,
    a part no column holds, or a whole address for columns holding parts is refused when filed, naming the column
    or part, and nothing is stored."""
    customer = shop_db.customers[0]
    before = _count(store)
    cases = [
        ({"user.contact.address": fake.address()}, "details.changes.user.contact.address", "stored in parts"),
        (
            {"user.contact.address": {"postcode": "1234567890123"}},
            "details.changes.user.contact.address.postcode",
            "addresses.postcode",
        ),
        (
            {"user.contact.address": {"moon": "Crater 1"}},
            "details.changes.user.contact.address.moon",
            "no column holds",
        ),
    ]
    for changes, where, said in cases:
        with pytest.raises(InvalidInput) as exc:
            file("rectification", customer, details={"changes": changes})
        problems = {p.where: f"{p.message} {p.hint}" for p in exc.value.problems}
        assert where in problems and said in problems[where].lower() + problems[where], problems
    assert _count(store) == before
    fine = file(
        "rectification",
        customer,
        details={"changes": {"user.contact.address": {"line1": fake.street_address(), "postcode": "100000"}}},
    )
    assert fine.details == {"categories": ["user.contact.address"]}


def test_withdrawal_needs_consent_purposes(store: Session, file, shop_db) -> None:
    customer = shop_db.customers[0]
    with pytest.raises(InvalidInput) as exc:
        file("withdrawal", customer, details={"purposes": ["service.order", "marketing.nonsense"]})
    where = _problems(exc)
    assert "does not rest on consent" in where["details.purposes.0"] and "details.purposes.1" in where
    request = file("withdrawal", customer, details={"purposes": ["marketing.communications"]})
    assert request.details == {"purposes": ["marketing.communications"]}


def test_restriction_takes_declared_purposes_and_a_mode(store: Session, file, shop_db) -> None:
    with pytest.raises(InvalidInput):
        file("restriction", shop_db.customers[0], details={"purposes": ["service.order"], "mode": "ban"})
    request = file("restriction", shop_db.customers[0], details={"purposes": ["service.order"]})
    assert request.details == {"purposes": ["service.order"], "mode": "object"}


def test_complaint_text_is_encrypted(store: Session, keyring: Keyring, file, shop_db, fake) -> None:
    text = fake.paragraph()
    request = file("complaint", shop_db.customers[0], details={"text": text})
    assert text.encode() not in request.details_enc
    assert decrypt_json(keyring, request.details_enc, context=details_context(request.id)) == {"text": text}
    with pytest.raises(InvalidInput):
        file("complaint", shop_db.customers[0], details={"text": "  "})


@pytest.mark.promise("P6")
def test_agent_requests_name_the_agent_and_mandate(store: Session, file, shop_db) -> None:
    customer = shop_db.customers[0]
    with pytest.raises(InvalidInput) as exc:
        file("access", customer, channel="agent", filed_by="user:agent")
    assert "agent" in _problems(exc)
    with pytest.raises(InvalidInput) as exc:
        file("access", customer, channel="agent", agent={"name": "Legal Aid Office"}, filed_by="user:agent")
    assert "agent.authorisation" in _problems(exc)
    request = file(
        "access",
        customer,
        channel="agent",
        filed_by="user:agent",
        agent={"name": "Legal Aid Office", "organisation": "City Law Centre", "authorisation": "POA-17"},
    )
    assert request.agent == {"name": "Legal Aid Office", "organisation": "City Law Centre", "authorisation": "POA-17"}


def test_profile_follows_the_organisation_and_chinese_language(
    db: Session, keyring: Keyring, conf: Settings, shop_db, tmp_path
) -> None:
    from privet.datamap.service import validate_and_apply
    from tests.requests.shop import write_datamap

    validate_and_apply(db, write_datamap(tmp_path / "gdpr", shop_db.kind, profile="gdpr"), actor="test")
    request = file_request(
        db,
        keyring,
        conf,
        request_type="access",
        identity_type="phone",
        identity=shop_db.customers[1].phone,
        filed_by="public:api",
        language="zh-CN",
    )
    assert request.profile == "gdpr" and request.language == "zh_CN"


def test_references_are_found_however_typed(store: Session, file, shop_db) -> None:
    from privet.requests.service import by_reference

    request = file("access", shop_db.customers[0])
    assert normalise_reference(request.reference[2:].lower()) == request.reference
    assert by_reference(store, " " + request.reference.lower()).id == request.id
