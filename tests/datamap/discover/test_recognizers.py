"""Single-value recognizers: generated valid values are recognised, near misses are not."""

from __future__ import annotations

import pytest
from faker import Faker
from stdnum import luhn
from stdnum.cn import ric, uscc

from privet.datamap.discover import recognizers as r
from privet.datamap.discover.classify import VALIDATORS, custom_recognizer
from privet.datamap.discover.recognizers import recognize

zh, en = Faker("zh_CN"), Faker("en_US")
zh.seed_instance(17)
en.seed_instance(17)


def kind(value: str) -> str | None:
    found = recognize(value)
    return found.name if found is not None else None


def test_prc_resident_id_needs_checksum_birth_date_and_province() -> None:
    for _ in range(50):
        assert kind(zh.ssn()) == "prc_resident_id"
    number = zh.ssn()
    wrong = number[:-1] + ("0" if number[-1] != "0" else "1")
    assert kind(wrong) != "prc_resident_id"
    assert kind(number[:17]) not in ("prc_resident_id", "payment_card")  # 17 digits: a truncated ID, not a card
    future = "110101" + "2999" + "0101" + "123"
    assert not r.prc_resident_id(future + ric.calc_check_digit(future + "0"))
    bad_day = "110101" + "1990" + "0230" + "123"
    assert not r.prc_resident_id(bad_day + ric.calc_check_digit(bad_day + "0"))
    no_province = "990101" + "1990" + "0101" + "123"
    assert not r.prc_resident_id(no_province + ric.calc_check_digit(no_province + "0"))


def test_old_15_digit_resident_id_needs_a_known_county_and_date() -> None:
    assert r.prc_resident_id_15("110101" + "800101" + "123")
    assert not r.prc_resident_id_15("357920" + "040610" + "280")  # a county code that never existed
    assert not r.prc_resident_id_15("110101" + "801301" + "123")  # month 13


def test_unified_social_credit_code() -> None:
    body = "91110108" + "MA01ABCDE"[:9]
    code = body + uscc.calc_check_digit(body)
    assert kind(code) == "unified_social_credit_code"
    assert kind(code[:-1] + ("0" if code[-1] != "0" else "1")) is None
    other = "20" + body[2:]  # authority 2 has no organisation type 0
    assert kind(other + uscc.calc_check_digit(other)) is None


@pytest.mark.parametrize("make", [en.email, zh.email, en.company_email])
def test_email(make) -> None:
    assert kind(make()) == "email"


@pytest.mark.parametrize("value", ["user@localhost", "user at example dot com", "@example.com", "user@"])
def test_not_email(value: str) -> None:
    assert kind(value) != "email"


@pytest.mark.parametrize(
    "value",
    [
        "13812345678",
        "+86 138 1234 5678",
        "0086-13912345678",
        "010-62345678",
        "(021) 6234 5678",
        "+44 7911 123456",
        "+1-415-555-2671",
        "(415) 555-2671",
        "415.555.2671x123",
        "+852 9123 4567",
    ],
)
def test_phone(value: str) -> None:
    assert kind(value) == "phone"


@pytest.mark.parametrize(
    "value",
    [
        "12012345678",
        "10087654321",
        "1700000000",
        "1715000000000",
        "1381234567",
        "20240512153045",
        "+86 123",
        "2024-05-12",
        "39.904211",
    ],
)
def test_not_phone(value: str) -> None:
    """Order numbers shaped like mobiles, Unix and millisecond timestamps, short numbers, dates."""
    assert kind(value) != "phone"


def test_payment_cards_and_near_misses() -> None:
    for _ in range(50):
        assert kind(en.credit_card_number()) == "payment_card"
    assert kind("4111 1111 1111 1111") == "payment_card"
    assert kind("4111111111111112") is None  # Luhn fails
    assert kind("9111111111111111") is None  # no such issuer
    assert kind("2024051212345678") is None  # an order number


def test_iban_imei_mac_ip_coordinates() -> None:
    assert kind(en.iban()) == "iban"
    assert kind("GB82WEST12345698765432") == "iban"
    assert kind("GB83WEST12345698765432") is None
    body = "35209900176148"
    assert kind(body + luhn.calc_check_digit(body)) == "imei"
    assert kind(body + str((int(luhn.calc_check_digit(body)) + 1) % 10)) is None
    assert kind(en.mac_address()) == "mac_address"
    assert kind("00:1A:2B:3C:4D") is None
    assert kind(en.ipv4_public()) == "ip_address"
    assert kind(en.ipv6()) == "ip_address"
    assert kind("256.1.1.1") is None
    assert kind("1.2.3") is None
    assert kind("39.904211,116.407395") == "coordinates"
    assert kind("POINT(116.407395 39.904211)") == "coordinates"
    assert kind("39.9,116.4") is None  # not precise


def test_passports() -> None:
    assert kind("E12345678") == "passport"
    assert kind("EA1234567") == "passport"
    assert kind("E1234") is None


def test_names_and_not_names() -> None:
    for _ in range(30):
        assert kind(zh.name()) == "chinese_name"
    for value in ("欧阳娜娜", "Jennifer Jarvis", "Dr. Mark Allen", "Mark Allen DDS"):
        assert kind(value) in ("chinese_name", "latin_name")
    for value in ("信息", "海门市", "华为科技有限公司", "Lake David", "Blue Widget", "Gordon Inc"):
        assert kind(value) is None


def test_addresses() -> None:
    for _ in range(20):
        assert kind(zh.address()) == "chinese_address"
        assert kind(en.address()) == "latin_address"
    assert kind("北京市朝阳区建国路88号") == "chinese_address"
    assert kind("北京市") is None
    assert kind("12 apples and 3 pears") is None


def test_custom_recognizer_with_validator() -> None:
    serial = custom_recognizer("device_serial", "user.device.serial_number", r"SN-(\d{15})", "luhn")
    assert serial.name == "custom:device_serial"
    body = "35209900176148"
    good = "SN-" + body + luhn.calc_check_digit(body)
    assert serial.matches(good)
    assert not serial.matches("SN-" + body + str((int(luhn.calc_check_digit(body)) + 1) % 10))
    assert not serial.matches("SN-1")
    assert recognize(good, (serial, *r.BUILTIN)) is serial
    plain = custom_recognizer("badge", "user.account.user_id", r"B\d{6}")
    assert plain.matches("B123456") and not plain.matches("B12345")


@pytest.mark.parametrize(
    ("pattern", "validator", "message"),
    [
        (r"SN-\d+", "crc32", "unknown validator 'crc32'"),
        (r"SN-(\d+", None, "not a valid regular expression"),
        (r"\d*", None, "matches an empty value"),
    ],
)
def test_custom_recognizer_refuses_bad_definitions(pattern: str, validator: str | None, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        custom_recognizer("serial", "user.device.serial_number", pattern, validator)


def test_validators_are_named_and_callable() -> None:
    for name in ("luhn", "iso7064_mod11_2", "imei", "prc_resident_id", "iban", "unified_social_credit_code"):
        assert callable(VALIDATORS[name])
    assert VALIDATORS["iso7064_mod11_2"]("07940")
    assert VALIDATORS["prc_resident_id"](zh.ssn())
