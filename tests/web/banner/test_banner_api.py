"""The banner's HTTP side without a browser: the script (size, caching, CORS), the per-site config from the .po
catalogue, the CORS preflight and the recording of choices with the notice version."""

from __future__ import annotations

import gzip
from datetime import date
from importlib import resources

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from privet.consent.models import ConsentRecord

pytestmark = pytest.mark.usefixtures("keptek")
ORIGIN = {"Origin": "http://shop.example"}


def test_script_is_small_cacheable_and_cross_origin(client: TestClient) -> None:
    source = (resources.files("privet.web") / "static" / "banner.js").read_bytes()
    size = len(gzip.compress(source, compresslevel=9))
    print(f"banner.js: {len(source)} bytes, {size} bytes gzipped (JS and CSS together)")
    assert size <= 12 * 1024
    assert b"innerHTML" not in source and b"insertAdjacentHTML" not in source and b"eval(" not in source
    response = client.get("/banner.js", headers={**ORIGIN, "Accept-Encoding": "gzip"})
    assert response.status_code == 200 and response.content == source  # httpx undoes the gzip
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["cross-origin-resource-policy"] == "cross-origin"
    assert "max-age=3600" in response.headers["cache-control"]
    again = client.get("/banner.js", headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304


def test_config_texts_come_from_the_catalogue(client: TestClient) -> None:
    en = client.get("/banner/config.json", params={"site": "shop", "lang": "en"}, headers=ORIGIN)
    assert en.status_code == 200 and en.headers["access-control-allow-origin"] == "*"
    body = en.json()
    assert body["texts"]["accept"] == "Accept all" and body["texts"]["categories"]["analytics"]["name"] == "Analytics"
    assert body["categories"] == ["necessary", "preferences", "analytics", "marketing"]
    assert body["purposes"] == {"analytics": "analytics.usage", "marketing": "marketing.personalisation"}
    assert body["notice"] == {"key": None, "version": None, "reprompt_below": None}
    assert body["cookie"]["days"] == 180 and body["cookie"]["domain"] is None
    zh = client.get("/banner/config.json", params={"site": "shop", "lang": "zh-CN"}).json()
    assert zh["lang"] == "zh_CN" and zh["texts"]["accept"] == "全部接受"
    assert zh["texts"]["categories"]["marketing"]["name"] == "营销"
    bad = client.get("/banner/config.json", params={"site": "<script>"}, headers=ORIGIN)
    assert bad.status_code == 422 and bad.headers["access-control-allow-origin"] == "*"


def test_cookie_domain_and_days_come_from_settings(app, client: TestClient) -> None:
    app.state.settings = app.state.settings.model_copy(
        update={"banner_cookie_domain": "example.com", "banner_cookie_days": 90}
    )
    cookie = client.get("/banner/config.json", params={"site": "shop"}).json()["cookie"]
    assert cookie == {"name": "privet_consent", "domain": "example.com", "days": 90}


def test_preflight_then_choice_recorded_with_the_notice_version(client: TestClient, db: Session) -> None:
    from privet.notices import service as notices

    for text, material in (("v1", []), ("v2", ["analytics.usage"]), ("v3", [])):
        notices.publish(
            db,
            key="shop",
            texts={"en": f"# Shop\n\n## 1. Cookies\n\n{text}\n"},
            effective_date=date.today(),
            purposes=["analytics.usage"],
            material=material,
            actor="test",
        )
    db.flush()
    config = client.get("/banner/config.json", params={"site": "shop"}).json()
    assert config["notice"] == {"key": "shop", "version": 3, "reprompt_below": 2}
    preflight = client.options(
        "/banner/choice",
        headers={**ORIGIN, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"},
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert "content-type" in preflight.headers["access-control-allow-headers"].lower()
    answer = client.post(
        "/banner/choice",
        headers=ORIGIN,
        json={
            "site": "shop",
            "visitor_id": "v-test-banner-0001",
            "notice_version": 2,
            "language": "zh-CN",
            "categories": {"necessary": True, "analytics": True, "marketing": False},
        },
    )
    assert answer.status_code == 201, answer.text
    assert answer.headers["access-control-allow-origin"] == "*"
    assert answer.json()["notice"] == {"key": "shop", "version": 2} and len(answer.json()["records"]) == 2
    rows = {
        r.purpose: r
        for r in db.execute(select(ConsentRecord).where(ConsentRecord.visitor_id == "v-test-banner-0001")).scalars()
    }
    assert rows["analytics.usage"].event == "given" and rows["marketing.personalisation"].event == "refused"
    assert {(r.notice_key, r.notice_version, r.language, r.method) for r in rows.values()} == {
        ("shop", 2, "zh_CN", "banner")
    }


def test_gpc_from_header_or_body_and_bad_choices(client: TestClient) -> None:
    for extra, body_gpc in (({"Sec-GPC": "1"}, False), ({}, True)):
        answer = client.post(
            "/banner/choice",
            headers={**ORIGIN, **extra},
            json={
                "visitor_id": f"v-gpc-{int(body_gpc)}-000000",
                "gpc": body_gpc,
                "categories": {"analytics": True, "marketing": True},
            },
        )
        assert answer.status_code == 201
        assert answer.json()["gpc_honoured"] is True and answer.json()["choice"]["marketing"] is False
    unknown = client.post(
        "/banner/choice", headers=ORIGIN, json={"visitor_id": "v-bad-00000001", "categories": {"tracking": True}}
    )
    assert unknown.status_code == 422 and unknown.headers["access-control-allow-origin"] == "*"
    short = client.post("/banner/choice", headers=ORIGIN, json={"visitor_id": "x", "categories": {}})
    assert short.status_code == 422 and short.headers["access-control-allow-origin"] == "*"
