"""Ages: child and minor thresholds to the day, 29 February, attestations, adults-only refusal and flagging."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from faker import Faker
from sqlalchemy import select
from sqlalchemy.orm import Session

from privet.audit.models import AuditEvent
from privet.kit.clock import frozen_at
from privet.kit.crypto import Keyring
from privet.kit.errors import Conflict, Forbidden, InvalidInput
from privet.subjects import ages, service
from privet.subjects.ages import AgePolicy, add_years, age_policy, is_child, is_minor
from privet.subjects.models import Subject

PIPL = AgePolicy("pipl", 14, False)
GDPR = AgePolicy("gdpr", 16, False)
ADULTS_ONLY = AgePolicy("pipl", 14, True)
NOW = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)


def _subject(db: Session, keyring: Keyring, fake: Faker) -> Subject:
    return service.create_subject(db, keyring, [("email", fake.email(), False)], actor="test")


@pytest.mark.parametrize(
    ("born", "years", "expected"),
    [
        (date(2010, 6, 15), 14, date(2024, 6, 15)),
        (date(2008, 2, 29), 18, date(2026, 3, 1)),  # common year: the age is reached once 28 February has passed
        (date(2008, 2, 29), 16, date(2024, 2, 29)),  # leap year: the birthday exists
        (date(2012, 12, 31), 14, date(2026, 12, 31)),
    ],
)
def test_add_years(born: date, years: int, expected: date) -> None:
    assert add_years(born, years) == expected


@pytest.mark.parametrize("policy", [PIPL, GDPR], ids=["pipl-14", "gdpr-16"])
def test_child_threshold_to_the_day(db: Session, keyring: Keyring, fake: Faker, policy: AgePolicy) -> None:
    birthday = add_years(NOW.date(), -policy.child_age)  # reaches the child age today
    subject = _subject(db, keyring, fake)
    with frozen_at(NOW):
        ages.set_birth_date(db, keyring, subject, birthday, policy=policy, actor="test")
    assert not is_child(subject, NOW.date()) and is_child(subject, NOW.date() - timedelta(days=1))
    assert is_minor(subject, NOW.date()) and not is_minor(subject, add_years(birthday, 18))
    assert is_minor(subject, add_years(birthday, 18) - timedelta(days=1))
    assert ages.age_status(subject, NOW) == "minor" and ages.age_status(subject, NOW - timedelta(days=1)) == "child"
    assert ages.birth_date_of(keyring, subject) == birthday
    assert birthday.isoformat().encode() not in subject.birth_date_enc


def test_born_on_29_february(db: Session, keyring: Keyring, fake: Faker) -> None:
    subject = _subject(db, keyring, fake)
    with frozen_at(NOW):
        ages.set_birth_date(db, keyring, subject, date(2008, 2, 29), policy=PIPL, actor="test")
    assert subject.minor_until == date(2026, 3, 1) and subject.child_until == date(2022, 3, 1)
    assert is_minor(subject, date(2026, 2, 28)) and not is_minor(subject, date(2026, 3, 1))
    assert is_child(subject, date(2022, 2, 28)) and not is_child(subject, date(2022, 3, 1))


def test_impossible_birth_dates_change_nothing(db: Session, keyring: Keyring, fake: Faker) -> None:
    subject = _subject(db, keyring, fake)
    with frozen_at(NOW):
        for bad in (NOW.date() + timedelta(days=1), date(1850, 1, 1)):
            with pytest.raises(InvalidInput):
                ages.set_birth_date(db, keyring, subject, bad, policy=PIPL, actor="test")
        with pytest.raises(InvalidInput):
            ages.set_birth_date(db, keyring, subject, NOW, policy=PIPL, actor="test")  # type: ignore[arg-type]
    assert subject.birth_date_enc is None and subject.age_source is None
    assert ages.age_status(subject) == "unknown" and not is_child(subject) and not is_minor(subject)


def test_policy_comes_from_the_applied_data_map(db: Session, apply_policy: Callable[..., None]) -> None:
    assert age_policy(db) == AgePolicy("pipl", 14, False)  # no map yet
    apply_policy(profile="gdpr", child_age=16)
    assert age_policy(db) == AgePolicy("gdpr", 16, False)
    apply_policy(adults_only=True)
    assert age_policy(db) == AgePolicy("pipl", 14, True)


@pytest.mark.parametrize(
    ("is_adult", "is_child_", "status", "child", "minor"),
    [
        (True, None, "adult", False, False),
        (True, False, "adult", False, False),
        (False, None, "child", True, True),  # under 18, child or not unknown: assume child (the safer side)
        (False, False, "minor", False, True),
        (None, True, "child", True, True),
        (None, False, "not_child", False, False),
    ],
)
def test_attestations(
    db: Session,
    keyring: Keyring,
    fake: Faker,
    is_adult: bool | None,
    is_child_: bool | None,
    status: str,
    child: bool,
    minor: bool,
) -> None:
    subject = _subject(db, keyring, fake)
    with frozen_at(NOW):
        ages.attest_age(db, subject, is_adult=is_adult, is_child=is_child_, policy=PIPL, actor="test")
        assert (ages.age_status(subject), is_child(subject), is_minor(subject)) == (status, child, minor)
    assert subject.age_source == "attestation" and subject.birth_date_enc is None
    assert subject.deletion_flagged_at is None  # not adults-only


def test_contradictory_or_empty_attestations_are_refused(db: Session, keyring: Keyring, fake: Faker) -> None:
    subject = _subject(db, keyring, fake)
    with pytest.raises(InvalidInput):
        ages.attest_age(db, subject, is_adult=None, is_child=None, policy=PIPL, actor="test")
    with pytest.raises(InvalidInput):
        ages.attest_age(db, subject, is_adult=True, is_child=True, policy=PIPL, actor="test")
    ages.set_birth_date(db, keyring, subject, date(1990, 5, 1), policy=PIPL, actor="test")
    with pytest.raises(Conflict):
        ages.attest_age(db, subject, is_adult=True, is_child=None, policy=PIPL, actor="test")


@pytest.mark.promise("P27")
def test_adults_only_refuses_and_flags_a_minor(
    db: Session, keyring: Keyring, fake: Faker, apply_policy: Callable[..., None]
) -> None:
    apply_policy(adults_only=True)
    policy = age_policy(db)
    minor, adult, attested = (_subject(db, keyring, fake) for _ in range(3))
    with frozen_at(NOW):
        ages.set_birth_date(
            db, keyring, minor, add_years(NOW.date(), -18) + timedelta(days=1), policy=policy, actor="test"
        )
        ages.set_birth_date(db, keyring, adult, add_years(NOW.date(), -18), policy=policy, actor="test")
        ages.attest_age(db, attested, is_adult=False, is_child=False, policy=policy, actor="test")
        with pytest.raises(Forbidden) as caught:
            ages.check_allowed(minor, policy)
        ages.check_allowed(adult, policy)
    assert "adults" in caught.value.detail and minor.id not in caught.value.render()
    assert minor.deletion_flagged_at == NOW and minor.deletion_reason == "minor_in_adults_only"
    assert adult.deletion_flagged_at is None and attested.deletion_reason == "minor_in_adults_only"
    assert [s.id for s in ages.flagged_for_deletion(db)] == sorted([minor.id, attested.id])
    events = db.execute(select(AuditEvent).where(AuditEvent.action == "subject.flagged_for_deletion")).scalars()
    assert sorted(e.object_id for e in events) == sorted([minor.id, attested.id])
    # flagging again changes nothing
    assert ages.flag_if_minor(db, minor, policy=policy, actor="test")
    assert db.query(AuditEvent).filter(AuditEvent.action == "subject.flagged_for_deletion").count() == 2


def test_a_minor_is_served_outside_adults_only_mode(db: Session, keyring: Keyring, fake: Faker) -> None:
    subject = _subject(db, keyring, fake)
    with frozen_at(NOW):
        ages.set_birth_date(db, keyring, subject, date(2015, 1, 1), policy=PIPL, actor="test")
        ages.check_allowed(subject, PIPL)
    assert subject.deletion_flagged_at is None and ages.flagged_for_deletion(db) == []
    details = [
        e.details for e in db.execute(select(AuditEvent).where(AuditEvent.action == "subject.age_set")).scalars()
    ]
    assert details == [{"source": "birth_date", "child": True, "minor": True, "child_age": 14}]
    assert "2015" not in str(details)
