"""What each erasure action does to a column that cannot take it as such (pure)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from privet.connectors.base import FieldSpec, TableSpec
from privet.connectors.sql.erase import effect
from privet.connectors.sql.schema import TableLayout

TABLE = sa.Table(
    "people",
    sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("note", sa.String(200)),
    sa.Column("login", sa.String(200), nullable=False),
    sa.Column("points", sa.Integer, nullable=False),
    sa.Column("born", sa.Date),
    sa.Column("owner_id", sa.Integer, nullable=False),
    sa.Column("buddy_id", sa.Integer),
    sa.Column("kind", sa.Enum("a", "b", name="kinds")),
)
REFERENCES = {"owner_id", "buddy_id"}


def _effect(column: str, action: str, category: str | None = "user.x") -> tuple[str, str | None] | None:
    spec = FieldSpec(column, category, None, action, "why", "P1Y")
    layout = TableLayout(TableSpec("d", "people", ("id",), (spec,)), TABLE, ("id",), True)
    result = effect(layout, spec, REFERENCES)
    return (result.kind, result.reason) if result else None


@pytest.mark.parametrize(
    ("column", "action", "kind"),
    [
        ("note", "null", "null"),
        ("note", "mask", "mask"),
        ("note", "hash", "hash"),
        ("note", "retain", "retain"),
        ("note", "delete_row", "null"),  # a row that must stay: its delete_row fields are emptied
        ("login", "null", "hash"),  # NOT NULL text: the hash stands in for NULL (and stays unique)
        ("born", "mask", "null"),
        ("born", "hash", "null"),  # no text to mask in a nullable date
        ("points", "null", "kept"),
        ("points", "mask", "kept"),  # NOT NULL integer: nothing safe to write
        ("id", "hash", "kept"),  # primary keys stay
        ("owner_id", "mask", "kept"),
        ("buddy_id", "hash", "null"),  # references are emptied, never scrambled
        ("kind", "mask", "null"),  # an enumeration is not free text
    ],
)
def test_effects(column: str, action: str, kind: str) -> None:
    assert _effect(column, action)[0] == kind


def test_untouched_columns() -> None:
    assert _effect("note", None, category=None) is None  # not personal: nothing to do
    assert _effect("note", None) == ("none", "no erasure action is configured for it in the data map")  # an exception
    assert _effect("owner_id", "delete_row", category=None) is None  # part of a deleted row, nothing on its own


def test_kept_columns_say_why() -> None:
    assert "NOT NULL" in _effect("points", "null")[1] and "primary key" in _effect("id", "null")[1]
