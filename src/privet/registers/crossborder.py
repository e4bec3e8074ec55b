"""Cross-border transfer register (P29): record transfers, filter subjects without separate cross-border
consent, count people since 1 January and say which PIPL mechanism the counts require, with alerts.

Thresholds and their source: `privet.registers.crossborder_rules`.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from privet.audit.service import record as audit
from privet.kit.clock import utcnow
from privet.kit.errors import InvalidInput, NotFound, Problem
from privet.registers import crossborder_rules as rules
from privet.registers.crossborder_models import CrossBorderTransfer as Transfer
from privet.registers.crossborder_models import CrossBorderTransferSubject as TransferSubject

if TYPE_CHECKING:
    from privet.datamap.models import DatamapActivity

REGION = re.compile(r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$|^EU$|^EEA$|^GLOBAL$")
PIPL_ORIGIN = "CN"
FEW_SUBJECTS = 200  # up to this many, consent is checked per subject instead of loading the whole state
_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
MECHANISM_HINT = (
    "give a mechanism: " + ", ".join(rules.MECHANISMS) + " (PIPL Art 38; `exemption` for the CAC 2024 Art 5 cases)"
)


def _bad(message: str, hint: str, where: str) -> InvalidInput:
    return InvalidInput(message, hint, [Problem(message, where, hint)])


@dataclass
class TransferResult:
    """A recorded transfer, how many subjects the consent check left out, and alerts raised by it."""

    transfer: Transfer
    filtered_out: dict[str, int]
    alerts: list[dict]
    counts: rules.YearCounts  # the CST year's counts after this transfer


@dataclass
class ConsentCheck:
    """Subjects whose data may go abroad, and how many were left out for each decision reason."""

    allowed: list[str]
    refused: dict[str, int]


def _organisation_region(session: Session) -> str | None:
    from privet.datamap.models import DatamapOrganisation

    return session.execute(select(DatamapOrganisation.region).limit(1)).scalar()


def _activity(session: Session, key: str) -> DatamapActivity:
    from privet.datamap.models import DatamapActivity

    found = session.execute(select(DatamapActivity).where(DatamapActivity.key == key)).scalar()
    if found is None:
        raise _bad(
            f"No processing activity {key!r} in the applied data map",
            "use an activity key (privet datamap show) or leave --activity out",
            "activity",
        )
    return found


def check_consent(
    session: Session, subject_ids: list[str], *, purpose: str, destination: str, categories: list[str] | None = None
) -> ConsentCheck:
    """Which subjects may have their data used for `purpose` in `destination`: under PIPL each needs a separate
    cross-border consent (and whatever the purpose itself needs); the others are counted by reason."""
    from privet.consent.decisions.service import Decider, decide

    ids = list(dict.fromkeys(subject_ids))
    # A few subjects: one small snapshot each. Many: the whole consent state once (a lookup per subject after).
    decider = Decider.load(session) if len(ids) > FEW_SUBJECTS else None
    allowed: list[str] = []
    refused: dict[str, int] = {}
    for sid in ids:
        if decider is None:
            decision = decide(
                session, purpose=purpose, subject_id=sid, categories=categories or None, region=destination
            )
        else:
            decision = decider.decide(
                purpose, subject_id=sid, categories=categories or None, region=destination, session=session
            )
        if decision.allowed:
            allowed.append(sid)
        else:
            refused[decision.reason] = refused.get(decision.reason, 0) + 1
    return ConsentCheck(allowed, refused)


def _known_subjects(session: Session, ids: list[str]) -> set[str]:
    from privet.subjects.models import Subject

    found: set[str] = set()
    for i in range(0, len(ids), 500):
        found |= set(session.execute(select(Subject.id).where(Subject.id.in_(ids[i : i + 500]))).scalars())
    return found


def record_transfer(
    session: Session,
    *,
    actor: str,
    destination: str,
    mechanism: str | None,
    recipient: str,
    categories: list[str],
    subject_count: int | None = None,
    sensitive_subject_count: int | None = None,
    subject_ids: list[str] | None = None,
    sensitive_subject_ids: list[str] | None = None,
    origin: str | None = None,
    activity: str | None = None,
    purpose: str | None = None,
    mechanism_reference: str | None = None,
    important_data: bool = False,
    at: datetime | None = None,
    note: str | None = None,
    ciio: bool = False,
) -> TransferResult:
    """Check and record one transfer; refuse (nothing recorded) without a mechanism or with bad input."""
    from privet.taxonomy.service import effective

    if not mechanism:
        raise _bad(
            "A cross-border transfer needs a transfer mechanism; nothing was recorded", MECHANISM_HINT, "mechanism"
        )
    if mechanism not in rules.MECHANISMS:
        raise _bad(f"Unknown transfer mechanism {mechanism!r}; nothing was recorded", MECHANISM_HINT, "mechanism")
    origin = origin or _organisation_region(session)
    if origin is None:
        raise _bad(
            "The origin region is unknown", "give --origin CN, or apply a data map with an organisation", "origin"
        )
    for where, region in (("origin", origin), ("destination", destination)):
        if not REGION.match(region or ""):
            raise _bad(f"{region!r} is not a region", "write an ISO 3166 code such as CN, US, DE (or EU, EEA)", where)
    if origin == destination:
        raise _bad(
            f"{destination} is the origin region: this is not a cross-border transfer",
            "give the region the data goes to",
            "destination",
        )
    if not (recipient or "").strip():
        raise _bad("A transfer needs its recipient", "give the recipient's key or organisation name", "recipient")
    taxonomy = effective(session)
    if not categories:
        raise _bad("A transfer needs the data categories it carries", "give --category KEY (repeatable)", "categories")
    for i, c in enumerate(categories):
        if c not in taxonomy.categories:
            raise _bad(
                f"Unknown data category {c!r}",
                "use category keys of the taxonomy (privet taxonomy list categories)",
                f"categories.{i}",
            )
    categories = list(dict.fromkeys(categories))
    sensitive_cats = [c for c in categories if taxonomy.sensitive_kind(c)]
    if activity is not None:
        purpose = purpose or _activity(session, activity).purpose
    at = at or utcnow()
    if at.tzinfo is None:
        raise _bad("The transfer time needs a time zone", "write e.g. 2026-03-01T10:00:00+08:00", "at")
    if at > utcnow():
        raise _bad("The transfer time is in the future", "record a transfer once it has happened", "at")
    filtered: dict[str, int] = {}
    sensitive_ids: set[str] = set()
    if subject_ids is not None:
        if subject_count is not None or sensitive_subject_count is not None:
            raise _bad(
                "Give either subject ids or counts, not both",
                "leave the counts out: they are counted from the ids",
                "subject_count",
            )
        ids = list(dict.fromkeys(subject_ids))
        unknown = len(ids) - len(_known_subjects(session, ids))
        if unknown:
            raise _bad(
                f"{unknown} subject id(s) are not known to Privet",
                "give ids of subjects Privet holds, or record counts instead",
                "subject_ids",
            )
        extra = set(sensitive_subject_ids or ()) - set(ids)
        if extra:
            raise _bad(
                "Sensitive subject ids must be among the transfer's subject ids",
                "list each of them in the subject ids too",
                "sensitive_subject_ids",
            )
        if sensitive_subject_ids and not sensitive_cats:
            raise _bad(
                "Subjects are marked sensitive but no category is sensitive",
                "add the sensitive category (e.g. user.biometric) or drop the sensitive ids",
                "sensitive_subject_ids",
            )
        if origin == PIPL_ORIGIN:  # PIPL Art 39: each person's separate consent to the transfer
            if not purpose:
                raise _bad(
                    "Checking consent needs the purpose of the transfer",
                    "give --activity KEY or --purpose KEY",
                    "purpose",
                )
            check = check_consent(session, ids, purpose=purpose, destination=destination, categories=categories)
            ids, filtered = check.allowed, check.refused
        if not ids:
            raise InvalidInput(
                "No subject may be transferred: none has the consent it needs; nothing was recorded",
                "collect separate cross-border consent first (left out: "
                + ", ".join(f"{k} {v}" for k, v in sorted(filtered.items()))
                + ")",
            )
        sensitive_ids = (
            set(sensitive_subject_ids) if sensitive_subject_ids is not None else (set(ids) if sensitive_cats else set())
        )
        sensitive_ids &= set(ids)
        subject_count, sensitive_subject_count = len(ids), len(sensitive_ids)
    else:
        if subject_count is None or subject_count < 1:
            raise _bad(
                "A transfer needs the number of people whose data it carries (at least 1)",
                "give --subjects N or the subject ids",
                "subject_count",
            )
        if sensitive_subject_count is None:
            sensitive_subject_count = subject_count if sensitive_cats else 0
        if not 0 <= sensitive_subject_count <= subject_count:
            raise _bad(
                "The number of people with sensitive data must be between 0 and the number of people",
                "give --sensitive-subjects N with N <= --subjects",
                "sensitive_subject_count",
            )
        if sensitive_subject_count and not sensitive_cats:
            raise _bad(
                "People with sensitive data are counted but no category is sensitive",
                "add the sensitive category, or give --sensitive-subjects 0",
                "sensitive_subject_count",
            )
        ids = []
    before = year_counts(session, at=at, origin=origin, ciio=ciio)
    row = Transfer(
        reference="X-" + "".join(secrets.choice(_ALPHABET) for _ in range(8)),
        transferred_at=at,
        origin=origin,
        destination=destination,
        mechanism=mechanism,
        mechanism_reference=mechanism_reference,
        recipient=recipient.strip(),
        activity_key=activity,
        purpose=purpose,
        categories=categories,
        subject_count=subject_count,
        sensitive_subject_count=sensitive_subject_count,
        subjects_known=subject_ids is not None,
        filtered_out=filtered,
        important_data=important_data,
        note=note,
        recorded_by=actor,
    )
    row.subjects = [TransferSubject(subject_id=s, sensitive=s in sensitive_ids) for s in ids]
    session.add(row)
    session.flush()
    after = year_counts(session, at=at, origin=origin, ciio=ciio)
    audit(
        session,
        actor=actor,
        action="crossborder.transfer.recorded",
        object_type="crossborder_transfer",
        object_id=row.reference,
        details={
            "destination": destination,
            "mechanism": mechanism,
            "subjects": subject_count,
            "sensitive_subjects": sensitive_subject_count,
            "filtered_out": filtered,
            "categories": categories,
        },
    )
    alerts = []
    if origin == PIPL_ORIGIN and rules.rank(after.level) > rules.rank(before.level):
        alerts.append(threshold_alert(after, crossed=True))
        audit(
            session,
            actor=actor,
            action="crossborder.threshold_crossed",
            object_type="crossborder_year",
            object_id=str(after.year),
            details={"people": after.people, "sensitive_people": after.sensitive_people, "required": after.level},
        )
    if origin == PIPL_ORIGIN and rules.weaker(mechanism, after.level):
        alerts.append(weaker_alert(row, after.level))
    return TransferResult(row, filtered, alerts, after)


def threshold_alert(counts: rules.YearCounts, *, crossed: bool) -> dict:
    verb = "crossed a threshold" if crossed else "require more than an exemption"
    return {
        "kind": "threshold_crossed" if crossed else "threshold",
        "required": counts.level,
        "message": f"Transfers out of CN since 1 January {counts.year} ({counts.people} people, "
        f"{counts.sensitive_people} with sensitive data, {counts.method} count) {verb}: "
        f"{rules.describe(counts.level)}. Source: {rules.SOURCE}.",
    }


def weaker_alert(row: Transfer, level: str) -> dict:
    return {
        "kind": "mechanism_weaker",
        "transfer": row.reference,
        "mechanism": row.mechanism,
        "required": level,
        "message": f"Transfer {row.reference} relies on {row.mechanism}, weaker than the "
        f"{rules.describe(level)} this year's volume requires",
    }


def year_counts(
    session: Session, *, at: datetime | None = None, origin: str = PIPL_ORIGIN, ciio: bool = False
) -> rules.YearCounts:
    """People and people with sensitive data transferred out of `origin` in the CST calendar year of `at`:
    distinct subjects where the transfer listed them, plus the recorded counts of transfers that did not, plus
    the people held in the data map's datastores outside the organisation's region when that region is `origin`
    (counted in those datastores: `crossborder_stores`)."""
    start, end = rules.year_window(at or utcnow())
    t, s = Transfer.__table__.c, TransferSubject.__table__.c
    window = (t.origin == origin) & (t.destination != origin) & (t.transferred_at >= start) & (t.transferred_at < end)
    known = (
        select(func.count(func.distinct(s.subject_id)))
        .select_from(TransferSubject.__table__.join(Transfer.__table__))
        .where(window)
    )
    people = session.execute(known).scalar_one()
    sensitive = session.execute(known.where(s.sensitive.is_(True))).scalar_one()
    summed = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(t.subject_count), 0),
            func.coalesce(func.sum(t.sensitive_subject_count), 0),
        ).where(window & t.subjects_known.is_(False))
    ).one()
    listed = session.execute(select(func.count()).where(window & t.subjects_known.is_(True))).scalar_one()
    method = "distinct" if not summed[0] else "summed" if not listed else "mixed"
    important = session.execute(select(func.count()).where(window & t.important_data.is_(True))).scalar_one()
    people, sensitive = people + int(summed[1]), sensitive + int(summed[2])
    stored = tuple(_stored_abroad(session, origin))
    people += sum(s.people for s in stored)
    level = rules.required_level(people, sensitive, important_data=bool(important), ciio=ciio)
    return rules.YearCounts(
        year=start.year,
        since=start,
        people=people,
        sensitive_people=sensitive,
        method=method,
        transfers=summed[0] + listed,
        level=level,
        stored_abroad=stored,
    )


def _stored_abroad(session: Session, origin: str) -> list:
    """The data map's datastores abroad when the organisation's home region is `origin` (settings: the session's)."""
    from privet.datamap.service import current
    from privet.jobs.dispatch import settings_for
    from privet.registers.crossborder_stores import stored_abroad

    manifest = current(session)
    if manifest is None or manifest.organisation is None or manifest.organisation.region != origin:
        return []
    return stored_abroad(session, settings_for(session))


def list_transfers(session: Session, *, year: int | None = None, limit: int = 200) -> list[Transfer]:
    """Transfers, newest first (optionally of one CST calendar year)."""
    stmt = select(Transfer).order_by(Transfer.transferred_at.desc()).limit(limit)
    if year is not None:
        start, end = rules.year_window(datetime(year, 7, 1, tzinfo=rules.CST))
        stmt = stmt.where(Transfer.transferred_at >= start, Transfer.transferred_at < end)
    return list(session.execute(stmt).scalars())


def get_transfer(session: Session, reference: str) -> Transfer:
    """One transfer by reference."""
    found = session.execute(select(Transfer).where(Transfer.reference == reference.strip().upper())).scalar()
    if found is None:
        raise NotFound(f"No transfer {reference}", "list them with `privet report crossborder list`")
    return found


def as_dict(row: Transfer) -> dict:
    """A transfer as plain JSON (counts and keys, no subject ids)."""
    return {
        "reference": row.reference,
        "transferred_at": row.transferred_at.isoformat(),
        "origin": row.origin,
        "destination": row.destination,
        "mechanism": row.mechanism,
        "mechanism_reference": row.mechanism_reference,
        "recipient": row.recipient,
        "activity": row.activity_key,
        "purpose": row.purpose,
        "categories": row.categories,
        "subject_count": row.subject_count,
        "sensitive_subject_count": row.sensitive_subject_count,
        "counting": "distinct" if row.subjects_known else "summed",
        "filtered_out": row.filtered_out,
        "important_data": row.important_data,
        "note": row.note,
        "recorded_by": row.recorded_by,
    }
