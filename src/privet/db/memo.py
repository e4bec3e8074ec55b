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
    transaction = session.get_transaction()
    memo = session.info.get(_MEMO)
    if memo is None or memo[0] is not transaction:
        memo = (transaction, {})
        if transaction is not None:
            session.info[_MEMO] = memo
    if name not in memo[1]:
        memo[1][name] = compute()
    return memo[1][name]


def forget(session: Session) -> None:
    """This transaction changed what the memo holds (a data map or taxonomy applied): read it again."""
    session.info.pop(_MEMO, None)
