"""Rectification: every field of the corrected category on the subject's rows, validated before any write."""

from __future__ import annotations

import pytest

from privet.connectors.registry import open_connector
from privet.kit.errors import InvalidInput
from tests.connectors import shop
from tests.connectors.shop import ALICE


def _rectify(plan, settings, changes, identities=None):
    with open_connector(plan, settings) as connector:
        return connector.rectify(identities or {"user_id": [ALICE["user_id"]]}, changes)


def _column(snap: dict, table: str, column: str) -> dict:
    names = [c.name for c in shop.metadata().tables[table].columns]
    return {row[0]: row[names.index(column)] for row in snap[table]}


def test_every_field_of_the_category_is_updated(shop_db, shop_plan) -> None:
    url, settings = shop_db
    result = _rectify(
        shop_plan, settings, {"user.contact.phone": "139 0013 9001", "user.contact.email": "Alice.New@Example.com"}
    )
    after = shop.snapshot(url)
    assert _column(after, "customers", "phone") == {1: "+8613900139001", 2: "+8613900139000"}
    assert _column(after, "addresses", "phone") == {
        1: "+8613900139001",
        2: "+8613900139001",
        3: "+8613900139000",
    }  # Bob's address untouched
    assert _column(after, "customers", "email")[1] == "alice.new@example.com"
    assert result.counts["customers"] == {"found": 1, "rectified": 1}
    assert result.counts["addresses"] == {"found": 2, "rectified": 2}
    again = _rectify(shop_plan, settings, {"user.contact.phone": "+8613900139001"})
    assert again.counts["addresses"] == {"found": 2, "rectified": 0}


def test_values_are_converted_for_their_columns(shop_db, shop_plan) -> None:
    url, settings = shop_db
    _rectify(shop_plan, settings, {"user.demographic.date_of_birth": "1991-02-03"})
    assert str(_column(shop.snapshot(url), "customers", "birth_date")[1]) == "1991-02-03"


@pytest.mark.parametrize(
    "changes",
    [
        {"user.contact.email": "not an address"},
        {"user.contact.phone": "+86 12"},
        {"user.demographic.date_of_birth": "next tuesday"},
        {"user.name": "x" * 101},  # longer than the column
        {"user.account.user_id": "7"},  # a key column
        {"user.contact.phone": "+8613900139001", "user.contact.email": "broken"},  # one bad value stops all
        {},
    ],
)
def test_invalid_changes_change_nothing(shop_db, shop_plan, changes: dict) -> None:
    url, settings = shop_db
    before = shop.snapshot(url)
    with pytest.raises(InvalidInput) as info:
        _rectify(shop_plan, settings, changes)
    assert shop.snapshot(url) == before
    body = repr(info.value.as_problem())
    for value in changes.values():
        assert value not in body


def test_categories_this_datastore_does_not_hold_are_skipped(shop_db, shop_plan) -> None:
    url, settings = shop_db
    before = shop.snapshot(url)
    result = _rectify(shop_plan, settings, {"user.location.track": "somewhere"})
    assert shop.snapshot(url) == before and all(c["rectified"] == 0 for c in result.counts.values())
