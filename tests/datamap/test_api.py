"""The data map over HTTP: YAML or JSON bodies, problem bodies on bad input, versions, evaluation, browsing."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import yaml
from fastapi.testclient import TestClient

from privet.datamap.service import canonical
from privet.kit.yamlio import load_text
from tests.datamap.factories import CRM_YAML, crm_doc, crm_manifest, line_of_text

BASE = "/api/v1/datamap"
YAML = {"Content-Type": "application/yaml"}


@pytest.fixture
def writer(auth: Callable) -> dict[str, str]:
    return auth("datamap:read", "datamap:write")


def _apply(client: TestClient, headers: dict, text: str = CRM_YAML):
    return client.post(f"{BASE}/apply", content=text.encode(), headers={**headers, **YAML})


def test_apply_yaml_then_read_export_and_versions(client: TestClient, writer: dict) -> None:
    assert client.get(BASE, headers=writer).status_code == 404
    answer = _apply(client, writer)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["changed"] and body["version"] == 1 and body["counts"]["created"] == 9
    again = _apply(client, writer).json()
    assert not again["changed"] and again["version"] == 1
    current = client.get(BASE, headers=writer).json()
    assert {d["key"] for d in current["datasets"]} == {"crm", "mailing"}
    export = client.get(f"{BASE}/export", headers=writer)
    assert export.headers["content-type"].startswith("application/yaml")
    assert load_text(export.text) == canonical(crm_manifest())
    versions = client.get(f"{BASE}/versions", headers=writer).json()
    assert [v["number"] for v in versions] == [1] and versions[0]["actor"].startswith("apikey:")
    detail = client.get(f"{BASE}/versions/1", headers=writer).json()
    assert detail["document"] == canonical(crm_manifest())
    missing = client.get(f"{BASE}/versions/7", headers=writer)
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("application/problem+json")
    evaluation = client.get(f"{BASE}/evaluate", headers=writer).json()
    assert evaluation == {"errors": 0, "warnings": 0, "findings": []}


def test_apply_json_body_and_dry_run(client: TestClient, writer: dict) -> None:
    dry = client.post(f"{BASE}/apply?dry_run=true", json=crm_doc(), headers=writer).json()
    assert dry["dry_run"] and dry["changed"] and dry["version"] is None
    assert client.get(f"{BASE}/versions", headers=writer).json() == []
    done = client.post(f"{BASE}/apply", json=crm_doc(), headers=writer).json()
    assert done["version"] == 1


@pytest.mark.parametrize(
    ("body", "where"),
    [
        (CRM_YAML.replace("kind: mysql", "kind: mongo"), f"body:{line_of_text(CRM_YAML, 'kind: mysql')}"),
        (
            CRM_YAML.replace("datastore: mail_db", "datastore: nowhere"),
            f"body:{line_of_text(CRM_YAML, 'datastore: mail_db')}",
        ),
        (CRM_YAML + "systems: [oops\n", f"body:{CRM_YAML.count(chr(10)) + 2}"),
    ],
)
def test_bad_body_is_a_422_problem_and_changes_nothing(client: TestClient, writer: dict, body: str, where: str) -> None:
    answer = _apply(client, writer, body)
    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith("application/problem+json")
    problem = answer.json()
    assert problem["status"] == 422 and problem["errors"][0]["where"] == where
    assert problem["errors"][0]["hint"]
    assert client.get(f"{BASE}/versions", headers=writer).json() == []
    assert client.get(BASE, headers=writer).status_code == 404


def test_bad_json_body_names_the_json_path(client: TestClient, writer: dict) -> None:
    doc = crm_doc()
    doc["processing_activities"][0]["purpose"] = "service.supprt"
    problem = client.post(f"{BASE}/apply", json=doc, headers=writer).json()
    assert problem["errors"][0]["where"] == "body.processing_activities.0.purpose"
    assert "service.support" in problem["errors"][0]["hint"]
    broken = client.post(f"{BASE}/apply", content=b"{not json", headers={**writer, "Content-Type": "application/json"})
    assert broken.status_code == 422 and "not valid JSON" in broken.json()["detail"]


def test_validate_does_not_apply(client: TestClient, auth: Callable) -> None:
    reader = auth("datamap:read")
    ok = client.post(f"{BASE}/validate", content=CRM_YAML.encode(), headers={**reader, "Content-Type": "text/plain"})
    assert ok.status_code == 200 and ok.json()["counts"]["datasets"] == 2
    bad = client.post(
        f"{BASE}/validate",
        content=CRM_YAML.replace("legal_basis: consent", "legal_basis: ok").encode(),
        headers={**reader, **YAML},
    )
    assert bad.status_code == 422 and "unknown legal basis" in bad.json()["errors"][0]["message"]
    assert client.get(f"{BASE}/versions", headers=reader).json() == []


def test_apply_needs_the_write_scope(client: TestClient, auth: Callable) -> None:
    reader = auth("datamap:read")
    assert _apply(client, reader).status_code == 403
    assert client.post(f"{BASE}/apply", content=CRM_YAML.encode(), headers=YAML).status_code == 401


def test_browse_endpoints_search_by_key_name_and_category(client: TestClient, writer: dict) -> None:
    _apply(client, writer)

    def keys(kind: str, q: str | None = None) -> list:
        answer = client.get(f"{BASE}/{kind}", params={"q": q} if q else None, headers=writer)
        assert answer.status_code == 200, answer.text
        return [item.get("key") or f"{item['dataset']}.{item['table']}.{item['name']}" for item in answer.json()]

    assert keys("systems") == ["crm"]
    assert keys("datastores", "us") == ["mail_db"]
    assert keys("datasets", "contact.phone") == ["crm"]
    assert keys("fields", "contact.email") == ["crm.customers.email", "mailing.subscribers.email"]
    assert keys("activities", "marketing") == ["marketing_emails"]
    assert keys("activities", "organisation.name") == ["accounting", "customer_service"]
    field = client.get(f"{BASE}/fields", params={"q": "street"}, headers=writer).json()[0]
    assert field["erasure_action"] == "mask" and "identity" not in field
    assert yaml.safe_load(client.get(f"{BASE}/export", headers=writer).text)["organisation"]["key"] == "acme"
