"""Values read once per transaction: the applied data map's version, identity rules.

They change only when a data map or taxonomy is applied, which commits before other transactions see it; the
transaction that applies calls `forget`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.orm import Session

T = TypeVar("T")
_MEMO = "privet.db.memo"  # session.info: (the transaction, {name: value})


def per_transaction(session: Session, name: str, compute: Callable[[], T]) -> T:
    """`compute()` the first time `name` is asked for in the session's current transaction, then its value."""
    memo = _memo(session)
    if name not in memo[1]:
        value = compute()
        memo = _memo(session)  # compute() may have begun the transaction (its first query): the value is its
        memo[1][name] = value
    return memo[1][name]


def _memo(session: Session) -> tuple:
    # the innermost transaction: a value read inside a savepoint goes with it when it is rolled back, and one
    # read before the savepoint is read again inside it (what the savepoint changes is not in the memo)
    transaction = session.get_nested_transaction() or session.get_transaction()
    memo = session.info.get(_MEMO)
    if memo is None or memo[0] is not transaction:
        memo = (transaction, {})
        if transaction is not None:
            session.info[_MEMO] = memo
    return memo


def forget(session: Session) -> None:
    """This transaction changed what the memo holds (a data map or taxonomy applied): read it again."""
    session.info.pop(_MEMO, None)
