"""What every recording transaction reads but what rarely changes, kept per process behind one cheap query.

A recording needs the applied data map's policy, the notice version it refers to and the active webhook
endpoints; they change a few times a year, recordings happen many times a second. One statement per
transaction reads where they stand (`Stamp`): the data map's latest number and digest, the count and newest id
of notice versions, and the count, active count and newest id of webhook endpoints. Cached answers are reused
while their part of the stamp is unchanged. Endpoints are only ever added (a new, larger time-ordered id and a
larger count) or deactivated (a smaller active count), and notice versions only added, so any change moves the
stamp, including one rolled back after it was cached. The stamp is read inside the transaction, so a change
committed before it is seen exactly as the queries it replaces would have seen it.
"""

from __future__ import annotations

import threading
from typing import Any, NamedTuple

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from privet.consent.ledger.checks import checked_notice, find_notice
from privet.consent.ledger.rules import Policy, policy_for
from privet.consent.webhooks.service import read_subscribed


class Stamp(NamedTuple):
    """Where the rarely changing inputs of recording stand."""

    datamap: tuple | None  # (number, sha256) of the latest applied version
    notices: tuple  # (count, newest id) of notice versions
    endpoints: tuple  # (count, active count, newest id) of webhook endpoints


_STATEMENT: list[Select[Any]] = []
_lock = threading.Lock()
_notices: dict = {"stamp": None, "found": {}}  # (key, version) -> checks.find_notice's answer
_MISSING = object()
_endpoints: dict = {"stamp": None, "ids": []}


def _statement() -> Select[Any]:  # a Core select, built once on first use (the models import late)
    if not _STATEMENT:
        from privet.consent.models import WebhookEndpoint
        from privet.datamap.models import DatamapVersion
        from privet.notices.models import NoticeVersion

        d, n, e = DatamapVersion.__table__, NoticeVersion.__table__, WebhookEndpoint.__table__
        latest = select(d.c.number, d.c.sha256).order_by(d.c.number.desc()).limit(1).subquery()
        _STATEMENT.append(
            select(
                select(latest.c.number).scalar_subquery(),
                select(latest.c.sha256).scalar_subquery(),
                select(func.count()).select_from(n).scalar_subquery(),
                select(func.max(n.c.id)).scalar_subquery(),
                select(func.count()).select_from(e).scalar_subquery(),
                select(func.count()).select_from(e).where(e.c.active.is_(True)).scalar_subquery(),
                select(func.max(e.c.id)).scalar_subquery(),
            )
        )
    return _STATEMENT[0]


def read(session: Session) -> Stamp:
    """The stamp as this transaction sees it (pending ORM changes flushed first)."""
    session.flush()
    dm_number, dm_sha, n_count, n_max, e_count, e_active, e_max = session.connection().execute(_statement()).one()
    return Stamp((dm_number, dm_sha) if dm_number is not None else None, (n_count, n_max), (e_count, e_active, e_max))


def policy(session: Session, stamp: Stamp) -> Policy:
    """The applied data map's policy (InvalidInput before any map is applied)."""
    return policy_for(session, stamp.datamap)


def notice(session: Session, stamp: Stamp, key: str, version: int | None) -> tuple[int | None, str | None]:
    """`checks.checked_notice` (the version and its id, or InvalidInput), from the cache while notices stay the same."""
    with _lock:
        if _notices["stamp"] != stamp.notices:
            _notices["stamp"], _notices["found"] = stamp.notices, {}
        cached = _notices["found"].get((key, version), _MISSING)
    if cached is _MISSING:
        cached = find_notice(session, key, version)
        with _lock:
            if _notices["stamp"] == stamp.notices and len(_notices["found"]) < 1000:
                _notices["found"][(key, version)] = cached
    return cached if cached is not None else checked_notice(session, key, version)  # the latter raises the error


def endpoints(session: Session, stamp: Stamp) -> list[str]:
    """Ids of the active endpoints subscribed to consent changes, from the cache while endpoints stay the same."""
    with _lock:
        if _endpoints["stamp"] == stamp.endpoints:
            return _endpoints["ids"]
    ids = read_subscribed(session) if stamp.endpoints[1] else []
    with _lock:
        _endpoints["stamp"], _endpoints["ids"] = stamp.endpoints, ids
    return ids
