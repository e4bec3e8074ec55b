"""P43 / P2 collection check: a form's fields against the purpose's required and optional categories, by service
call, over HTTP (scoped) and through the SDK."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from privet.datamap import collection
from privet.datamap.collection import Field
from privet.kit.errors import InvalidInput
from tests.consent.test_sdk import server  # noqa: F401 - fixture: the app served on a loopback port
from tests.datamap.factories import crm_doc

pytestmark = [pytest.mark.promise("P43"), pytest.mark.promise("P2")]
URL = "/api/v1/collection/check"
SIGNUP = {
    "key": "signup",
    "name": "Sign-up",
    "purpose": "service.account",
    "legal_basis": "contract",
    "required_categories": ["user.contact.phone", "user.account.username"],
    "optional_categories": ["user.name", "user.contact.email"],
    "subject_types": ["customer"],
    "datasets": ["crm"],
    "retention": {"trigger": "account_closure", "duration": "P3Y"},
}
CHILD_SIGNUP = {
    **SIGNUP,
    "key": "child_signup",
    "name": "Child sign-up",
    "legal_basis": "separate_consent",
    "required_categories": ["user.minor", "user.demographic.date_of_birth"],
    "optional_categories": [],
    "subject_types": ["child", "guardian"],
}


@pytest.fixture
def mapped(db: Session) -> Session:
    """The CRM data map with a sign-up activity and its children's variant."""
    from privet.datamap.schemas import Manifest
    from privet.datamap.service import apply

    doc = crm_doc()
    doc["processing_activities"] += [SIGNUP, CHILD_SIGNUP]
    apply(db, Manifest.model_validate(doc), actor="test")
    db.flush()
    return db


def _fields(*categories: str) -> list[Field]:
    return [Field(c) for c in categories]


def test_required_missing_optional_and_not_needed(mapped: Session) -> None:
    found = collection.check(
        mapped,
        "service.account",
        [
            Field("user.contact.phone", "mobile"),
            Field("user.contact.email", "email"),
            Field("user.demographic.date_of_birth", "birthday"),
        ],
    )
    assert found.required == ["user.contact.phone", "user.account.username"]
    assert found.optional == ["user.name", "user.contact.email"]
    assert found.missing == ["user.account.username"] and found.not_needed == ["user.demographic.date_of_birth"]
    assert not found.fits and found.activities == ["signup"]  # children's requirements apart by default
    body = found.as_dict()
    assert body["optional_present"] == ["user.contact.email"]
    assert [(f["name"], f["status"]) for f in body["fields"]] == [
        ("mobile", "required"),
        ("email", "optional"),
        ("birthday", "not_needed"),
    ]
    fitting = collection.check(mapped, "service.account", _fields("user.contact.phone", "user.account.username"))
    assert fitting.fits and fitting.missing == [] and fitting.not_needed == []


def test_depth_of_categories_sub_purposes_and_children(mapped: Session) -> None:
    # a narrower field meets a broader declaration; a narrower purpose is checked against its declared one
    found = collection.check(
        mapped,
        "service.support",
        _fields("user.contact.email", "user.name", "user.account.user_id", "user.organisation.name"),
    )
    assert found.fits and found.fields[0].declared == "user.contact"
    narrower = collection.check(mapped, "marketing.communications.email", _fields("user.contact.email"))
    assert narrower.fits and narrower.declared_purpose == "marketing.communications.email"
    child = collection.check(mapped, "service.account", _fields("user.minor"), subject_type="child")
    assert child.activities == ["child_signup"]
    assert "user.demographic.date_of_birth" in child.missing and child.fields[0].status == "required"
    chosen = collection.check(mapped, "service.account", _fields("user.minor"), activity="child_signup")
    assert chosen.missing == ["user.demographic.date_of_birth"] and chosen.fields[0].sensitive


def test_bad_questions_are_refused_with_where_and_how(mapped: Session) -> None:
    with pytest.raises(InvalidInput, match="undeclared purpose") as caught:
        collection.check(mapped, "research", _fields("user.name"))
    assert caught.value.problems[0].where == "purpose"
    with pytest.raises(InvalidInput) as caught:
        collection.check(mapped, "service.account", _fields("user.name", "user.no_such_thing"))
    assert caught.value.problems[0].where == "fields.1.category"
    with pytest.raises(InvalidInput, match="Unknown purpose"):
        collection.check(mapped, "no.such.purpose", _fields("user.name"))
    with pytest.raises(InvalidInput, match="No activity"):
        collection.check(mapped, "service.account", _fields("user.name"), activity="accounting")


def test_the_api_is_scoped_and_answers_in_both_languages(client: TestClient, mapped: Session, auth: Callable) -> None:
    body = {
        "purpose": "service.account",
        "lang": "zh_CN",
        "fields": [{"name": "mobile", "category": "user.contact.phone"}, "user.account.username", "user.name"],
    }
    answer = client.post(URL, json=body, headers=auth("decide"))
    assert answer.status_code == 200, answer.text
    out = answer.json()
    assert out["fits"] and out["optional_present"] == ["user.name"] and out["fields"][0]["name"] == "mobile"
    assert out["names"]["user.contact.phone"] != "user.contact.phone"  # a Chinese name, not the key
    assert client.post(URL, json=body, headers=auth("datamap:read")).status_code == 403
    assert client.post(URL, json=body).status_code == 401
    bad = client.post(URL, json={**body, "fields": ["user.nope"]}, headers=auth("decide"))
    assert bad.status_code == 422 and bad.json()["errors"][0]["where"] == "fields.0.category"
    assert client.post(URL, json={**body, "fields": []}, headers=auth("decide")).status_code == 422


def test_bad_questions_over_http_are_problems_and_write_nothing(
    client: TestClient, mapped: Session, auth: Callable
) -> None:
    from sqlalchemy import func, select

    from privet.audit.models import AuditEvent

    headers = auth("decide")
    written = mapped.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
    cases = [
        ({"purpose": "no.such.purpose", "fields": ["user.name"]}, "purpose", "Unknown purpose"),
        ({"purpose": "research", "fields": ["user.name"]}, "purpose", "undeclared purpose"),
        ({"purpose": "service.account", "fields": ["user.name"], "activity": "accounting"}, "activity", "No activity"),
        (
            {"purpose": "service.account", "fields": ["user.name"], "subject_type": "alien"},
            "subject_type",
            "Unknown subject type",
        ),
    ]
    for body, where, detail in cases:
        answer = client.post(URL, json=body, headers=headers)
        problem = answer.json()
        assert answer.status_code == 422 and problem["errors"][0]["where"] == where and detail in problem["detail"]
        assert problem["hint"] or problem["errors"][0]["hint"]
    for body in (
        {"purpose": "service.account", "fields": "user.name"},  # not a list
        {"purpose": "service.account", "fields": ["user.name"], "colour": "red"},  # unknown member
        {"purpose": "service.account", "fields": [{"name": "x"}]},  # a field without its category
        {"purpose": "service.account", "fields": ["user.name"], "lang": "fr"},
    ):
        answer = client.post(URL, json=body, headers=headers)
        assert answer.status_code == 422 and answer.json()["title"], answer.text
    assert mapped.execute(select(func.count()).select_from(AuditEvent)).scalar_one() == written  # nothing written


def test_the_sdk_checks_a_form(server: str, mapped: Session, auth: Callable) -> None:
    from privet.sdk import PrivetAPIError, PrivetClient

    token = auth("decide")["Authorization"].removeprefix("Bearer ")
    with PrivetClient(server, token) as privet:
        form = privet.check_collection(
            "service.account", {"mobile": "user.contact.phone", "birthday": "user.demographic.date_of_birth"}
        )
        assert not form.fits and form.missing == ("user.account.username",)
        assert form.not_needed == ("user.demographic.date_of_birth",)
        assert [f["name"] for f in form.fields] == ["mobile", "birthday"]
        assert privet.check_collection("service.account", ["user.contact.phone", "user.account.username"]).fits
        with pytest.raises(PrivetAPIError) as caught:
            privet.check_collection("research", ["user.name"])
        assert caught.value.status == 422
