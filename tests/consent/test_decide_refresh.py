"""A Decider kept current through the change feed answers exactly like a freshly loaded one and like the store."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest
from sqlalchemy.orm import Session

from privet.consent import visitors
from privet.consent.decisions.service import Decider, decide
from privet.consent.ledger import service as ledger
from privet.kit.clock import utcnow
from privet.kit.errors import InvalidInput

pytestmark = pytest.mark.usefixtures("keptek")
PURPOSES = [
    "marketing.communications",
    "analytics.usage",
    "partner.certification",
    "service.order",
    "security",
    "marketing.personalisation",
    "service.account",
]
CONSENT = ["marketing.communications", "analytics.usage", "partner.certification", "marketing.personalisation"]


def _table(decider: Decider, db: Session, people: list[str], guests: list[str]) -> dict:
    out = {}
    for purpose in PURPOSES:
        for region in (None, "US"):
            for sid in people:
                out[(sid, purpose, region)] = decider.decide(purpose, sid, region=region, session=db).as_dict()
            for vid in guests:
                out[(vid, purpose, region)] = decider.decide(
                    purpose, visitor_id=vid, region=region, session=db
                ).as_dict()
    return out


def _change(db: Session, ring, rng: random.Random, people: list, guests: list[str]) -> None:
    from privet.subjects import ages, guardians, service

    op = rng.choice(["consent"] * 6 + ["object", "visitor", "link", "merge", "age", "guardian"])
    active = [p for p in people if p.status == "active"]
    who = rng.choice(active)
    past = utcnow() - timedelta(minutes=rng.randint(0, 600))
    if op == "consent":
        kw = {"categories": ["user.government_id"]} if rng.random() < 0.3 else {}
        event = rng.choice(["given", "given", "withdrawn", "refused", "renewed"])
        purpose = rng.choice(CONSENT)
        try:
            ledger.record(
                db,
                subject_id=who.id,
                purpose=purpose,
                event=event,
                method="api",
                actor="t",
                at=past,
                **(kw if purpose == "partner.certification" else {}),
            )
        except InvalidInput:  # e.g. a child cannot consent alone: the ledger refuses before writing anything
            pass
    elif op == "object":
        ledger.record(
            db,
            subject_id=who.id,
            purpose="service.order",
            event=rng.choice(["objected", "lifted"]),
            method="api",
            actor="t",
            at=past,
        )
    elif op == "visitor":
        visitors.record_cookie_choice(
            db,
            visitor_id=rng.choice(guests),
            actor="t",
            gpc=rng.random() < 0.4,
            categories={"analytics": rng.random() < 0.5, "marketing": rng.random() < 0.5},
        )
    elif op == "link":
        vid = rng.choice(guests)
        if db.get(visitors.VisitorLink, vid) is None:
            visitors.link_visitor(db, vid, who.id, actor="t")
    elif op == "merge" and len(active) > 2:
        other = rng.choice([p for p in active if p is not who])
        service.merge(db, who, other, actor="t")
    elif op == "age" and who.age_source is None:
        ages.set_birth_date(
            db,
            ring,
            who,
            date.today() - timedelta(days=365 * rng.choice([8, 30])),
            policy=ages.age_policy(db),
            actor="t",
        )
    elif op == "guardian":
        kids = [p for p in active if p.child_until and p.child_until > date.today()]
        adults = [p for p in active if p.child_until and p.child_until <= date.today()]
        if kids and adults:
            kid, parent = rng.choice(kids), rng.choice(adults)
            guardians.link_guardian(db, parent, kid, "parent", verified_method="sms_code", evidence={}, actor="t")
            ledger.record(
                db,
                subject_id=kid.id,
                purpose="marketing.communications",
                event="given",
                method="guardian",
                guardian_id=parent.id,
                actor="t",
            )
    db.flush()


def test_refreshed_equals_fresh_after_random_changes(db: Session, ring, make_subject) -> None:
    rng = random.Random()
    people = [make_subject() for _ in range(8)]
    guests = [f"visitor-{rng.getrandbits(40):x}" for _ in range(4)]
    db.flush()
    kept = Decider.load(db)
    for step in range(40):
        _change(db, ring, rng, people, guests)
        if step % 8 == 7:
            kept.sync(db)
            ids = [p.id for p in people]
            fresh = _table(Decider.load(db), db, ids, guests)
            assert _table(kept, db, ids, guests) == fresh
            for (who, purpose, region), answer in list(fresh.items())[::7]:  # and the store agrees
                key = {"visitor_id": who} if who in guests else {"subject_id": who}
                assert decide(db, purpose=purpose, region=region, **key).as_dict() == answer


def test_sync_is_cheap_when_nothing_changed(db: Session, make_subject) -> None:
    decider = Decider.load(db)
    assert decider.sync(db) is False
    person = make_subject()
    ledger.record(db, subject_id=person.id, purpose="analytics.usage", event="given", method="api", actor="t")
    db.flush()
    assert decider.sync(db) is True
    assert decider.decide("analytics.usage", person.id).allowed
    assert decider.sync(db) is False
