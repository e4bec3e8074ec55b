"""Staff subject routes: scopes, identities only in bodies and only masked in answers, problems without values."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from faker import Faker
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from privet.audit.models import AuditEvent

API = "/api/v1/subjects"


def _create(client: TestClient, headers: dict, *identities: tuple[str, str], **extra: object) -> dict:
    body = {"identities": [{"type": t, "value": v} for t, v in identities], **extra}
    response = client.post(API, json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def test_routes_need_credentials_and_scopes(client: TestClient, auth: Callable[..., dict], fake: Faker) -> None:
    body = {"type": "email", "value": fake.email()}
    assert client.post(f"{API}/lookup", json=body).status_code == 401
    assert client.get(f"{API}/flagged").status_code == 401
    reader = auth("subjects:read")
    refused = client.post(API, json={"identities": [body]}, headers=reader)
    assert refused.status_code == 403 and "subjects:write" in refused.json()["detail"]
    assert client.post(f"{API}/lookup", json=body, headers=auth("consent:read")).status_code == 403
    assert client.post(f"{API}/lookup", json=body, headers=reader).status_code == 404


def test_create_and_lookup_show_only_masked_values(
    client: TestClient, auth: Callable[..., dict], fake: Faker, fake_cn: Faker
) -> None:
    headers = auth("subjects:read", "subjects:write")
    email, mobile = fake.email(), fake_cn.phone_number()
    created = _create(client, headers, ("email", email), ("phone", mobile), subject_type="customer")
    found = client.post(f"{API}/lookup", json={"type": "phone", "value": f"+86{mobile}"}, headers=headers)
    assert found.status_code == 200 and found.json()["id"] == created["id"]
    body = found.json()
    assert body["status"] == "active" and body["subject_type"] == "customer" and body["age"]["status"] == "unknown"
    masked = {i["type"]: i["masked"] for i in body["identities"]}
    local, domain = email.split("@")
    assert masked == {
        "email": f"{local[0]}***@{domain[0]}***.{domain.rsplit('.', 1)[1]}",
        "phone": f"+86 ***{mobile[-4:]}",
    }
    assert [i["verified"] for i in body["identities"]] == [False, False]
    for response in (found, client.get(f"{API}/{created['id']}", headers=headers)):
        assert email not in response.text and mobile not in response.text and local not in response.text


def test_bad_identities_get_problems_without_the_value(client: TestClient, auth: Callable[..., dict]) -> None:
    headers = auth("subjects:read", "subjects:write")
    bad = client.post(f"{API}/lookup", json={"type": "phone", "value": "55501234"}, headers=headers)
    assert bad.status_code == 422 and "55501234" not in bad.text and "+86" in bad.json()["hint"]
    unknown = client.post(API, json={"identities": [{"type": "passport", "value": "E1234567"}]}, headers=headers)
    assert unknown.status_code == 422 and "E1234567" not in unknown.text
    empty = client.post(API, json={"identities": []}, headers=headers)
    assert empty.status_code == 422
    assert client.get(f"{API}/nonexistent", headers=headers).status_code == 404


def test_conflict_then_merge(client: TestClient, auth: Callable[..., dict], fake: Faker, db: Session) -> None:
    headers = auth("subjects:read", "subjects:write")
    email, user_id = fake.email(), fake.uuid4()
    first = _create(client, headers, ("email", email))
    second = _create(client, headers, ("user_id", user_id))
    again = client.post(API, json={"identities": [{"type": "email", "value": email}]}, headers=headers)
    assert again.status_code == 409
    conflict = client.post(
        f"{API}/{second['id']}/identities", json={"type": "email", "value": email.upper()}, headers=headers
    )
    assert conflict.status_code == 409 and "merge" in conflict.json()["hint"] and email not in conflict.text
    merged = client.post(f"{API}/merge", json={"keep_id": first["id"], "absorb_id": second["id"]}, headers=headers)
    assert merged.status_code == 200 and merged.json()["merged_ids"] == [second["id"]]
    assert {i["type"] for i in merged.json()["identities"]} == {"email", "user_id"}
    found = client.post(f"{API}/lookup", json={"type": "user_id", "value": user_id}, headers=headers)
    assert found.json()["id"] == first["id"]
    assert client.get(f"{API}/{second['id']}", headers=headers).json()["id"] == first["id"]
    added = client.post(
        f"{API}/{first['id']}/identities",
        json={"type": "device_serial", "value": "ab-1234", "verified": True},
        headers=headers,
    )
    assert added.status_code == 201
    assert next(i for i in added.json()["identities"] if i["type"] == "device_serial")["verified"]
    events = list(db.execute(select(AuditEvent)).scalars())
    merge_event = next(e for e in events if e.action == "subject.merged")
    assert merge_event.actor.startswith("apikey:") and merge_event.details["absorbed_id"] == second["id"]
    details = " ".join(str(e.details) for e in events)
    assert email not in details and email.lower() not in details and user_id not in details


def test_ages_guardians_and_flags(
    client: TestClient, auth: Callable[..., dict], fake: Faker, apply_policy: Callable[..., None]
) -> None:
    headers = auth("subjects:read", "subjects:write")
    parent = _create(client, headers, ("email", fake.email()))
    child = _create(client, headers, ("email", fake.email()))
    born_parent, born_child = fake.date_of_birth(minimum_age=30, maximum_age=60), date.today().replace(day=1)
    assert (
        client.post(
            f"{API}/{parent['id']}/birth-date", json={"birth_date": born_parent.isoformat()}, headers=headers
        ).json()["age"]["status"]
        == "adult"
    )
    kid = client.post(
        f"{API}/{child['id']}/birth-date", json={"birth_date": f"{born_child.year - 8}-01-01"}, headers=headers
    )
    assert (
        kid.status_code == 200
        and kid.json()["age"]["status"] == "child"
        and born_parent.isoformat() not in client.get(f"{API}/{parent['id']}", headers=headers).text
    )
    link = client.post(
        f"{API}/{child['id']}/guardians",
        json={"guardian_id": parent["id"], "relationship": "parent", "verified_method": "sms_code"},
        headers=headers,
    )
    assert link.status_code == 201 and link.json()["verified_at"]
    shown = client.get(f"{API}/{child['id']}", headers=headers).json()
    assert [g["guardian_id"] for g in shown["guardians"]] == [parent["id"]]
    wrong = client.post(
        f"{API}/{parent['id']}/guardians", json={"guardian_id": child["id"], "relationship": "parent"}, headers=headers
    )
    assert wrong.status_code == 422
    revoked = client.post(
        f"{API}/{child['id']}/guardians/{link.json()['id']}/revoke", json={"reason": "court_order"}, headers=headers
    )
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    assert client.get(f"{API}/flagged", headers=headers).json() == []
    apply_policy(adults_only=True)
    teen = _create(client, headers, ("email", fake.email()))
    answer = client.post(f"{API}/{teen['id']}/age-attestation", json={"is_adult": False}, headers=headers)
    assert answer.json()["age"]["deletion_reason"] == "minor_in_adults_only"
    flagged = client.get(f"{API}/flagged", headers=headers).json()
    assert [f["id"] for f in flagged] == [teen["id"]] and flagged[0]["reason"] == "minor_in_adults_only"
