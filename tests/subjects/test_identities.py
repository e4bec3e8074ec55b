"""Identity normalisation: one canonical form per value, clear errors that never repeat the value."""

from __future__ import annotations

import pytest
from faker import Faker

from privet.kit.errors import InvalidInput
from privet.subjects.identities import mask, normalise

VALID = [
    ("email", "  Li.Wei@Example.COM ", "li.wei@example.com"),
    ("email", "zhang+news@mail.example.cn", "zhang+news@mail.example.cn"),
    ("email", "kunde@Bücher.example", "kunde@xn--bcher-kva.example"),
    ("email", "user@例子.中国", "user@xn--fsqu00a.xn--fiqs8s"),
    ("phone", "13800138000", "+8613800138000"),  # Chinese mobile without +86: the default region applies
    ("phone", "138 0013 8000", "+8613800138000"),
    ("phone", "+86 138-0013-8000", "+8613800138000"),
    ("phone", "+8613800138000", "+8613800138000"),
    ("phone", "008613800138000", "+8613800138000"),  # international dialling prefix from China
    ("phone", "+1 650-253-0000", "+16502530000"),
    ("phone", "+44 20 7946 0958", "+442079460958"),
    ("user_id", "  cust-000123 ", "cust-000123"),
    ("user_id", "x" * 200, "x" * 200),
    ("account_name", " 小明_2024 ", "小明_2024"),
    ("device_serial", " ab-12 cd34 ", "AB12CD34"),
    ("device_serial", "CEXX-2020-00001", "CEXX202000001"),
    ("wechat_openid", " oUpF8uMuAJO_M2pxb1Q9zNjWeS6o ", "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"),
]

INVALID = [
    ("email", "no-at-sign.example.com"),
    ("email", "two@@example.com"),
    ("email", "a@b@example.com"),
    ("email", "nodot@localhost"),
    ("email", "@nobody.example"),
    ("email", "space in@example.com"),
    ("email", "dots..twice@example.com"),
    ("email", "user@-bad-.example"),
    ("email", "user@example..com"),
    ("email", "user@127.0.0.1"),
    ("phone", "12345"),
    ("phone", "+86 139 1234"),  # too short for a Chinese mobile
    ("phone", "1380013800"),  # ten digits: not a Chinese mobile
    ("phone", "call me maybe"),
    ("phone", "+999 1234 5678"),
    ("phone", ""),
    ("user_id", "   "),
    ("user_id", "x" * 201),
    ("user_id", "tab\tinside"),
    ("device_serial", "zq"),
    ("device_serial", "SN#12345"),
    ("device_serial", "A" * 65),
    ("wechat_openid", "tooshort"),
    ("wechat_openid", "oUpF8uMuAJO M2pxb1Q9zNjWeS6o"),
    ("wechat_openid", "o" * 65),
]


@pytest.mark.parametrize(("kind", "value", "expected"), VALID)
def test_valid_values_normalise(kind: str, value: str, expected: str) -> None:
    assert normalise(kind, value) == expected


@pytest.mark.parametrize(("kind", "value"), INVALID)
def test_invalid_values_are_refused_without_echoing_them(kind: str, value: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        normalise(kind, value)
    rendered = caught.value.render() + str(caught.value.as_problem())
    assert caught.value.hint and caught.value.problems[0].where == "value"
    if value.strip():
        assert value.strip() not in rendered


def test_phone_error_says_how_to_write_it() -> None:
    with pytest.raises(InvalidInput) as caught:
        normalise("phone", "12345")
    assert caught.value.detail == "That is not a valid phone number"
    assert "+86" in caught.value.hint and "12345" not in caught.value.render()


def test_default_region_decides_numbers_without_a_country_code() -> None:
    assert normalise("phone", "020 7946 0958", default_region="GB") == "+442079460958"
    assert normalise("phone", "020 7946 0958") == "+862079460958"  # the same digits are a Guangzhou landline


def test_faker_chinese_mobiles_with_and_without_prefix(fake_cn: Faker) -> None:
    for _ in range(20):
        digits = fake_cn.phone_number()
        assert normalise("phone", digits) == normalise("phone", f"+86 {digits}") == f"+86{digits}"


def test_unknown_type_is_refused_and_custom_types_follow_the_taxonomy() -> None:
    with pytest.raises(InvalidInput) as caught:
        normalise("passport", "E12345678")
    assert "email" in caught.value.hint and "E12345678" not in caught.value.render()
    assert normalise("passport", " E12345678 ", known_types={"passport"}) == "E12345678"
    with pytest.raises(InvalidInput):
        normalise("email", "a@example.com", known_types={"passport"})


def test_value_must_be_text() -> None:
    with pytest.raises(InvalidInput):
        normalise("user_id", 12345)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kind", "value", "masked"),
    [
        ("email", "zhang.wei@example.com", "z***@e***.com"),
        ("email", "user@xn--fsqu00a.xn--fiqs8s", "u***@例***.中国"),
        ("phone", "+8613800138000", "+86 ***8000"),
        ("device_serial", "AB12CD34EF", "AB***EF"),
        ("user_id", "c42", "c***"),
    ],
)
def test_mask_shows_only_a_hint_of_the_value(kind: str, value: str, masked: str) -> None:
    assert mask(kind, value) == masked
