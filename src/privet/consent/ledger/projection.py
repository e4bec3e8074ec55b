"""The current-state projection: the last event per holder and purpose, by (at, seq).

Maintained with each record by one upsert that only wins when the record is newer, so a backdated import never
overwrites a newer state; rebuilt from the ledger by the same rule, set-based, one seq range at a time.
Holders are "s:<subject id>" or "v:<visitor id>".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlalchemy import and_, case, delete, func, literal, or_, select
from sqlalchemy.orm import Session

from privet.consent.models import ConsentRecord, ConsentState

if TYPE_CHECKING:
    from sqlalchemy.dialects.postgresql import Insert as PgInsert
    from sqlalchemy.dialects.sqlite import Insert as SqliteInsert

COLUMNS = (
    "holder",
    "purpose",
    "event",
    "record_seq",
    "legal_basis",
    "separate_kind",
    "categories",
    "notice_version",
    "guardian_id",
    "at",
    "expires_at",
)
_UPDATED = COLUMNS[2:]


def holder_of(record: ConsentRecord) -> str:
    """The projection key of the record's subject or visitor."""
    return f"s:{record.subject_id}" if record.subject_id is not None else f"v:{record.visitor_id}"


def _insert(session: Session) -> PgInsert | SqliteInsert:
    """The dialect's Insert construct (both have ON CONFLICT ... WHERE)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(ConsentState)
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(ConsentState)
    # the store runs on SQLite or PostgreSQL (see README)
    raise NotImplementedError(f"the consent projection needs SQLite or PostgreSQL, not {dialect}")


def _upsert(stmt: PgInsert | SqliteInsert) -> PgInsert | SqliteInsert:
    """ON CONFLICT: take the incoming row only when it is later by (at, seq)."""
    new = stmt.excluded
    newer = or_(new.at > ConsentState.at, and_(new.at == ConsentState.at, new.record_seq > ConsentState.record_seq))
    return stmt.on_conflict_do_update(
        index_elements=["holder", "purpose"], set_={c: new[c] for c in _UPDATED}, where=newer
    )


# dialect -> the one-row upsert, built once (building it costs more than running it)
_single: dict[str, PgInsert | SqliteInsert] = {}


_RECORD_FIELDS = (
    "subject_id",
    "visitor_id",
    "purpose",
    "event",
    "seq",
    "legal_basis",
    "separate_kind",
    "categories",
    "notice_version",
    "guardian_id",
    "at",
    "expires_at",
)


def apply(session: Session, record: ConsentRecord) -> None:
    """Fold one (flushed) record into the projection."""
    apply_rows(session, [{c: getattr(record, c) for c in _RECORD_FIELDS}])


def apply_rows(session: Session, rows: list[dict]) -> None:
    """Fold written ledger rows (column dicts with their seq) into the projection.

    Only the latest row per holder and purpose is sent (the upsert keeps the newer by (at, seq) anyway), in key
    order: concurrent batches then lock state rows in the same order, so they cannot deadlock each other.
    """
    latest: dict[tuple[str, str], dict] = {}
    for row in rows:
        holder = f"s:{row['subject_id']}" if row["subject_id"] is not None else f"v:{row['visitor_id']}"
        seen = latest.get((holder, row["purpose"]))
        if seen is None or (row["at"], row["seq"]) > (seen["at"], seen["seq"]):
            latest[(holder, row["purpose"])] = row
    values = [
        {
            "holder": holder,
            "purpose": purpose,
            "event": r["event"],
            "record_seq": r["seq"],
            "legal_basis": r["legal_basis"],
            "separate_kind": r["separate_kind"],
            "categories": list(r["categories"] or []),
            "notice_version": r["notice_version"],
            "guardian_id": r["guardian_id"],
            "at": r["at"],
            "expires_at": r["expires_at"],
        }
        for (holder, purpose), r in sorted(latest.items())
    ]
    if not values:
        return
    connection = session.connection()
    dialect = connection.dialect.name
    stmt = _single.get(dialect)
    if stmt is None:
        stmt = _single[dialect] = _upsert(_insert(session))
    connection.execute(stmt, values)


def merge_range(session: Session, after_seq: int, upto_seq: int) -> None:
    """Fold the records with after_seq < seq <= upto_seq into the projection in one statement."""
    r = ConsentRecord
    holder = case((r.subject_id.is_not(None), literal("s:") + r.subject_id), else_=literal("v:") + r.visitor_id)
    rank = func.row_number().over(partition_by=(holder, r.purpose), order_by=(r.at.desc(), r.seq.desc()))
    ranked = (
        select(
            holder.label("holder"),
            r.purpose,
            r.event,
            r.seq.label("record_seq"),
            r.legal_basis,
            r.separate_kind,
            r.categories,
            r.notice_version,
            r.guardian_id,
            r.at,
            r.expires_at,
            rank.label("rank"),
        )
        .where(r.seq > after_seq, r.seq <= upto_seq)
        .subquery()
    )
    # one row per key (ON CONFLICT allows no repeats), in key order like apply_rows (no lock-order deadlocks)
    latest = (
        select(*(ranked.c[c] for c in COLUMNS)).where(ranked.c.rank == 1).order_by(ranked.c.holder, ranked.c.purpose)
    )
    session.execute(_upsert(_insert(session).from_select(list(COLUMNS), latest)))


def max_seq(session: Session) -> int:
    """The ledger's last seq (0 when empty)."""
    return session.execute(select(func.max(ConsentRecord.seq))).scalar() or 0


def rebuild(
    session: Session,
    *,
    batch: int = 10_000,
    actor: str = "system",
    progress: Callable[[int, int], object] | None = None,
) -> int:
    """Empty the projection and rebuild it from the ledger, `batch` records per statement; returns its row count."""
    from privet.audit.service import record as audit

    session.flush()
    session.execute(delete(ConsentState))
    first, last = session.execute(select(func.min(ConsentRecord.seq), func.max(ConsentRecord.seq))).one()
    start, batch = (first or 1) - 1, max(1, batch)
    while start < (last or 0):
        merge_range(session, start, start + batch)
        start += batch
        if progress is not None:
            progress(min(start, last) - first + 1, last - first + 1)
    session.expire_all()  # ORM copies of state rows are stale now
    rows = session.execute(select(func.count()).select_from(ConsentState)).scalar() or 0
    audit(
        session,
        actor=actor,
        action="consent.projection_rebuilt",
        object_type="consent_state",
        object_id="all",
        details={"rows": rows, "last_seq": last or 0},
    )
    return rows


def state(session: Session, holder: str, purpose: str) -> ConsentState | None:
    """The current state of one holder and purpose (fresh from the store)."""
    return session.execute(
        select(ConsentState)
        .where(ConsentState.holder == holder, ConsentState.purpose == purpose)
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()


def states(session: Session, holders: list[str]) -> list[ConsentState]:
    """Every current state of these holders, by purpose."""
    if not holders:
        return []
    return list(
        session.execute(
            select(ConsentState)
            .where(ConsentState.holder.in_(holders))
            .order_by(ConsentState.purpose, ConsentState.holder)
            .execution_options(populate_existing=True)
        ).scalars()
    )
