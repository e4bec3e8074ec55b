"""Notices over HTTP: publish, read, diff, public privacy-centre reads, problem bodies on bad input."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from tests.notices.conftest import KEPTEK, POLICY_V1, POLICY_ZH, seed
from tests.notices.test_parse import KEPTEK_TOP

BASE = "/api/v1/notices"


@pytest.fixture
def writer(auth: Callable) -> dict[str, str]:
    return auth("notices:read", "notices:write")


def _body(**changes) -> dict:
    return {"texts": {"en": POLICY_V1, "zh_CN": POLICY_ZH}, "effective_date": "2025-11-28", **changes}


def test_publish_read_and_diff(client: TestClient, writer: dict) -> None:
    first = client.post(f"{BASE}/main/versions", json=_body(purposes=["marketing"]), headers=writer)
    assert first.status_code == 201, first.text
    v1 = first.json()
    assert v1["version"] == 1 and v1["languages"] == ["en", "zh_CN"] and v1["published_by"].startswith("apikey:")
    assert [s["number"] for s in v1["content"]["en"]["sections"]] == ["1", "2", "3", "4"]
    again = client.post(f"{BASE}/main/versions", json=_body(purposes=["marketing"]), headers=writer)
    assert again.status_code == 409 and again.json()["detail"] == "no change"
    changed = _body(
        texts={"en": POLICY_V1.replace("do not sell", "never sell")},
        material=["marketing"],
        effective_date="2025-12-01",
    )
    assert client.post(f"{BASE}/main/versions", json=changed, headers=writer).status_code == 201
    listed = client.get(BASE, headers=writer).json()
    assert [(n["key"], n["kind"], n["latest_version"]) for n in listed] == [("main", "policy", 2)]
    detail = client.get(f"{BASE}/main", headers=writer).json()
    assert [v["version"] for v in detail["versions"]] == [1, 2]
    assert detail["versions"][1]["material_purposes"] == ["marketing"]
    v2 = client.get(f"{BASE}/main/versions/2", headers=writer).json()
    assert sorted(v2["content"]) == ["en"] and v2["purposes"] == ["marketing"]
    diff = client.get(f"{BASE}/main/diff", params={"from": 1, "to": 2}, headers=writer).json()
    assert [(c["number"], c["change"]) for c in diff["changes"] if c["change"] != "unchanged"] == [("3", "changed")]
    assert diff["summary"] == ["Section 3 changed", "marketing (material: marked material (e.g. a right reduced))"]
    zh = client.get(f"{BASE}/main/diff", params={"from": 1, "to": 2, "lang": "zh_CN"}, headers=writer).json()
    assert {c["change"] for c in zh["changes"]} == {"removed"}


def test_seed_policy_over_http(client: TestClient, writer: dict) -> None:
    answer = client.post(
        f"{BASE}/keptek/versions", json={"texts": {"en": seed(KEPTEK)}, "effective_date": "2025-11-28"}, headers=writer
    )
    assert answer.status_code == 201, answer.text
    sections = answer.json()["content"]["en"]["sections"]
    assert [(s["number"], s["title"]) for s in sections if s["level"] == 1] == KEPTEK_TOP


@pytest.mark.parametrize(
    ("body", "status", "where"),
    [
        (_body(purposes=["marketing.emial"]), 422, "purposes.0"),
        (_body(texts={"xx-yy": "Text."}), 422, "texts.xx-yy"),
        (_body(effective_date="28/11/2025"), 422, "body.effective_date"),
        (_body(kind="banner"), 422, "body.kind"),
        (_body(surprise=True), 422, "body.surprise"),
        ({"effective_date": "2025-11-28"}, 422, "body.texts"),
    ],
)
def test_bad_input_gets_a_problem_body_and_stores_nothing(
    client: TestClient, writer: dict, body: dict, status: int, where: str
) -> None:
    answer = client.post(f"{BASE}/main/versions", json=body, headers=writer)
    assert answer.status_code == status
    problem = answer.json()
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert where in [e["where"] for e in problem["errors"]] and all(e.get("hint") for e in problem["errors"])
    assert client.get(BASE, headers=writer).json() == []


def test_unknown_notice_version_and_bad_key(client: TestClient, writer: dict) -> None:
    assert client.get(f"{BASE}/missing", headers=writer).status_code == 404
    client.post(f"{BASE}/main/versions", json=_body(), headers=writer)
    missing = client.get(f"{BASE}/main/versions/5", headers=writer)
    assert missing.status_code == 404 and missing.json()["hint"] == "versions run from 1 to 1"
    assert client.get(f"{BASE}/main/diff", params={"from": 1, "to": 3}, headers=writer).status_code == 404
    assert client.get(f"{BASE}/main/diff", params={"from": 1}, headers=writer).status_code == 422
    assert client.post(f"{BASE}/Bad Key/versions", json=_body(), headers=writer).status_code == 422


def test_scopes(client: TestClient, auth: Callable) -> None:
    assert client.get(BASE).status_code == 401
    assert client.post(f"{BASE}/main/versions", json=_body()).status_code == 401
    reader = auth("notices:read")
    assert client.get(BASE, headers=reader).status_code == 200
    assert client.post(f"{BASE}/main/versions", json=_body(), headers=reader).status_code == 403
    assert client.get(BASE, headers=auth("datamap:read")).status_code == 403


def test_public_reads_for_the_privacy_centre(client: TestClient, writer: dict) -> None:
    assert client.get(f"{BASE}/public/main/current").status_code == 404
    client.post(f"{BASE}/main/versions", json=_body(purposes=["marketing"]), headers=writer)
    client.post(
        f"{BASE}/main/versions",
        json=_body(material=["marketing"], texts={"en": POLICY_V1 + "5. More\nx\n", "zh_CN": POLICY_ZH}),
        headers=writer,
    )
    zh = client.get(f"{BASE}/public/main/current", params={"lang": "zh_CN"})
    assert zh.status_code == 200
    body = zh.json()
    assert body["lang"] == "zh_CN" and body["version"] == 2 and body["title"] == "Acme 隐私政策"
    assert body["sections"][0]["title"] == "我们收集的信息"
    assert body["summary"][-1].startswith("营销")  # the purpose's Chinese name from the taxonomy
    assert client.get(f"{BASE}/public/main/current", params={"lang": "de"}).json()["lang"] == "en"
    assert client.get(f"{BASE}/public/main/current", params={"lang": "<script>"}).status_code == 422
    listed = client.get(f"{BASE}/public/main/versions").json()
    assert [v["version"] for v in listed] == [2, 1]
    assert "published_by" not in listed[0] and listed[0]["summary"] == [
        "Section 5 added",
        "Marketing (material: marked material (e.g. a right reduced))",
    ]
    assert listed[1]["summary"] == ["First version"]


def test_public_reads_are_rate_limited(client: TestClient, writer: dict) -> None:
    client.post(f"{BASE}/main/versions", json=_body(), headers=writer)
    client.app.state.settings.public_rate_limit_per_minute = 2
    answers = [client.get(f"{BASE}/public/main/versions").status_code for _ in range(3)]
    assert answers == [200, 200, 429]
