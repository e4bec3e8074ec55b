"""Children's data sweeps (P27): what the organisation's age rules say must go, erased through a request.

- PIPL profile: a child (under the profile's child age) known to Privet for longer than
  `children_grace_days` without a verified guardian linked cannot have valid consent; their data is erased.
- Adults-only mode (a service that refuses minors): every subject flagged as a minor is erased and closed.

Erasure across the company's datastores is what an account-closure request does (plan, per-field actions,
legal retention, holds, proof), so the sweep files one per subject on the `system` channel, verified by the
sweep itself, and the request workflow does the rest (manual approval still applies when configured). A
subject with an open closure request is not filed again, so the sweep can run daily.

Children are also found where they are: the birth dates the company's SQL datastores hold (`retention.minors`).
The grace period of a child Privet had not met runs from the row's `timestamps.collection` moment (when the
company collected the data), else from the first run that found them (which records the subject and its birth
date, encrypted, so a guardian can be linked). A child with a verified guardian is kept. In an adults-only service
the accounts the data map links to a minor's by `relation: related_account` are closed with it (P42, Z7); under
PIPL only the child's own data goes (K6), not the adult account they share.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from privet.audit.service import record as audit
from privet.kit.clock import utcnow
from privet.kit.crypto import Keyring
from privet.retention.minors import Minor
from privet.settings import Settings
from privet.subjects.models import Subject

CHILD_REASON = "child_without_verified_guardian"
MINOR_REASON = "minor_in_adults_only_service"
RELATED_REASON = "account_related_to_minor"  # P42


@dataclass(frozen=True)
class Due:
    """A subject whose data the age rules say must be erased, and why."""

    subject: Subject
    reason: str


def due(session: Session, settings: Settings, now: datetime | None = None) -> list[Due]:
    """Subjects the children sweep would erase now."""
    from privet.subjects import ages, guardians

    now = now or utcnow()
    policy = ages.age_policy(session)
    if policy.adults_only:
        return [Due(s, MINOR_REASON) for s in ages.flagged_for_deletion(session)]
    known_since = now - timedelta(days=settings.children_grace_days)
    candidates = session.execute(
        select(Subject)
        .where(
            Subject.status == "active",
            Subject.child_until > now.date(),
            Subject.created_at <= known_since,
            or_(Subject.age_attested_at.is_(None), Subject.age_attested_at <= known_since),
        )
        .order_by(Subject.created_at, Subject.id)
    ).scalars()
    return [Due(s, CHILD_REASON) for s in candidates if guardians.verified_guardian(session, s.id, now) is None]


def _open_closure(session: Session, subject_id: str) -> bool:
    from privet.requests.models import DsrRequest
    from privet.requests.service import OPEN

    return (
        session.execute(
            select(DsrRequest.id)
            .where(DsrRequest.subject_id == subject_id, DsrRequest.type == "closure", DsrRequest.status.in_(OPEN))
            .limit(1)
        ).first()
        is not None
    )


def _first_identity(session: Session, identities: dict[str, list[str]]) -> tuple[str, str] | None:
    """The first identity Privet can file a request under (normalised), in a stable order."""
    from privet.kit.errors import InvalidInput
    from privet.subjects.service import normalise_for

    for kind in sorted(identities):
        for value in identities[kind]:
            try:
                return kind, normalise_for(session, kind, value)
            except InvalidInput:
                continue
    return None


def _known(session: Session, keyring: Keyring, identities: dict[str, list[str]]) -> Subject | None:
    """The Privet subject holding any of these identities (none: Privet has not met the person)."""
    from privet.kit.errors import InvalidInput
    from privet.subjects.service import find_subject

    for kind in sorted(identities):
        for value in identities[kind]:
            try:
                found = find_subject(session, keyring, kind, value)
            except InvalidInput:
                continue
            if found is not None:
                return found
    return None


def _subject_for(
    session: Session, keyring: Keyring, identities: dict[str, list[str]], first: tuple[str, str], *, actor: str
) -> Subject:
    """The subject of these identities, created when Privet has not met the person, with every identity found."""
    from privet.kit.errors import Conflict, InvalidInput
    from privet.subjects.service import add_identity, get_or_create_subject

    subject = _known(session, keyring, identities) or get_or_create_subject(session, keyring, *first, actor=actor)[0]
    for kind in sorted(identities):
        for value in identities[kind]:
            try:
                add_identity(session, keyring, subject, kind, value, actor=actor)
            except (Conflict, InvalidInput):  # another subject's, or not a usable value: the first one serves
                continue
    return subject


def _file(
    session: Session,
    keyring: Keyring,
    settings: Settings,
    subject: Subject,
    first: tuple[str, str],
    *,
    reason: str,
    actor: str,
    **details: object,
) -> None:
    from privet.requests.intake.service import file_request
    from privet.requests.intake.verify import verified

    request = file_request(
        session,
        keyring,
        settings,
        request_type="closure",
        identity_type=first[0],
        identity=first[1],
        filed_by=actor,
        channel="system",
    )
    verified(session, keyring, settings, request, subject_id=subject.id, method="system:children_sweep", actor=actor)
    audit(
        session,
        actor=actor,
        action="retention.child_erasure_filed",
        object_type="subject",
        object_id=subject.id,
        details={"reason": reason, "request": request.reference, **details},
    )


def _start_clock(session: Session, keyring: Keyring, subject: Subject, minor: Minor, *, actor: str) -> None:
    """Privet records the birth date found (encrypted) on a subject without an age, so its guardian can be linked
    and the grace period runs from now on."""
    from privet.kit.errors import PrivetError
    from privet.subjects import ages

    if subject.age_source is None:
        try:
            ages.set_birth_date(
                session,
                keyring,
                subject,
                minor.birth_date,
                policy=ages.age_policy(session),
                actor=actor,
                source="datastore",
            )
        except PrivetError:
            pass


def sweep(
    session: Session,
    keyring: Keyring,
    settings: Settings,
    *,
    actor: str,
    now: datetime | None = None,
    dry_run: bool = False,
) -> dict:
    """File a verified closure request for each due subject — those Privet recorded and the minors found in the
    company's datastores (with their related accounts, P42); counts by reason (no identities). In a dry run
    nothing is written and `filed` counts what would be filed."""
    from privet.subjects.service import identities_of

    now = now or utcnow()
    counts: dict[str, Any] = {  # JSON-shaped: numbers, reasons and the datastores out of reach
        "due": 0,
        "filed": 0,
        "already_open": 0,
        "no_identity": 0,
        "by_reason": {},
        "related_filed": 0,
        "found_in_datastores": 0,
        "kept_guardian": 0,
        "within_grace": 0,
        "unreadable": 0,
        "unnamed": 0,
        "unreachable": [],
    }
    done: set[str] = set()  # subjects filed (or found open) in this run

    for item in due(session, settings, now):
        _tally(counts, item.reason)
        done.add(item.subject.id)
        if _open_closure(session, item.subject.id):
            counts["already_open"] += 1
            continue
        views = identities_of(session, keyring, item.subject)
        if not views:
            counts["no_identity"] += 1
            continue
        if not dry_run:
            _file(
                session,
                keyring,
                settings,
                item.subject,
                (views[0].type, views[0].value),
                reason=item.reason,
                actor=actor,
            )
        counts["filed"] += 1
    _sweep_datastores(session, keyring, settings, counts, done, actor=actor, now=now, dry_run=dry_run)
    return counts


def _sweep_datastores(
    session: Session,
    keyring: Keyring,
    settings: Settings,
    counts: dict,
    done: set[str],
    *,
    actor: str,
    now: datetime,
    dry_run: bool,
) -> None:
    from privet.retention import minors as found_minors
    from privet.subjects import ages, guardians

    policy = ages.age_policy(session)
    scan = found_minors.scan(
        session, settings, limit=ages.ADULT_AGE if policy.adults_only else policy.child_age, today=now.date()
    )
    counts.update(
        found_in_datastores=len(scan.minors),
        unreadable=scan.unreadable,
        unnamed=scan.unnamed,
        unreachable=scan.unreachable,
    )
    known_since = now - timedelta(days=settings.children_grace_days)
    filed_pairs: set[tuple[str, str]] = set()
    due_minors: list[tuple[Minor, tuple[str, str], Subject | None, str]] = []
    for minor in scan.minors:
        first = _first_identity(session, minor.identities)
        subject = _known(session, keyring, minor.identities)
        if subject is not None and subject.id in done:
            continue  # recorded in Privet and already counted above
        if first is None:
            counts["no_identity"] += 1
            continue
        reason = MINOR_REASON if policy.adults_only else CHILD_REASON
        if not policy.adults_only:
            if subject is not None and guardians.verified_guardian(session, subject.id, now) is not None:
                counts["kept_guardian"] += 1
                continue
            since = [t for t in (minor.collected_at, subject.created_at if subject else None) if t is not None]
            if not since or min(_utc(t) for t in since) > known_since:
                counts["within_grace"] += 1
                if not dry_run:  # the clock starts when Privet first meets the child
                    subject = _subject_for(session, keyring, minor.identities, first, actor=actor)
                    _start_clock(session, keyring, subject, minor, actor=actor)
                continue
        _tally(counts, reason)
        if subject is not None and _open_closure(session, subject.id):
            counts["already_open"] += 1
            done.add(subject.id)
            continue
        due_minors.append((minor, first, subject, reason))
        filed_pairs |= minor.pairs()
    for minor, first, subject, reason in due_minors:
        if not dry_run:
            subject = _subject_for(session, keyring, minor.identities, first, actor=actor)
            _start_clock(session, keyring, subject, minor, actor=actor)
            _file(session, keyring, settings, subject, first, reason=reason, actor=actor, places=sorted(minor.places))
            done.add(subject.id)
        counts["filed"] += 1
    # P42 (Z7): a service refusing minors closes the accounts related to a minor's too. Under PIPL (K6) only the
    # child's own data collected without a guardian's consent goes; the adult account a child uses stays.
    for minor, _first, _subject, _reason in due_minors if policy.adults_only else ():
        for related in minor.related:
            pairs = {(t, v) for t, values in related.items() for v in values}
            if pairs & filed_pairs:
                continue  # a minor filed in this run, or a related account already counted
            filed_pairs |= pairs
            other_first = _first_identity(session, related)
            if other_first is None:
                continue
            other = _known(session, keyring, related)
            if other is not None and (other.id in done or _open_closure(session, other.id)):
                continue
            if not dry_run:
                other = _subject_for(session, keyring, related, other_first, actor=actor)
                _file(session, keyring, settings, other, other_first, reason=RELATED_REASON, actor=actor)
                done.add(other.id)
            counts["related_filed"] += 1


def _tally(counts: dict, reason: str) -> None:
    counts["due"] += 1
    counts["by_reason"][reason] = counts["by_reason"].get(reason, 0) + 1


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
