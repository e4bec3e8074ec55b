"""Erasure order: children before parents, cycles cut at a nullable reference (or deferred when there is none)."""

from __future__ import annotations

from privet.connectors.base import Edge
from privet.connectors.graph import ordering


def _e(child: str, parent: str, column: str = "ref") -> Edge:
    return Edge(child, (column,), parent, ("id",))


def test_a_chain_is_ordered_children_first() -> None:
    edges = [_e("orders", "customers"), _e("items", "orders"), _e("notes", "items")]
    result = ordering(["customers", "orders", "items", "notes", "products"], edges)
    order = result.order
    assert order.index("notes") < order.index("items") < order.index("orders") < order.index("customers")
    assert set(order) == {"customers", "orders", "items", "notes", "products"}
    assert not result.broken and not result.deferred


def test_a_cycle_is_cut_at_the_nullable_reference() -> None:
    default_address = _e("customers", "addresses", "default_address_id")
    owner = _e("addresses", "customers", "customer_id")
    result = ordering(["customers", "addresses"], [default_address, owner], nullable=lambda e: e is default_address)
    assert result.order == ("addresses", "customers")
    assert result.broken == {default_address} and not result.deferred


def test_a_cycle_without_nullable_columns_is_deferred() -> None:
    a, b = _e("a", "b"), _e("b", "a")
    result = ordering(["a", "b"], [a, b], nullable=lambda _e: False)
    assert set(result.order) == {"a", "b"} and len(result.deferred) == 1 and not result.broken


def test_self_references_never_block_the_order() -> None:
    self_ref = _e("customers", "customers", "referred_by")
    result = ordering(["customers", "orders"], [self_ref, _e("orders", "customers")])
    assert result.order == ("orders", "customers") and result.broken == {self_ref}


def test_edges_to_unknown_tables_are_ignored_and_order_is_deterministic() -> None:
    edges = [_e("b", "a"), _e("c", "elsewhere")]
    assert ordering(["a", "b", "c"], edges).order == ordering(["c", "b", "a"], list(reversed(edges))).order
    assert ordering(["a", "b", "c"], edges).order.index("b") < ordering(["a", "b", "c"], edges).order.index("a")


def test_tables_downstream_of_a_cycle_keep_their_place() -> None:
    edges = [_e("a", "b"), _e("b", "a"), _e("child", "a"), _e("b", "top")]
    result = ordering(["a", "b", "child", "top"], edges)
    order = result.order
    assert order.index("child") < order.index("a") and order.index("b") < order.index("top")
    assert len(result.broken) == 1
