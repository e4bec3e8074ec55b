"""Identity spellings, masks, keyed hashes and column coercion (pure functions)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import Boolean, Date, DateTime, Enum, Integer, Numeric, String, Text

from privet.connectors.sql.values import (
    coerce,
    coerce_all,
    hash_value,
    identity_variants,
    is_hashed,
    jsonable,
    mask_value,
)


def test_email_spellings_include_the_lower_case_form() -> None:
    spellings = identity_variants("email", ["Alice@Example.COM"])
    assert "alice@example.com" in spellings and "Alice@Example.COM" in spellings and "Alice@example.com" in spellings


def test_phone_spellings_cover_national_and_international_forms() -> None:
    spellings = identity_variants("phone", ["+8613800138000"], "CN")
    assert {"+8613800138000", "13800138000", "+86 138 0013 8000", "8613800138000"} <= set(spellings)
    us = identity_variants("phone", ["+1 650-253-0000"], "US")
    assert {"+16502530000", "+1-650-253-0000", "6502530000"} <= set(us)


def test_values_privet_would_reject_are_still_looked_up_as_given() -> None:
    assert identity_variants("email", ["not an email", " ", ""]) == ["not an email"]
    assert identity_variants("device_serial", ["sn-a1 b2"]) == ["SNA1B2", "sn-a1 b2"]


def test_hash_is_keyed_prefixed_recognisable_and_fits_the_column() -> None:
    value = hash_value(b"k1", "alice@example.com", None)
    assert value.startswith("sha256:") and len(value) == 71 and is_hashed(value)
    assert value == hash_value(b"k1", "alice@example.com", 200) != hash_value(b"k2", "alice@example.com", None)
    assert hash_value(b"k1", "alice@example.com", 20) == value[:20]
    assert hash_value(b"k1", "alice@example.com", 10) is None  # too short to stay recognisable
    assert not is_hashed("alice@example.com") and not is_hashed(None)


def test_mask_fits_short_columns() -> None:
    assert mask_value(None) == "***" and mask_value(100) == "***" and mask_value(2) == "**"


@pytest.mark.parametrize(
    ("value", "sa_type", "expected"),
    [
        ("42", Integer(), 42),
        ("2024-02-29", Date(), date(2024, 2, 29)),
        ("2024-02-29T10:00:00", DateTime(), datetime(2024, 2, 29, 10)),
        ("yes", Boolean(), True),
        ("12.50", Numeric(10, 2), Decimal("12.50")),
        ("short", String(10), "short"),
        ("x" * 500, Text(), "x" * 500),
    ],
)
def test_coerce_converts_for_the_column(value: str, sa_type: object, expected: object) -> None:
    assert coerce(value, sa_type) == expected


@pytest.mark.parametrize(
    ("value", "sa_type"),
    [
        ("secret-value", Integer()),
        ("secret-value", Date()),
        ("secret-value", Boolean()),
        ("secret-value", String(5)),
        ("secret-value", Enum("a", "b")),
    ],
)
def test_coerce_errors_say_what_fits_but_not_the_value(value: str, sa_type: object) -> None:
    with pytest.raises(ValueError, match=r".") as info:
        coerce(value, sa_type)
    assert "secret" not in str(info.value)


def test_coerce_all_drops_values_that_cannot_match() -> None:
    assert coerce_all(["1", "x", "1", "2"], Integer()) == [1, 2]


def test_jsonable_values() -> None:
    assert jsonable(date(2024, 1, 2)) == "2024-01-02" and jsonable(Decimal("1.50")) == "1.50"
    assert jsonable(b"\x00\x01") == "base64:AAE=" and jsonable(None) is None and jsonable(3) == 3
