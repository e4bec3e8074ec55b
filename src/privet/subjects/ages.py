"""Ages: a birth date or an attestation becomes two dates ("a child until", "a minor until") checked at any time.

The birth date itself is stored encrypted; only the derived dates are readable. In adults-only mode a minor is
refused service and flagged for deletion (the retention sweep deletes flagged subjects).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from privet.audit.service import record
from privet.kit.clock import utcnow
from privet.kit.crypto import Keyring
from privet.kit.errors import Conflict, Forbidden, InvalidInput, Problem
from privet.subjects.models import Subject

ADULT_AGE = 18
MINOR_REASON = "minor_in_adults_only"
BIRTH_DATE_CONTEXT = "subject:birth_date"


@dataclass(frozen=True)
class AgePolicy:
    """The organisation's age rules: profile, the age below which a person is a child, adults-only mode."""

    profile: str = "pipl"
    child_age: int = 14
    adults_only: bool = False


def age_policy(session: Session) -> AgePolicy:
    """The policy of the applied data map's organisation (PIPL, 14, not adults-only before any map)."""
    from privet.datamap.models import DatamapOrganisation

    org = session.execute(select(DatamapOrganisation).limit(1)).scalar_one_or_none()
    if org is None:
        return AgePolicy()
    return AgePolicy(org.profile, org.child_age, bool(org.adults_only))


def add_years(day: date, years: int) -> date:
    """The same calendar day `years` later; a 29 February birthday falls on 1 March in common years."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 Feb → a common year: the person reaches the age once 28 Feb has fully passed
        return date(day.year + years, 3, 1)


def _today() -> date:
    return utcnow().date()


def _as_date(at: date | datetime | None) -> date:
    if at is None:
        return _today()
    return at.date() if isinstance(at, datetime) else at


def is_child(subject: Subject, at: date | datetime | None = None) -> bool:
    """Whether the subject is below the child age on that day (False when the age is unknown)."""
    return subject.child_until is not None and _as_date(at) < subject.child_until


def is_minor(subject: Subject, at: date | datetime | None = None) -> bool:
    """Whether the subject is under 18 on that day (False when the age is unknown)."""
    return subject.minor_until is not None and _as_date(at) < subject.minor_until


def age_status(subject: Subject, at: date | datetime | None = None) -> str:
    """child, minor, adult, not_child (attested over the child age, adulthood unknown) or unknown."""
    if subject.age_source is None:
        return "unknown"
    if is_child(subject, at):
        return "child"
    if is_minor(subject, at):
        return "minor"
    return "adult" if subject.minor_until is not None else "not_child"


def set_birth_date(
    session: Session,
    keyring: Keyring,
    subject: Subject,
    birth_date: date,
    *,
    policy: AgePolicy,
    actor: str,
    source: str = "birth_date",
) -> Subject:
    """Store the birth date (encrypted) and the dates it implies; flags a minor in adults-only mode."""
    today = _today()
    if isinstance(birth_date, datetime) or not isinstance(birth_date, date):
        raise InvalidInput(
            "A birth date must be a calendar date",
            "send it as YYYY-MM-DD",
            [Problem("not a date", "birth_date", "send it as YYYY-MM-DD")],
        )
    if birth_date > today or birth_date.year < today.year - 130:
        hint = "send a date in the past 130 years, as YYYY-MM-DD"
        raise InvalidInput("That birth date is not possible", hint, [Problem("impossible date", "birth_date", hint)])
    _require_changeable(subject)
    subject.birth_date_enc = keyring.encrypt(birth_date.isoformat(), context=BIRTH_DATE_CONTEXT)
    subject.child_until = add_years(birth_date, policy.child_age)
    subject.minor_until = add_years(birth_date, ADULT_AGE)
    subject.age_source, subject.age_attested_at = source[:40], utcnow()
    _after_age_change(session, subject, policy, actor, "birth_date")
    return subject


def birth_date_of(keyring: Keyring, subject: Subject) -> date | None:
    """The decrypted birth date, if one was given."""
    if subject.birth_date_enc is None:
        return None
    return date.fromisoformat(keyring.decrypt_text(subject.birth_date_enc, context=BIRTH_DATE_CONTEXT))


def attest_age(
    session: Session, subject: Subject, *, is_adult: bool | None, is_child: bool | None, policy: AgePolicy, actor: str
) -> Subject:
    """Record an attestation such as "I am 18 or older"; unknown ages are assumed young (the safer side)."""
    if is_adult is None and is_child is None:
        raise InvalidInput("An attestation must say something about the age", "send is_adult and/or is_child")
    if is_adult and is_child:
        raise InvalidInput("An adult cannot also be a child", "send is_adult or is_child, not both true")
    _require_changeable(subject)
    if subject.birth_date_enc is not None:
        raise Conflict(
            "This subject has a birth date; an attestation does not replace it", "correct the birth date instead"
        )
    today = _today()
    adult = is_adult or (is_child is False and policy.child_age >= ADULT_AGE)
    child = bool(is_child) or (is_adult is False and is_child is None)  # "under 18", child or not unknown
    # Without a birth date the person may have been born today: the longest they can still be a child/minor.
    subject.child_until = add_years(today, policy.child_age) if child else today
    subject.minor_until = today if adult else (add_years(today, ADULT_AGE) if is_adult is False or child else None)
    subject.age_source, subject.age_attested_at = "attestation", utcnow()
    _after_age_change(session, subject, policy, actor, "attestation")
    return subject


def _require_changeable(subject: Subject) -> None:
    if subject.status != "active":
        raise Conflict(f"This subject is {subject.status}", "use the surviving subject (look it up again)")


def _after_age_change(session: Session, subject: Subject, policy: AgePolicy, actor: str, source: str) -> None:
    today = _today()
    record(
        session,
        actor=actor,
        action="subject.age_set",
        object_type="subject",
        object_id=subject.id,
        details={
            "source": source,
            "child": is_child(subject, today),
            "minor": is_minor(subject, today),
            "child_age": policy.child_age,
        },
    )
    flag_if_minor(session, subject, policy=policy, actor=actor)
    session.flush()


def flag_if_minor(
    session: Session, subject: Subject, *, policy: AgePolicy, actor: str, at: date | datetime | None = None
) -> bool:
    """In adults-only mode, flag a minor for deletion (once, audited). Returns whether the subject is flagged."""
    if not policy.adults_only or not is_minor(subject, at):
        return subject.deletion_flagged_at is not None
    if subject.deletion_flagged_at is None:
        subject.deletion_flagged_at, subject.deletion_reason = utcnow(), MINOR_REASON
        record(
            session,
            actor=actor,
            action="subject.flagged_for_deletion",
            object_type="subject",
            object_id=subject.id,
            details={"reason": MINOR_REASON},
        )
        session.flush()
    return True


def check_allowed(subject: Subject, policy: AgePolicy, at: date | datetime | None = None) -> None:
    """Refuse service to a minor in adults-only mode (Forbidden, with a message fit to show the person)."""
    if policy.adults_only and is_minor(subject, at):
        raise Forbidden(
            "This service is only available to adults (18 or older)",
            "the account will be deleted; contact the privacy office if the age is wrong",
        )


def flagged_for_deletion(session: Session) -> list[Subject]:
    """Subjects flagged for deletion, oldest flag first (the retention sweep works through them)."""
    return list(
        session.execute(
            select(Subject)
            .where(Subject.deletion_flagged_at.is_not(None), Subject.status != "merged")
            .order_by(Subject.deletion_flagged_at, Subject.id)
        ).scalars()
    )
