"""Taxonomy routes: scope-guarded, bilingual, filtered, and 404 problems for unknown sections and keys."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from privet.auth import service as auth
from privet.taxonomy import service

API = "/api/v1/taxonomy"


@pytest.fixture
def bearer(db: Session) -> Callable[..., dict]:
    """Authorization headers for a real API key with these scopes (inside the test's transaction)."""

    def make(*scopes: str) -> dict:
        _key, token = auth.create_api_key(db, "taxonomy-test", list(scopes), actor="test:taxonomy")
        db.flush()
        return {"Authorization": f"Bearer {token}"}

    return make


def test_needs_a_key_with_the_scope(client: TestClient, bearer) -> None:
    assert client.get(f"{API}/categories").status_code == 401
    response = client.get(f"{API}/categories", headers=bearer("datamap:read"))
    assert response.status_code == 403 and "taxonomy:read" in response.json()["detail"]


def test_list_categories_in_chinese_with_inherited_sensitivity(client: TestClient, bearer) -> None:
    body = client.get(f"{API}/categories", params={"lang": "zh_CN"}, headers=bearer("taxonomy:read")).json()
    assert body["section"] == "categories" and body["lang"] == "zh_CN" and body["count"] == len(body["items"])
    items = {i["key"]: i for i in body["items"]}
    passport = items["user.government_id.passport"]
    assert passport["label"] == "护照" and passport["sensitive"] == "identity_document"
    assert passport["ancestors"] == ["user.government_id", "user"] and passport["fideslang"].startswith("user.")
    assert "sensitive" not in items["user.contact.email"]  # empty fields are left out


def test_filters_by_parent_and_sensitivity(client: TestClient, bearer) -> None:
    headers = bearer("taxonomy:read")
    children = client.get(f"{API}/purposes", params={"parent": "marketing"}, headers=headers).json()["items"]
    assert {c["key"] for c in children} >= {"marketing.communications", "marketing.surveys"}
    assert all(c["parent"] == "marketing" and c["type"] == "marketing" for c in children)
    sensitive = client.get(f"{API}/categories", params={"sensitive": "true"}, headers=headers).json()["items"]
    assert sensitive and all(c.get("sensitive") for c in sensitive)
    assert client.get(f"{API}/purposes", params={"parent": "nope"}, headers=headers).status_code == 404


def test_other_sections_and_one_entry(client: TestClient, bearer) -> None:
    headers = bearer("taxonomy:read")
    bases = client.get(f"{API}/legal-bases", headers=headers).json()["items"]
    assert {b["key"]: b["profiles"] for b in bases}["legitimate_interest"] == ["gdpr"]
    identity = client.get(f"{API}/identity-types/device_serial", headers=headers).json()
    assert identity["category"] == "user.device.serial_number"
    entry = client.get(f"{API}/subject-types/guardian", params={"lang": "zh_CN"}, headers=headers).json()
    assert entry["label"] == "监护人" and entry["source"] == "default"


def test_unknown_section_key_and_language(client: TestClient, bearer) -> None:
    headers = bearer("taxonomy:read")
    response = client.get(f"{API}/colours", headers=headers)
    assert response.status_code == 404 and response.headers["content-type"] == "application/problem+json"
    assert "legal-bases" in response.json()["hint"]
    response = client.get(f"{API}/categories/user.contact.emial", headers=headers)
    assert response.status_code == 404 and "user.contact.email" in response.json()["hint"]
    assert client.get(f"{API}/categories", params={"lang": "fr"}, headers=headers).status_code == 422


def test_company_extension_is_served(client: TestClient, bearer, db: Session) -> None:
    service.set_extension(
        db, {"categories": [{"key": "user.contact.wechat_id", "name": {"en": "WeChat ID"}}]}, actor="test:taxonomy"
    )
    db.flush()
    entry = client.get(
        f"{API}/categories/user.contact.wechat_id", params={"lang": "zh_CN"}, headers=bearer("taxonomy:read")
    ).json()
    assert entry["source"] == "company" and entry["label"] == "WeChat ID"  # English when no Chinese name
