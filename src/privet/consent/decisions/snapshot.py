"""The data behind the in-memory Decider: the projection, separate-consent slots, GPC times, subjects' age dates,
merges, visitor links and guardian links, in plain dicts and tuples, read from the store in bulk.

Holder keys: a subject's id, or "v:<visitor id>". Slot keys: the purpose (its latest record of any kind, exactly
the projection's rule) and "<purpose>#<separate kind>" (the latest separate consent of that kind). Channel
preferences (P44) are kept per subject that has any: {(purpose, channel): (opted in, when)}. Values are read
without SQLAlchemy's per-value type processing (raw text on SQLite, driver objects on PostgreSQL): a million
subjects load in seconds, not minutes.
"""

from __future__ import annotations

import json
import sys
import threading
from datetime import datetime
from typing import Any, Literal, overload

from sqlalchemy import ColumnElement, Select, String, func, or_, select, type_coerce
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import TypeCoerce
from sqlalchemy.sql.functions import FunctionElement

from privet.consent.decisions import rules
from privet.consent.decisions.policy import Policy
from privet.consent.decisions.rules import AT, Checks, entry, fold, slot_keys, ts
from privet.consent.models import ChannelPreference, ConsentRecord, ConsentState, VisitorLink
from privet.subjects.models import GuardianLink, Subject

NOAGE = (0, 0)
_NONE: dict = {}
_EPOCH = datetime(1970, 1, 1)
_R = ConsentRecord.__table__.c


def _raw(column: ColumnElement[Any]) -> TypeCoerce[str]:  # the driver's value, without the type's result processing
    return type_coerce(column, String())


class epoch(FunctionElement):  # noqa: N801 - used like a SQL function
    """A timestamp column as read for a snapshot: POSIX seconds computed by PostgreSQL, raw text on SQLite."""

    type = String()
    inherit_cache = True
    name = "epoch"


@compiles(epoch)
def _epoch_raw(element: epoch, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)


@compiles(epoch, "postgresql")
def _epoch_pg(element: epoch, compiler: SQLCompiler, **kw: Any) -> str:
    return f"EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)})::float8"


@overload
def stamp(value: None) -> None: ...
@overload
def stamp(value: float | str | datetime) -> float: ...
def stamp(value: Any) -> float | None:  # Any: a driver's value, told apart by type() (this runs once per value read)
    """A snapshot timestamp (PostgreSQL: seconds; SQLite: naive UTC text; else a datetime) as POSIX seconds."""
    if value is None or type(value) is float:
        return value
    if type(value) is str:
        return (datetime.fromisoformat(value) - _EPOCH).total_seconds()
    return value.timestamp() if value.tzinfo else (value - _EPOCH).total_seconds()


def day_number(value: Any) -> int:  # Any: a driver's date value (text on SQLite), told apart by type()
    """A driver date value as an ordinal day number (0 for none)."""
    if not value:
        return 0
    return (datetime.fromisoformat(value) if type(value) is str else value).toordinal()


_RECORD_COLS = (
    _R.subject_id,
    _R.visitor_id,
    _R.purpose,
    _R.event,
    _R.seq,
    _R.legal_basis,
    _R.separate_kind,
    _raw(_R.categories),
    _R.guardian_id,
    epoch(_R.at),
    epoch(_R.expires_at),
    _R.id,
    _R.method,
)


def generation_statement() -> Select[Any]:
    """The audit chain's head (every state change moves it), the ledger's last seq and what the policy is built
    from (data map version, notice versions): one cheap query, raw driver values."""
    from privet.audit.models import AuditHead
    from privet.datamap.models import DatamapVersion
    from privet.notices.models import NoticeVersion

    nv = NoticeVersion.__table__.c
    return select(
        select(func.max(AuditHead.__table__.c.seq)).scalar_subquery(),
        select(func.max(_R.seq)).scalar_subquery(),
        select(func.max(DatamapVersion.__table__.c.number)).scalar_subquery(),
        select(func.count(nv.id)).scalar_subquery(),
        select(func.max(_raw(nv.published_at))).scalar_subquery(),
    )


def generation(session: Session) -> tuple:
    """Where the store stands (see `generation_statement`); a Decider refreshes when it moved."""
    return tuple(session.execute(generation_statement()).one())


def subjects_changed(session: Session, after: int) -> list[str]:
    """Subjects whose age, merges, visitor links, guardians or channel preferences changed since audit seq `after`
    (from the chain)."""
    return subject_changes(session, after)[0]


def subject_changes(
    session: Session, after: int, upto: int | None = None, limit: int | None = None
) -> tuple[list[str], int]:
    """(subject ids, audit seq read up to) for the subject events in (`after`, `upto`]: what the decision change
    feed adds to the ledger's changes. With `limit`, reading stops after that many subject events (the seq
    returned is then the last one read, so the next call goes on from there)."""
    from privet.audit.models import AuditEvent

    a = AuditEvent.__table__.c
    where = [a.seq > after, a.object_type.in_(("subject", "guardian_link"))]
    if upto is not None:
        where.append(a.seq <= upto)
    stmt = select(a.seq, a.object_type, a.object_id, a.details).where(*where).order_by(a.seq)
    rows = session.execute(stmt.limit(limit) if limit else stmt).all()
    out = []
    for _seq, object_type, object_id, details in rows:
        details = details or {}
        out += [object_id] if object_type == "subject" else []
        out += [details[k] for k in ("absorbed_id", "child_id", "guardian_id") if isinstance(details.get(k), str)]
    cut = bool(limit) and len(rows) == limit
    return out, (rows[-1][0] if cut else upto if upto is not None else rows[-1][0] if rows else after)


class Snapshot:
    """Plain-data state for decisions, and the bulk readers that fill it."""

    def __init__(self, policy: Policy) -> None:
        self._slots: dict[str, dict[str, tuple]] = {}
        self._gpc: dict[str, float] = {}  # holder -> time of its latest GPC opt-out
        self._subjects: dict[str, tuple[int, int]] = {}  # subject id -> (child-until, minor-until) day numbers
        self._redirect: dict[str, str] = {}  # merged-away subject -> survivor
        self._absorbed: dict[str, set[str]] = {}  # survivor -> subjects merged into it
        self._visitors: dict[str, set[str]] = {}  # subject -> linked visitor ids
        self._visitor_of: dict[str, str] = {}  # visitor id -> subject
        self._groups: dict[str, tuple[str, ...]] = {}  # survivor -> every holder key, when more than itself
        self._guardians: dict[str, tuple] = {}  # child -> ((guardian, attested, verified, revoked), ...)
        self._cats: dict[tuple, tuple] = {}
        self._special: set[str] = set()  # subjects merged, grouped or with guardian links: not the inlined path
        self._prefs: dict[str, dict[tuple[str, str], tuple[bool, float]]] = {}  # subject -> channel choices
        self._lock = threading.Lock()
        self.seq = 0
        self.generation: tuple | None = None  # where the store stood when last read (`generation`)
        self.as_of: float | None = None  # the moment of a snapshot of the past (None: now)
        self.subject_for_request: str | None = None
        self._cats_raw: dict[str, tuple | None] = {}
        self._set_policy(policy)

    def _set_policy(self, policy: Policy) -> None:
        self.policy, self.checks = policy, Checks(policy)
        self._pp = {key: policy.resolve(key) for key in policy.taxonomy.purposes}
        self._material = {k: ts(p.material_at) for k, p in policy.purposes.items()}
        # purposes whose messages follow channel preferences (marketing), with the broader purposes a choice may
        # be stored on, nearest first; service notices are absent: they cannot be switched off (P35)
        ancestors = policy.taxonomy.ancestors
        self._channel_keys = {
            key: (key, *ancestors(key, "purposes"))
            for key, pp in self._pp.items()
            if pp is not None and pp.type == "marketing"
        }

    def _load_subjects(self, session: Session, ids: list[str] | None) -> None:
        c = Subject.__table__.c
        stmt = select(c.id, _raw(c.child_until), _raw(c.minor_until), c.merged_into_id)
        if ids is not None:
            stmt = stmt.where(c.id.in_(ids))
        for sid, child, minor, into in session.execute(stmt.execution_options(yield_per=20_000)):
            sid = sys.intern(sid)
            age = (day_number(child), day_number(minor))
            self._subjects[sid] = NOAGE if age == NOAGE else age
            before = self._redirect.get(sid)
            if into and into != before:
                if before is not None:  # merges flatten chains: the survivor moved on
                    self._absorbed.get(before, set()).discard(sid)
                    self._regroup(before)
                self._redirect[sid] = into
                self._special.add(sid)
                self._absorbed.setdefault(into, set()).add(sid)
                self._regroup(into)

    def _load_links(self, session: Session, ids: list[str] | None, visitors: list[str] | None) -> None:
        v, g = VisitorLink.__table__.c, GuardianLink.__table__.c
        links = select(v.visitor_id, v.subject_id)
        guardians = select(g.child_id, g.guardian_id, epoch(g.attested_at), epoch(g.verified_at), epoch(g.revoked_at))
        if ids is not None:
            links = links.where(or_(v.subject_id.in_(ids), v.visitor_id.in_(visitors or [])))
            guardians = guardians.where(g.child_id.in_(ids))
            for sid in ids:
                self._guardians.pop(sid, None)
        for vid, sid in session.execute(links):
            self._visitor_of[vid] = sid
            self._visitors.setdefault(sid, set()).add(vid)
            self._regroup(sid)
        found: dict[str, list] = {}
        for child, guardian, attested, verified, revoked in session.execute(guardians):
            found.setdefault(child, []).append((guardian, stamp(attested), stamp(verified), stamp(revoked)))
        self._guardians.update({k: tuple(v) for k, v in found.items()})
        self._special.update(found)

    def _load_channels(self, session: Session, ids: list[str] | None) -> None:
        """Channel preferences as stored now, for these subjects (all of them for None)."""
        c = ChannelPreference.__table__.c
        stmt = select(c.subject_id, c.purpose, c.channel, c.opted_in, epoch(c.at))
        if ids is not None:
            stmt = stmt.where(c.subject_id.in_(ids))
            for sid in ids:
                self._prefs.pop(sid, None)
        for sid, purpose, channel, opted_in, at in session.execute(stmt.execution_options(yield_per=20_000)):
            self._prefs.setdefault(sid, {})[(purpose, channel)] = (bool(opted_in), stamp(at))

    def _load_channels_at(self, session: Session, ids: list[str], moment: datetime) -> None:
        """Channel preferences as they stood at `moment`, replayed from the audit chain (rows keep only now)."""
        from privet.audit.models import AuditEvent

        a = AuditEvent.__table__.c
        for sid in ids:
            self._prefs.pop(sid, None)
        if not ids:
            return
        for sid, details, at in session.execute(
            select(a.object_id, a.details, a.at)
            .where(a.action == "consent.channel_set", a.object_id.in_(ids), a.at <= moment)
            .order_by(a.seq)
        ):
            details = details or {}
            if isinstance(details.get("purpose"), str) and isinstance(details.get("channel"), str):
                self._prefs.setdefault(sid, {})[(details["purpose"], details["channel"])] = (
                    bool(details.get("opted_in")),
                    ts(at) or 0.0,
                )

    def channel_prefs(self, sid: str) -> dict | None:
        """A subject's channel choices, with those of the subjects merged into it (the latest choice wins)."""
        group = self._groups.get(sid)
        if group is None:
            return self._prefs.get(sid)
        out: dict = {}
        for key in group:
            for pair, choice in self._prefs.get(key, _NONE).items():
                if pair not in out or choice[1] > out[pair][1]:
                    out[pair] = choice
        return out

    def _survivor(self, sid: str) -> str:
        for _ in range(16):  # merged subjects point at their survivor; a snapshot may briefly hold a chain
            nxt = self._redirect.get(sid)
            if nxt is None:
                break
            sid = nxt
        return sid

    def _regroup(self, sid: str) -> None:
        survivor = self._survivor(sid)
        members, todo = [survivor], [survivor]
        while todo:
            found = sorted(self._absorbed.get(todo.pop(), ()))
            todo += [m for m in found if m not in members]
            members += [m for m in found if m not in members]
        keys = tuple(members) + tuple(f"v:{v}" for m in members for v in sorted(self._visitors.get(m, ())))
        if len(keys) > 1:
            self._groups[survivor] = keys
            self._special.add(survivor)
        else:
            self._groups.pop(survivor, None)

    def _categories(self, value: Any) -> tuple | None:
        """A driver JSON value (SQLite: text; PostgreSQL: a list) as one shared tuple per distinct list."""
        if not value:
            return None
        if type(value) is str:
            found: tuple | Literal[False] | None = self._cats_raw.get(value, False)
            if found is False:
                found = self._cats_raw[value] = self._categories(json.loads(value))
            return found
        key = tuple(value)
        return self._cats.setdefault(key, key) if key else None

    def _load_states(self, session: Session, holders: list[str] | None) -> None:
        s = ConsentState.__table__.c
        stmt = select(
            s.holder,
            s.purpose,
            s.event,
            s.record_seq,
            s.legal_basis,
            s.separate_kind,
            _raw(s.categories),
            s.guardian_id,
            epoch(s.at),
            epoch(s.expires_at),
            _R.id,
            _R.method,
        ).join_from(ConsentState.__table__, ConsentRecord.__table__, _R.seq == s.record_seq)
        if holders is not None:
            stmt = stmt.where(s.holder.in_(holders))
        slots, intern, cats, make = self._slots, sys.intern, self._categories, entry
        for holder, purpose, event, seq, basis, kind, categories, guardian, at, expires, rid, method in session.execute(
            stmt.execution_options(yield_per=50_000)
        ):
            key = intern(holder[2:]) if holder[0] == "s" else holder
            found = slots.get(key)
            if found is None:
                found = slots[key] = {}
            found[purpose] = make(
                event, stamp(at), seq, stamp(expires), rid, basis, kind, guardian, cats(categories), method == "gpc"
            )  # one projection row per holder and purpose

    def _load_records(self, session: Session, where: ColumnElement[bool], *, kinds_only: bool) -> list[str]:
        """Fold ledger records (in seq order); with kinds_only, just the separate-kind slots and GPC times."""
        touched = []
        stmt = select(*_RECORD_COLS).where(where).order_by(_R.seq)
        for (
            subject_id,
            visitor_id,
            purpose,
            event,
            seq,
            basis,
            kind,
            categories,
            guardian,
            at,
            expires,
            rid,
            method,
        ) in session.execute(stmt.execution_options(yield_per=20_000)):
            key = sys.intern(subject_id) if subject_id is not None else f"v:{visitor_id}"
            touched.append(key)
            found = self._slots.setdefault(key, {})
            e = entry(
                event,
                stamp(at),
                seq,
                stamp(expires),
                rid,
                basis,
                kind,
                guardian,
                self._categories(categories),
                method == "gpc",
            )
            for slot in slot_keys(purpose, kind)[1 if kinds_only else 0 :]:
                fold(found, slot, e)
            if method == "gpc" and e[0] != rules.GIVEN and e[AT] > self._gpc.get(key, float("-inf")):
                self._gpc[key] = e[AT]
            self.seq = max(self.seq, seq)
        return touched

    def _expand(self, links: tuple) -> tuple:
        """Guardian links with each guardian's merged ids too: consent a guardian gave stays theirs after a merge."""
        out = []
        for link in links:
            survivor = self._survivor(link[0])
            members = [k for k in self._groups.get(survivor, (survivor,)) if not k.startswith("v:")]
            out += [(m, *link[1:]) for m in {link[0], *members}]
        return tuple(out)
