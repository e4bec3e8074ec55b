"""Turning a bulk share's list of subject ids or identities into subjects, and deciding consent for each."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from privet.consent.decisions import rules
from privet.kit.errors import InvalidInput, Problem

if TYPE_CHECKING:
    from privet.kit.crypto import Keyring

UNKNOWN_SUBJECT = "UNKNOWN_SUBJECT"
SUBJECT_CLOSED = "SUBJECT_CLOSED"
DUPLICATE = "DUPLICATE"
RECONSENT_REQUIRED = "RECONSENT_REQUIRED"
MAX_SUBJECTS = 100_000
_BAD_QUESTION = {rules.UNDECLARED_PURPOSE, rules.UNKNOWN_PURPOSE, rules.UNKNOWN_CATEGORY, rules.CATEGORY_NOT_DECLARED}
_QUESTION_TEXT = {
    rules.UNDECLARED_PURPOSE: "no processing activity of the data map uses purpose {!r}",
    rules.UNKNOWN_PURPOSE: "{!r} is not a purpose of the taxonomy",
    rules.UNKNOWN_CATEGORY: "a category is not in the taxonomy",
    rules.CATEGORY_NOT_DECLARED: "the data map does not declare these categories for {!r}",
}
_FAST = 50  # more subjects than this: one in-memory snapshot of the whole projection instead of per-subject reads


@dataclass
class Screening:
    """Who may be included, and how many were left out for which reason (no identities)."""

    allowed: list[str] = field(default_factory=list)  # subject ids
    positions: list[int] = field(default_factory=list)  # their positions in the input list
    reasons: dict[str, int] = field(default_factory=dict)
    requested: int = 0

    @property
    def filtered_out(self) -> int:
        return sum(self.reasons.values())

    def drop(self, reason: str) -> None:
        self.reasons[reason] = self.reasons.get(reason, 0) + 1


def resolve(
    session: Session,
    keyring: Keyring | None,
    subject_ids: list[str] | None,
    identities: list[tuple[str, str]] | None,
) -> tuple[list[str | None], Screening]:
    """The surviving subject id for each input (None: unknown or closed), with the drops counted."""
    from privet.subjects.models import Subject
    from privet.subjects.service import find_subject
    from privet.subjects.service import resolve as survivor

    subject_ids, identities = list(subject_ids or []), list(identities or [])
    total = len(subject_ids) + len(identities)
    if total == 0:
        raise InvalidInput("No subjects to share", "give subject ids or identities", [Problem("empty", "subjects")])
    if total > MAX_SUBJECTS:
        raise InvalidInput(
            f"More than {MAX_SUBJECTS} subjects in one share",
            "split the share into batches",
            [Problem("too many", "subjects")],
        )
    screening = Screening(requested=total)
    c = Subject.__table__.c
    rows: dict[str, tuple[str, str | None]] = {}  # id → (status, merged into)
    ids = sorted(set(subject_ids))
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        for stored in session.execute(select(c.id, c.status, c.merged_into_id).where(c.id.in_(chunk))):
            rows[stored.id] = (stored.status, stored.merged_into_id)
    found: list[str | None] = []
    for sid in subject_ids:
        row = rows.get(sid) if isinstance(sid, str) else None
        if row is not None and row[1]:
            merged = session.get(Subject, sid)
            assert merged is not None  # its row was just read
            target = survivor(session, merged)
            row, sid = (target.status, None), target.id
        found.append(sid if row is not None and row[0] != "closed" else None)
        if row is None:
            screening.drop(UNKNOWN_SUBJECT)
        elif row[0] == "closed":
            screening.drop(SUBJECT_CLOSED)
    for kind, value in identities:
        if keyring is None:
            raise ValueError("finding subjects by identity needs the keyring")
        subject = find_subject(session, keyring, kind, value) if kind and value else None
        if subject is None or subject.status == "closed":
            found.append(None)
            screening.drop(UNKNOWN_SUBJECT if subject is None else SUBJECT_CLOSED)
        else:
            found.append(subject.id)
    seen: set[str] = set()
    for i, known in enumerate(found):  # one person named twice is shared once
        if known is not None and known in seen:
            found[i] = None
            screening.drop(DUPLICATE)
        elif known is not None:
            seen.add(known)
    return found, screening


def screen_consent(
    session: Session,
    found: list[str | None],
    screening: Screening,
    *,
    purpose: str,
    categories: list[str],
    region: str | None,
    reconsent_since: datetime | None,
    separate: bool = False,
) -> Screening:
    """Keep the subjects whose consent the decision engine confirms for `purpose` (and, after a purpose change,
    only consents given since it; with `separate`, only a separate consent)."""
    from privet.consent.decisions.service import decide
    from privet.consent.models import ConsentRecord

    decider = None
    if sum(1 for f in found if f) > _FAST:
        from privet.consent.decisions.service import Decider

        decider = Decider.load(session)
    cats = categories or None
    kept: list[tuple[int, str, str | None]] = []
    for position, sid in enumerate(found):
        if sid is None:
            continue
        if decider is not None:
            decision = decider.decide(purpose, subject_id=sid, categories=cats, region=region, session=session)
        else:
            decision = decide(session, purpose=purpose, subject_id=sid, categories=cats, region=region)
        if decision.reason in _BAD_QUESTION:
            where = "categories" if "CATEGORY" in decision.reason else "purpose"
            raise InvalidInput(
                f"Consent cannot be checked: {_QUESTION_TEXT[decision.reason].format(purpose)}",
                "share only purposes and categories the applied data map declares (privet datamap export shows them)",
                [Problem(decision.reason, where)],
            )
        if not decision.allowed:
            screening.drop(decision.reason)
        elif separate and decision.legal_basis != "separate_consent":
            screening.drop(rules.SEPARATE_CONSENT_REQUIRED)
        else:
            kept.append((position, sid, decision.record_id))
    if reconsent_since is not None and kept:
        record_ids = sorted({r for *_, r in kept if r})
        when: dict[str, datetime] = {}
        for start in range(0, len(record_ids), 1000):
            for record_id, at in session.execute(
                select(ConsentRecord.id, ConsentRecord.at).where(ConsentRecord.id.in_(record_ids[start : start + 1000]))
            ):
                when[record_id] = at
        still: list[tuple[int, str, str | None]] = []
        for position, sid, rid in kept:
            if rid is None or rid not in when or when[rid] < reconsent_since:
                screening.drop(RECONSENT_REQUIRED)
            else:
                still.append((position, sid, rid))
        kept = still
    for position, sid, _ in kept:
        screening.allowed.append(sid)
        screening.positions.append(position)
    return screening


def accept_all(found: list[str | None], screening: Screening) -> Screening:
    """Every known subject is included (a legal ground, not consent, is relied on)."""
    for position, sid in enumerate(found):
        if sid is not None:
            screening.allowed.append(sid)
            screening.positions.append(position)
    return screening


def parse_people(lines: str) -> tuple[list[str], list[tuple[str, str]]]:
    """The people of a share or disclosure as a file or form lists them: one a line, a subject id or
    `identity_type,value`; blank lines and `#` comments skipped. Returns (subject ids, identities)."""
    ids: list[str] = []
    identities: list[tuple[str, str]] = []
    for line in lines.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if "," in line:
            kind, value = line.split(",", 1)
            identities.append((kind.strip(), value.strip()))
        else:
            ids.append(line)
    return ids, identities
