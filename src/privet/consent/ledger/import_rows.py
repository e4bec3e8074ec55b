"""The per-row work of `ledger.importer`: checking a row, resolving identities to subjects, the ledger tuples.

Imports run to millions of rows, so the per-row path is kept to dictionary lookups and a time parse: the rules
of the ledger (`checks.prepare`) depend only on (purpose, event, method, categories) and are checked once per
such key, identities are normalised and blind-indexed once per distinct value, ids are drawn in bulk, and
rows are plain tuples in the column order of `COLUMNS` (what `bulk.insert_tuples` writes).
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from privet.consent.ledger.checks import DEFAULT_NOTICE, FUTURE_SKEW, aware, prepare
from privet.consent.ledger.rules import POSITIVE_EVENTS, Policy
from privet.kit.crypto import Keyring
from privet.kit.errors import InvalidInput

REQUIRED = ("identity_type", "identity", "purpose", "event", "at")
# ledger columns written per row: the varying ones first, then the ones every row of a rule key shares
COLUMNS = (
    "id",
    "subject_id",
    "at",
    "notice_key",
    "notice_version",
    "purpose",
    "categories",
    "legal_basis",
    "separate_kind",
    "event",
    "expires_at",
    "language",
    "method",
    "jurisdiction",
    "recorded_at",
    "evidence",
    "actor",
)
_UTC = UTC


def new_ids(count: int) -> list[str]:
    """`kit.ids.new_id` for many rows at once: the same format (48-bit milliseconds + 56 random bits, hex), with
    one call for the random bytes instead of one per id."""
    stamp = f"{int(time.time() * 1000):012x}"
    noise = os.urandom(7 * count).hex()
    return [stamp + noise[i : i + 14] for i in range(0, 14 * count, 14)]


def parse_time(value: object, name: str) -> datetime | None:
    """An ISO 8601 time from a cell (None for an empty one); InvalidInput otherwise."""
    if value is None or value == "":
        return None
    try:
        return datetime.fromisoformat(value.strip() if type(value) is str else str(value).strip())
    except ValueError:
        raise InvalidInput(f"{name} is not an ISO 8601 time", "e.g. 2024-05-01T08:00:00Z") from None


class Checker:
    """Per-row checks; a row comes out as (identity type, normalised identity, blind index, ledger tuple head,
    shared tail) or raises InvalidInput naming what is wrong."""

    def __init__(
        self, session: Session, keyring: Keyring, policy: Policy, method: str, *, now: datetime, actor: str
    ) -> None:
        from privet.subjects.service import identity_rules

        self.keyring, self.policy, self.method, self.now, self.actor = keyring, policy, method, now, actor
        self.latest = now + FUTURE_SKEW
        self.known_types, self.region = identity_rules(session)
        self.evidence = {"source": "import"}  # one object for every row: serialised once
        self._tails: dict[tuple, tuple] = {}  # rule key -> the shared columns of its rows
        self._identities: dict[tuple[str, str], tuple[str, str]] = {}  # (type, raw) -> (normalised, blind index)

    def identity(self, kind: str, raw: str) -> tuple[str, str]:
        """(normalised value, blind index), cached: exports repeat a person's identity once per purpose."""
        from privet.subjects.identities import normalise

        found = self._identities.get((kind, raw))
        if found is None:
            value = normalise(kind, raw, default_region=self.region, known_types=self.known_types, where="identity")
            if len(self._identities) > 500_000:
                self._identities.clear()
            found = self._identities[(kind, raw)] = (value, self.keyring.blind_index(kind, value))
        return found

    def check(self, raw: dict) -> tuple[str, str, str, tuple, tuple]:
        """One row's identity, its (at, notice key, notice version) and the shared columns of its rule."""
        get = raw.get
        kind, ident, purpose, event, at = (
            get("identity_type"),
            get("identity"),
            get("purpose"),
            get("event"),
            get("at"),
        )
        if not (kind and ident and purpose and event and at):
            missing = [c for c in REQUIRED if get(c) in (None, "")]
            if missing:
                raise InvalidInput(f"missing {', '.join(missing)}", "fill every required column")
        cats = get("categories") or ()
        if type(cats) is str:
            cats = [c.strip() for c in cats.split(";") if c.strip()]
        version = get("notice_version")
        if version is not None and version != "":
            try:
                version = int(version)
            except (TypeError, ValueError):
                raise InvalidInput("notice_version is not a whole number", "send e.g. 3") from None
        else:
            version = None
        key = (str(purpose), str(event), str(get("method") or self.method), tuple(cats))
        tail: tuple | None  # the shared columns (None: this rule key is not checked yet)
        if get("language") or get("jurisdiction") or get("expires_at"):  # rare: this row's own full check
            row = prepare(
                self.policy,
                subject_id="-",
                visitor_id=None,
                purpose=key[0],
                event=key[1],
                method=key[2],
                categories=list(cats),
                at=parse_time(at, "at"),
                now=self.now,
                expires_at=parse_time(get("expires_at"), "expires_at"),
                language=get("language") or None,
                jurisdiction=get("jurisdiction") or None,
            )
            moment, tail = row["at"], self._tail(row)
        else:  # the common case: the rules depend only on the key, so check them once per key
            tail = self._tails.get(key)
            if tail is None:
                tail = self._tails[key] = self._tail(
                    prepare(
                        self.policy,
                        subject_id="-",
                        visitor_id=None,
                        purpose=key[0],
                        event=key[1],
                        method=key[2],
                        categories=list(cats),
                        now=self.now,
                    )
                )
            moment = self._at(at)
        value, blind = self.identity(str(kind), ident if type(ident) is str else str(ident))
        return str(kind), value, blind, (moment, get("notice_key") or DEFAULT_NOTICE, version), tail

    def _tail(self, row: dict) -> tuple:
        return (
            row["purpose"],
            row["categories"],
            row["legal_basis"],
            row["separate_kind"],
            row["event"],
            row["expires_at"],
            row["language"],
            row["method"],
            row["jurisdiction"],
            self.now,
            self.evidence,
            self.actor,
        )

    def _at(self, value: object) -> datetime:
        # never None: check() refused rows without "at" (no assert: this runs once per imported row)
        moment: datetime = parse_time(value, "at")  # type: ignore[assignment]  # see above
        if moment.tzinfo is None:
            aware(moment)  # raises the ledger's own "needs a timezone" error
        moment = moment.astimezone(_UTC)
        if moment > self.latest:
            raise InvalidInput("at is in the future", "send when the person acted")
        return moment


def resolve(
    session: Session, keyring: Keyring, wanted: dict[str, tuple[str, str]], *, create: bool
) -> tuple[dict[str, str], set[str], int]:
    """blind index → subject id for a chunk's identities, the ids that existed before, and how many subjects
    were created for unknown identities (only when `create`)."""
    from privet.consent.ledger.bulk_insert import bulk_insert
    from privet.subjects.models import Identity, Subject
    from privet.subjects.service import context

    found = dict(
        session.connection()
        .execute(select(Identity.blind_index, Identity.subject_id).where(Identity.blind_index.in_(list(wanted))))
        .all()
    )
    existing = set(found.values())
    missing = [b for b in wanted if b not in found]
    if not create or not missing:
        return found, existing, 0
    from privet.kit.clock import utcnow

    now, ids = utcnow(), new_ids(2 * len(missing))
    subjects, identities = [], []
    for i, blind in enumerate(missing):
        subject_id, (kind, value) = ids[2 * i], wanted[blind]
        found[blind] = subject_id
        subjects.append({"id": subject_id, "status": "active", "created_at": now, "updated_at": now})
        identities.append(
            {
                "id": ids[2 * i + 1],
                "subject_id": subject_id,
                "type": kind,
                "blind_index": blind,
                "value_enc": keyring.encrypt(value, context=context(kind)),
                "created_at": now,
            }
        )
    bulk_insert(session, Subject.__table__, subjects)
    bulk_insert(session, Identity.__table__, identities)
    return found, existing, len(missing)


def subject_problems(session: Session, chunk: list[tuple], ids: dict[str, str], existing: set[str]) -> dict[int, str]:
    """Line → problem for rows whose (already known) subject is closed or, for a consent, a child or an
    adults-only organisation's minor. Chunk entries are (line, blind index, head, tail)."""
    from privet.subjects.ages import age_policy, is_child, is_minor
    from privet.subjects.models import Subject

    if not existing:
        return {}
    known = {
        r.id: r
        for r in session.connection().execute(
            select(Subject.id, Subject.status, Subject.child_until, Subject.minor_until).where(Subject.id.in_(existing))
        )
        if r.status != "active" or r.child_until or r.minor_until
    }  # only subjects a row could be refused for
    policy, out = None, {}
    for line, blind, head, tail in chunk:
        subject = known.get(ids.get(blind))
        if subject is None:
            continue
        if subject.status != "active":
            out[line] = f"the subject is {subject.status}"
        elif tail[4] in POSITIVE_EVENTS:
            policy = policy or age_policy(session)
            # the two columns is_child and is_minor read (they are typed for a Subject)
            view: Any = SimpleNamespace(child_until=subject.child_until, minor_until=subject.minor_until)
            if is_child(view, head[0]) or (policy.adults_only and is_minor(view, head[0])):
                out[line] = "the subject is a child or minor at that time: consent needs a verified guardian"
    return out
