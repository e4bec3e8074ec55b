"""Demo guardians (P27): every other child the demo's datastores hold (under the organisation's child age) gets a
verified guardian recorded in Privet through the guardian mechanism, so `privet retention children` keeps those
and files the rest. Guardians' e-mail addresses use the reserved example.com domain: they reach nobody."""

from __future__ import annotations

from sqlalchemy import Engine

from privet.settings import Settings


def link_demo_guardians(settings: Settings, engine: Engine) -> int:
    """Link a verified parent to every other child found in the demo datastores; returns the links made."""
    from privet.db.store import store_session
    from privet.kit.clock import utcnow
    from privet.kit.crypto import Keyring
    from privet.retention.children import _first_identity, _subject_for
    from privet.retention.minors import scan
    from privet.subjects import ages, guardians

    keyring = Keyring.from_settings(settings)
    made = 0
    with store_session(settings, engine=engine) as session:
        policy = ages.age_policy(session)
        found = scan(session, settings, limit=policy.child_age, today=utcnow().date()).minors
        for n, child in enumerate(sorted(found, key=lambda m: sorted(m.pairs()))):
            first = _first_identity(session, child.identities)
            if n % 2 or first is None:
                continue
            subject = _subject_for(session, keyring, child.identities, first, actor="demo")
            if subject.age_source is None:
                ages.set_birth_date(
                    session, keyring, subject, child.birth_date, policy=policy, actor="demo", source="datastore"
                )
            if guardians.verified_guardian(session, subject.id, utcnow()) is not None:
                continue
            parent = _subject_for(
                session,
                keyring,
                {"email": [f"guardian.{subject.id.lower()}@example.com"]},
                ("email", f"guardian.{subject.id.lower()}@example.com"),
                actor="demo",
            )
            guardians.link_guardian(
                session,
                parent,
                subject,
                "parent",
                verified_method="staff_checked",
                evidence={"demo": True},
                actor="demo",
            )
            made += 1
    return made
