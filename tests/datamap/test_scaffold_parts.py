"""Scaffold drafts which part of a value each column holds, where a table keeps one value in several columns."""

from __future__ import annotations

import sqlalchemy as sa

from privet.connectors.changes import joined
from privet.datamap.scaffold import scaffold
from privet.datamap.scaffold.parts import assign_parts
from privet.datamap.schemas import Table


def test_columns_of_one_value_get_their_part_and_a_single_column_none() -> None:
    fields = [
        {"name": "Street", "category": "user.contact.address"},
        {"name": "address_line_2", "category": "user.contact.address"},
        {"name": "city", "category": "user.contact.address"},
        {"name": "zip_code", "category": "user.contact.address"},
        {"name": "state", "category": "user.contact.address.province"},  # a category of its own: whole
        {"name": "first_name", "category": "user.name"},
        {"name": "surname", "category": "user.name"},
        {"name": "nickname", "category": "user.account.profile"},
    ]
    assign_parts(fields)
    parts = {f["name"]: f.get("part") for f in fields}
    assert parts == {
        "Street": "line1",
        "address_line_2": "line2",
        "city": "city",
        "zip_code": "postcode",
        "state": None,
        "first_name": "given",
        "surname": "family",
        "nickname": None,
    }
    Table.model_validate({"name": "t", "fields": fields})  # the draft is a valid manifest table


def test_a_part_that_cannot_be_told_apart_is_left_for_review() -> None:
    fields = [
        {"name": "street", "category": "user.contact.address"},
        {"name": "street_name", "category": "user.contact.address"},
    ]
    assign_parts(fields)
    assert fields[0]["part"] == "line1" and "part" not in fields[1] and "review" in fields[1]["description"]


def test_scaffold_writes_parts(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'shop.sqlite'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT, street TEXT, city TEXT, postcode VARCHAR(10))"
        )
    engine.dispose()
    draft = scaffold(url, dataset_key="shop", datastore_key="shop_db")
    table = next(t for d in draft["datasets"] for t in d["tables"] if t["name"] == "customers")
    parts = {f["name"]: f.get("part") for f in table["fields"]}
    assert parts["street"] == "line1" and parts["city"] == "city" and parts["postcode"] == "postcode"


def test_a_value_given_in_parts_joins_for_a_whole_column() -> None:
    assert joined({"given": "Jane", "family": "Doe"}) == "Jane Doe"
    assert joined({"given": "三", "family": "张"}) == "张三"
    assert (
        joined({"postcode": "518000", "line1": "1 Example Road", "city": "Shenzhen"})
        == "1 Example Road, Shenzhen, 518000"
    )
