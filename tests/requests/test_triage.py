"""Refusal codes per request type and profile, repeat detection, and the fee past the free number."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from privet.kit.errors import InvalidInput
from privet.requests.law.triage import REFUSAL_CODES, check_code, fee_due, parse_fee, repeat_of
from privet.requests.models import TYPES

GBT_EIGHT = (
    "legal_obligation",
    "national_security",
    "public_interest",
    "criminal_proceedings",
    "abuse_of_rights",
    "vital_interests",
    "serious_harm",
    "trade_secret",
)


@pytest.mark.promise("P20")
def test_the_eight_circumstances_of_gbt_35273_in_order() -> None:
    gbt = [code for code, reason in REFUSAL_CODES.items() if reason.law.startswith("GB/T 35273-2020")]
    assert tuple(gbt) == GBT_EIGHT
    for number, code in enumerate(GBT_EIGHT, start=1):
        reason = REFUSAL_CODES[code]
        assert reason.law.endswith(f"circumstance {number}") and f"第{number}种情形" in reason.law_zh_CN
        assert reason.profiles == ("pipl",)
    assert "商业秘密" in REFUSAL_CODES["trade_secret"].zh_CN
    assert "national defence" in REFUSAL_CODES["national_security"].en


@pytest.mark.promise("P16", "P19")
def test_policy_and_gdpr_codes_are_present() -> None:
    for code in (
        "deceptive",
        "unfeasible",
        "infringes_others_privacy",  # P16
        "groundlessly_repetitive",
        "technically_excessive",
        "risk_to_others",
        "impractical",  # P19
        "manifestly_unfounded",
        "manifestly_excessive",
    ):  # GDPR Art 12(5)
        assert code in REFUSAL_CODES
    assert "backup tapes" in REFUSAL_CODES["impractical"].en and "备份磁带" in REFUSAL_CODES["impractical"].zh_CN
    assert "GDPR Art 12(5)" in REFUSAL_CODES["manifestly_excessive"].law
    assert "identity_not_verified" not in REFUSAL_CODES  # unverified requests expire instead


def test_every_code_has_both_languages_and_never_applies_to_complaints() -> None:
    for code, reason in REFUSAL_CODES.items():
        assert reason.code == code and reason.en and reason.zh_CN and reason.law and reason.law_zh_CN
        assert reason.text("zh_CN") == reason.zh_CN and reason.text("en") == reason.en
        assert "complaint" not in reason.applies_to
        assert set(reason.applies_to) == set(TYPES) - {"complaint"}


def test_check_code_per_type_and_profile() -> None:
    assert check_code("trade_secret", "erasure").code == "trade_secret"
    assert check_code("impractical", "access", profile="gdpr").code == "impractical"
    with pytest.raises(InvalidInput, match="Unknown refusal code") as unknown:
        check_code("because", "access")
    assert "trade_secret" in unknown.value.hint and "manifestly_unfounded" in unknown.value.hint
    with pytest.raises(InvalidInput, match="does not apply") as complaint:
        check_code("deceptive", "complaint")
    assert "never refused" in complaint.value.hint
    with pytest.raises(InvalidInput, match="not a ground under the gdpr profile") as gdpr:
        check_code("trade_secret", "access", profile="gdpr")
    assert "manifestly_excessive" in gdpr.value.hint and "trade_secret" not in gdpr.value.hint
    with pytest.raises(InvalidInput, match="pipl profile"):
        check_code("manifestly_unfounded", "access", profile="pipl")


def test_repeat_of_finds_the_latest_request_inside_the_window() -> None:
    now = datetime(2026, 10, 20, 12, 0, tzinfo=UTC)
    earlier = [
        ("r-old", now - timedelta(days=400)),
        ("r-a", now - timedelta(days=200)),
        ("r-b", (now - timedelta(days=30)).replace(tzinfo=None)),  # naive UTC, as SQLite returns it
        ("r-c", now - timedelta(days=90)),
    ]
    assert repeat_of(earlier, now, 365) == "r-b"
    assert repeat_of(earlier, now, 20) is None
    assert repeat_of([("r-edge", now - timedelta(days=365))], now, 365) == "r-edge"
    assert repeat_of([("r-out", now - timedelta(days=365, seconds=1))], now, 365) is None
    assert repeat_of([], now, 365) is None
    assert repeat_of([("r-future", now + timedelta(days=1))], now, 365) is None


@pytest.mark.promise("P18")
def test_fee_past_the_free_number() -> None:
    assert fee_due(1, 2, "20 CNY") is None
    assert fee_due(2, 2, "20 CNY") is None
    third = fee_due(3, 2, "20 CNY")
    assert third is not None and third["amount"] == "20.00" and third["currency"] == "CNY"
    assert third["action"] == "charge" and "request 3" in third["reason"] and "2 are free" in third["reason"]
    assert fee_due(5, 4, "eur 15.5") == {**fee_due(5, 4, "15.50 EUR"), "amount": "15.50", "currency": "EUR"}


def test_no_fee_configured_flags_the_request_for_an_officer() -> None:
    flagged = fee_due(3, 2, None)
    assert flagged is not None and flagged["action"] == "flag_for_officer"
    assert flagged["amount"] is None and flagged["currency"] is None
    assert fee_due(3, 2, "  ")["action"] == "flag_for_officer"
    assert fee_due(1, 2, None) is None


@pytest.mark.parametrize("setting", ["twenty CNY", "20", "CNY", "-5 CNY", "0 CNY", "20 CNYX", "20.123 CNY", "20 C"])
def test_a_bad_fee_setting_is_a_clear_error_even_when_free(setting: str) -> None:
    with pytest.raises(InvalidInput, match="PRIVET_REQUESTS_FEE") as bad:
        fee_due(1, 2, setting)
    assert bad.value.hint


def test_parse_fee() -> None:
    assert parse_fee(None) is None
    amount, currency = parse_fee(" 20 cny ")
    assert str(amount) == "20" and currency == "CNY"
