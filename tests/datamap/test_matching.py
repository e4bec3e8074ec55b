"""Identity matching: values to compare, index statements, and mentions in free text."""

from __future__ import annotations

import pytest

from privet.datamap import matching


def test_phone_values_cover_national_international_and_trunk_forms() -> None:
    assert set(matching.values("phone", ["+86 138 0013 8000"], region="CN")) >= {
        "13800138000",
        "8613800138000",
        "008613800138000",
    }
    assert "02079460958" in matching.values("phone", ["020 7946 0958"], region="GB")


def test_casefold_values_are_lower_case_and_trimmed() -> None:
    assert matching.values("casefold", ["  Bob@Example.COM "]) == ["bob@example.com"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Customer called back from Bob@Example.com today", True),
        ('{"form": {"email": "BOB@example.com", "topic": "refund"}}', True),
        ("mail to jimbob@example.com", False),  # another address that ends the same way
        ("bob@example.com.cn", False),  # another domain that starts the same way
        ("end of sentence: bob@example.com.", True),
        (None, False),
    ],
)
def test_an_email_is_mentioned_only_standing_on_its_own(text: str | None, expected: bool) -> None:
    assert matching.mentions(text, ("email", "bob@example.com")) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("call back on 138-0013-8000", True),
        ("+86 138 0013 8000 (mobile)", True),
        ("tel 0086 13800138000", True),
        ("(+86) 138 0013 8000.", True),
        ("order 213800138000", False),  # a longer number that contains it
        ("ref 4213800138000", False),
    ],
)
def test_a_phone_is_mentioned_whatever_its_punctuation(text: str, expected: bool) -> None:
    [needle] = matching.needles("phone", ["+8613800138000"], region="CN")
    assert matching.mentions(text, needle) is expected


def test_index_statements_per_dialect() -> None:
    assert (
        matching.index_statement("customers", "email", "casefold", "postgresql")
        == "CREATE INDEX ix_customers_email_casefold ON customers ((lower(trim(email))))"
    )
    assert (
        matching.index_statement("customers", "email", "exact", "mariadb")
        == "CREATE INDEX ix_customers_email_exact ON customers (email)"
    )
    assert matching.index_statement("customers", "email", "casefold", "mariadb") is None  # no expression indexes
    assert matching.index_statement("notes", "body", "contains", "postgresql") is None  # no index serves it
    assert matching.serves("lower(TRIM(BOTH FROM email))", "email", "casefold")
