"""Erasure order over a datastore's references: children before parents, cycles broken where a column can be NULL.

Rows of a child table refer to rows of its parent, so the child's rows go first. A reference cycle (a table that
refers to itself, or tables that refer to each other) has no such order; it is broken at a reference whose child
columns are nullable (the erasure nulls those columns on the rows it is about to delete, then deletes), and only
where no such reference exists at one that needs deferred checking (see `privet.connectors.sql.erase`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from privet.connectors.base import Edge


@dataclass(frozen=True)
class Ordering:
    """The order, and the references left out to get it: `broken` are nullable, `deferred` are not."""

    order: tuple[str, ...]
    broken: frozenset[Edge] = frozenset()
    deferred: frozenset[Edge] = frozenset()


def _components(nodes: list[str], edges: list[Edge]) -> dict[str, int]:
    """Strongly connected component number of each table (Tarjan's algorithm, iterative)."""
    succ: dict[str, list[str]] = {n: [] for n in nodes}
    for e in edges:
        succ[e.child].append(e.parent)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    comp: dict[str, int] = {}
    counter = 0
    for root in nodes:
        if root in index:
            continue
        work = [(root, iter(succ[root]))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            advanced = False
            for nxt in children:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(succ[nxt])))
                    advanced = True
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    comp[member] = index[node]
                    if member == node:
                        break
    return comp


def ordering(tables: Iterable[str], edges: Iterable[Edge], nullable: Callable[[Edge], bool] | None = None) -> Ordering:
    """Tables children-first; `nullable(edge)` says whether the edge's child columns may be set to NULL
    (unknown without reflection: assumed True)."""
    nodes = sorted(set(tables))
    known = set(nodes)
    live = sorted(
        {e for e in edges if e.child in known and e.parent in known},
        key=lambda e: (e.child, e.child_columns, e.parent, e.parent_columns),
    )
    can_null = nullable or (lambda _e: True)
    broken: set[Edge] = set()
    deferred: set[Edge] = set()
    for e in live:  # a table referring to itself never orders against itself
        if e.child == e.parent:
            (broken if can_null(e) else deferred).add(e)
    comp = _components(nodes, [e for e in live if e.child != e.parent])
    active = [e for e in live if e.child != e.parent]
    order: list[str] = []
    remaining = set(nodes)
    while remaining:
        waiting = {e.parent for e in active if e.child in remaining and e.parent in remaining}
        ready = sorted(remaining - waiting)
        if ready:
            order.extend(ready)
            remaining.difference_update(ready)
            continue
        # stuck: every remaining table waits on another, so a cycle remains; drop one of its references
        inside = [
            e
            for e in active
            if e.child in remaining and e.parent in remaining and comp.get(e.child) == comp.get(e.parent)
        ]
        pick = next((e for e in inside if can_null(e)), None) or inside[0]
        (broken if can_null(pick) else deferred).add(pick)
        active.remove(pick)
    return Ordering(tuple(order), frozenset(broken), frozenset(deferred))


def reachable(tables: Iterable[str], edges: Iterable[Edge], entries: Iterable[tuple[str, str, str]]) -> set[str]:
    """Tables a request can take rows of: the walk of `privet.datamap.reach` (the one `evaluate` checks) over
    declared and reflected references alike."""
    from privet.datamap.reach import walk

    known = set(tables)
    starts = [table for table, _column, _kind in entries if table in known]
    return set(walk(starts, [(e.child, e.parent, e.relation) for e in edges]))


def unreachable(tables: dict, edges: Iterable[Edge], entries: Iterable[tuple[str, str, str]]) -> tuple[str, ...]:
    """Tables with personal fields (`TableSpec`s by name) that no identity reaches."""
    reached = reachable(tables, edges, entries)
    return tuple(
        sorted(name for name, spec in tables.items() if name not in reached and any(f.category for f in spec.fields))
    )
