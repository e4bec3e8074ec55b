"""The individual explanation from the Keptek demo data map: categories, purposes, bases, recipients, retention."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from privet.requests.models import TYPES
from privet.requests.packages.explain import duration_text, explain, language, retention_text

KEPTEK = Path(__file__).resolve().parents[2] / "examples" / "keptek" / "datamap"


@pytest.fixture
def keptek(db: Session) -> Session:
    from privet.datamap.service import validate_and_apply

    validate_and_apply(db, KEPTEK, actor="test")
    db.flush()
    return db


def by_key(items: list[dict], field: str = "key") -> dict[str, dict]:
    return {item[field]: item for item in items}


@pytest.mark.promise("P3")
def test_found_tables_give_their_categories_purposes_and_sharing(keptek: Session) -> None:
    result = explain(keptek, {"crm": {"customers": 1, "orders": 3, "support_tickets": 0}}, "en")
    assert result["scope"] == "found" and result["language"] == "en"
    assert [d["key"] for d in result["datasets"]] == ["crm_accounts", "crm_sales"]  # tickets: 0 rows, not held
    accounts = by_key(result["datasets"])["crm_accounts"]
    assert [(t["name"], t["rows"]) for t in accounts["tables"]] == [("customers", 1)]
    assert {"registration", "third_party_login"} <= {s["key"] for s in accounts["sources"]}
    categories = by_key(result["categories"])
    assert categories["user.contact.phone"]["name"] == "Phone number"
    assert "user.location.track" not in categories and "user.communication.support" not in categories

    purposes = {p["activity"]["key"]: p for p in result["purposes"]}
    account = purposes["account_registration"]
    assert account["purpose"]["key"] == "service.account" and account["legal_basis"]["key"] == "contract"
    assert (
        account["retention"]["duration"] == "P30D"
        and account["retention"]["text"] == "30 days after the account is closed"
    )
    assert by_key(account["processors"])["sms_gateway"]["name"] == "sms gateway"
    assert purposes["order_fulfilment"]["retention"]["text"] == "3 years after the contract ends"
    # category-only activities apply when the categories are held: sharing with partners, cross-border access
    assert by_key(purposes["partner_sharing"]["recipients"])["certified_partners"]
    assert {"courts", "regulators", "law_enforcement"} <= {r["key"] for r in result["recipients"]}
    [transfer] = result["transfers"]
    assert (transfer["destination"], transfer["mechanism"]) == ("GLOBAL", "standard_contract")
    assert by_key(result["storage_locations"])["CN"]["name"] == "mainland China"
    assert "device_location_tracking" not in purposes and "training_delivery" not in purposes
    assert result["organisation"]["name"] == "Keptek Technologies (demo)"


def test_chinese_names_come_from_the_taxonomy(keptek: Session) -> None:
    result = explain(keptek, {"devices": {"device_locations": 12}}, "zh-CN")
    assert result["language"] == "zh_CN"
    track = by_key(result["categories"])["user.location.track"]
    assert track["sensitive"] == "location_track" and track["name"] == "行踪轨迹"
    purposes = {p["activity"]["key"]: p for p in result["purposes"]}
    tracking = purposes["device_location_tracking"]
    assert tracking["legal_basis"]["name"] == "单独同意"
    assert "后" in tracking["retention"]["text"]
    json.dumps(result, ensure_ascii=False)  # plain data all the way down


def test_no_found_rows_explains_nothing_held(keptek: Session) -> None:
    result = explain(keptek, {"crm": {"customers": 0}}, "en")
    assert result["datasets"] == [] and result["categories"] == [] and result["purposes"] == []
    assert result["recipients"] == [] and result["unmapped"] == []


def test_none_explains_the_whole_data_map(keptek: Session) -> None:
    result = explain(keptek, None, "en")
    assert result["scope"] == "data_map"
    assert {"crm_accounts", "device_locations", "training", "partner_contracts"} <= {
        d["key"] for d in result["datasets"]
    }
    assert all(t["rows"] is None for d in result["datasets"] for t in d["tables"])
    assert "device_location_tracking" in {p["activity"]["key"] for p in result["purposes"]}


def test_tables_the_data_map_does_not_know_are_listed(keptek: Session) -> None:
    result = explain(keptek, {"crm": {"customers": 1, "legacy_contacts": 4}, "ghost": {"t": 1}}, "en")
    assert result["unmapped"] == [
        {"datastore": "crm", "table": "legacy_contacts", "rows": 4},
        {"datastore": "ghost", "table": "t", "rows": 1},
    ]


def test_an_empty_data_map_explains_nothing(db: Session) -> None:
    result = explain(db, None, "en")
    assert result["datasets"] == [] and result["purposes"] == [] and result["organisation"] is None


@pytest.mark.parametrize(
    ("iso", "en", "zh"),
    [
        ("P3Y", "3 years", "3年"),
        ("P1Y", "1 year", "1年"),
        ("P1Y6M", "1 year 6 months", "1年6个月"),
        ("P2W", "14 days", "14天"),
        ("P13M", "13 months", "13个月"),
        ("soon", "soon", "soon"),
    ],
)
def test_durations_in_plain_words(iso: str, en: str, zh: str) -> None:
    assert duration_text("en", iso) == en and duration_text("zh_CN", iso) == zh


def test_retention_and_language_fallbacks() -> None:
    assert retention_text("en", None) is None
    assert retention_text("en", {"trigger": "consent_withdrawal"}) == "until you withdraw your consent"
    assert retention_text("zh_CN", {"trigger": "contract_end", "duration": "P3Y"}) == "合同终止后3年"
    assert retention_text("en", {"trigger": "new_trigger", "duration": "P1D"}) == "1 day after new trigger"
    assert (language("zh-Hans"), language("fr"), language(None)) == ("zh_CN", "en", "en")


def test_both_languages_have_every_text() -> None:
    from privet.requests.packages.explain import texts

    en, zh = texts("en"), texts("zh_CN")
    assert set(en) == set(zh)
    for section in ("types", "triggers", "regions", "mechanisms", "duration_units"):
        assert set(en[section]) == set(zh[section]), section
    assert set(en["types"]) == set(TYPES)
