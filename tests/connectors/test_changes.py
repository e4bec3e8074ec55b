"""Rectification values are validated across every datastore before any is touched."""

from __future__ import annotations

import pytest

from privet.connectors.base import DatastorePlan, FieldSpec, TableSpec
from privet.connectors.changes import check_changes
from privet.kit.errors import InvalidInput

PLAN = DatastorePlan(
    "crm",
    "postgresql",
    "CN",
    {
        "customers": TableSpec(
            "people",
            "customers",
            ("id",),
            (
                FieldSpec("id"),
                FieldSpec("email", "user.contact.email", "email"),
                FieldSpec("mobile", "user.contact.phone"),
                FieldSpec("name", "user.name"),
            ),
        )
    },
    (),
    (("customers", "email", "email"),),
)


def test_values_are_normalised_like_identities() -> None:
    out = check_changes(
        [PLAN],
        {"user.contact.email": " New@Example.COM ", "user.contact.phone": "139 0013 9000", "user.name": "  New Name "},
    )
    assert out == {
        "user.contact.email": "new@example.com",
        "user.contact.phone": "+8613900139000",
        "user.name": "New Name",
    }


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"user.contact.email": "not-an-address"},
        {"user.contact.phone": "12"},
        {"user.name": ""},
        {"user.name": "a\x00b"},
        {"user.name": 5},
        {"user.unknown.category": "x"},
    ],
)
def test_bad_changes_are_refused_without_repeating_the_value(changes: dict) -> None:
    with pytest.raises(InvalidInput) as info:
        check_changes([PLAN], changes)
    body = repr(info.value.as_problem())
    assert "not-an-address" not in body and "a\\x00b" not in body


def test_unknown_categories_are_named() -> None:
    with pytest.raises(InvalidInput) as info:
        check_changes([PLAN], {"user.contact.email": "a@example.com", "user.health": "x"})
    assert [p.where for p in info.value.problems] == ["changes.user.health"]


def test_a_part_given_in_parts_again_is_refused() -> None:
    """A part is text: `{"line1": {"city": "x"}}` would otherwise reach a text column as the dict's repr."""
    plan = DatastorePlan(
        "crm",
        "postgresql",
        "CN",
        {
            "addresses": TableSpec(
                "people",
                "addresses",
                ("id",),
                (FieldSpec("id"), FieldSpec("line1", "user.contact.address", part="line1")),
            )
        },
        (),
        (),
    )
    assert check_changes([plan], {"user.contact.address": {"line1": " 1 Main St "}}) == {
        "user.contact.address": {"line1": "1 Main St"}
    }
    with pytest.raises(InvalidInput) as info:
        check_changes([plan], {"user.contact.address": {"line1": {"city": "Shanghai"}}})
    assert info.value.problems[0].where == "changes.user.contact.address.line1", info.value.as_problem()
    assert "Shanghai" not in repr(info.value.as_problem())
