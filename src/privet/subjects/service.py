"""Subjects and their identities: find by blind index, create, add identities, verify, merge, close.

Identity values are normalised, then stored only as AES-GCM ciphertext plus an HMAC blind index. Audit events name
subject and identity ids and identity types, never values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import phonenumbers
from sqlalchemy import CursorResult, Result, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from privet.audit.service import record
from privet.kit.clock import utcnow
from privet.kit.crypto import Keyring
from privet.kit.errors import Conflict, InvalidInput, NotFound, Problem
from privet.subjects.identities import normalise
from privet.subjects.models import GuardianLink, Identity, Subject

MERGE_HINT = (
    "if both are the same person, merge them: POST /api/v1/subjects/merge or `privet subjects merge KEEP_ID ABSORB_ID`"
)


@dataclass(frozen=True)
class IdentityView:
    """One decrypted identity of a subject (for the subject themself or masked display, never for logs)."""

    type: str
    value: str
    verified_at: datetime | None
    id: str | None = None


def context(type: str) -> str:
    """The AES-GCM associated data binding a ciphertext to its identity type."""
    return f"identity:{type}"


def identity_rules(session: Session) -> tuple[frozenset[str], str]:
    """(identity types the effective taxonomy knows, default phone region from the organisation profile)."""
    from privet.datamap.models import DatamapOrganisation
    from privet.db.memo import per_transaction
    from privet.taxonomy.service import effective

    def read() -> tuple[frozenset[str], str]:
        region = session.execute(select(DatamapOrganisation.region).limit(1)).scalar_one_or_none()
        if not region or region.upper() not in phonenumbers.SUPPORTED_REGIONS:
            region = "CN"  # EU/GLOBAL profiles name no single country; +86 numbers without a prefix: the default
        return frozenset(effective(session).identity_types), region  # shared for the transaction: immutable

    return per_transaction(session, "subjects.identity_rules", read)


def normalise_for(session: Session, type: str, value: str, *, where: str = "value") -> str:
    """`normalise` with the store's taxonomy and the organisation's region."""
    known, region = identity_rules(session)
    return normalise(type, value, default_region=region, known_types=known, where=where)


def resolve(session: Session, subject: Subject) -> Subject:
    """The surviving subject: follows `merged_into_id` (merges flatten chains, so this is one hop in practice)."""
    seen = {subject.id}
    while subject.merged_into_id:
        into = session.get(Subject, subject.merged_into_id)
        if into is None or into.id in seen:
            raise Conflict("The subject's merge history is broken", "ask an administrator to check the store")
        seen.add(into.id)
        subject = into
    return subject


def get_subject(session: Session, subject_id: str, *, follow_merge: bool = True) -> Subject:
    """A subject by id (the survivor if it was merged), or NotFound."""
    subject = session.get(Subject, subject_id)
    if subject is None:
        raise NotFound("No subject has this id", "look the subject up by an identity: POST /api/v1/subjects/lookup")
    return resolve(session, subject) if follow_merge else subject


def _by_blind_index(session: Session, blind_index: str) -> Identity | None:
    return session.execute(select(Identity).where(Identity.blind_index == blind_index)).scalar_one_or_none()


def subject_of_blind_index(session: Session, blind_index: str) -> Subject | None:
    """The (surviving) subject holding the identity with this blind index."""
    identity = _by_blind_index(session, blind_index)
    return resolve(session, identity.subject) if identity is not None else None


def find_identity(session: Session, keyring: Keyring, type: str, value: str) -> Identity | None:
    """The stored identity equal to this value after normalisation (InvalidInput if the value is malformed)."""
    return _by_blind_index(session, keyring.blind_index(type, normalise_for(session, type, value)))


def find_subject(session: Session, keyring: Keyring, type: str, value: str) -> Subject | None:
    """The subject holding this identity (the survivor if it was merged), or None."""
    identity = find_identity(session, keyring, type, value)
    return resolve(session, identity.subject) if identity is not None else None


def _new_identity(
    keyring: Keyring,
    subject_id: str,
    type: str,
    normalised: str,
    verified_at: datetime | None,
) -> Identity:
    return Identity(
        subject_id=subject_id,
        type=type,
        blind_index=keyring.blind_index(type, normalised),
        value_enc=keyring.encrypt(normalised, context=context(type)),
        verified_at=verified_at,
        created_at=utcnow(),
    )


def _check_subject_type(session: Session, subject_type: str | None) -> None:
    from privet.taxonomy.service import effective

    if subject_type is not None and subject_type not in effective(session).subject_types:
        hint = "use a subject type of the taxonomy, e.g. customer (see `privet taxonomy list subject_types`)"
        raise InvalidInput("Unknown subject type", hint, [Problem("unknown subject type", "subject_type", hint)])


def create_subject(
    session: Session,
    keyring: Keyring,
    identities: Sequence[tuple[str, str, bool]],
    *,
    actor: str,
    subject_type: str | None = None,
) -> Subject:
    """A new subject with these (type, value, verified) identities; Conflict if any already belongs to someone."""
    if not identities:
        raise InvalidInput("A subject needs at least one identity", "send identities: [{type, value}]")
    _check_subject_type(session, subject_type)
    normalised = [
        (t, normalise_for(session, t, v, where=f"identities.{i}.value"), bool(ok))
        for i, (t, v, ok) in enumerate(identities)
    ]
    indexes = [keyring.blind_index(t, n) for t, n, _ in normalised]
    if len(set(indexes)) != len(indexes):
        raise InvalidInput("The same identity is listed twice", "send each identity once")
    if session.execute(select(Identity.id).where(Identity.blind_index.in_(indexes)).limit(1)).first():
        raise Conflict(
            "An identity given already belongs to a subject",
            "look it up (POST /api/v1/subjects/lookup) and add the others to that subject",
        )
    now = utcnow()
    try:
        with session.begin_nested():  # a concurrent insert of the same identity rolls back only this part
            subject = Subject(subject_type=subject_type, status="active")
            session.add(subject)
            session.flush()
            for t, n, ok in normalised:
                session.add(_new_identity(keyring, subject.id, t, n, now if ok else None))
            session.flush()
    except IntegrityError:
        raise Conflict("An identity given already belongs to a subject", "look it up and try again") from None
    record(
        session,
        actor=actor,
        action="subject.created",
        object_type="subject",
        object_id=subject.id,
        details={
            "subject_type": subject_type,
            "identity_types": [t for t, _, _ in normalised],
            "verified": sum(ok for _, _, ok in normalised),
        },
    )
    return subject


def get_or_create_subject(
    session: Session,
    keyring: Keyring,
    type: str,
    value: str,
    *,
    actor: str,
    subject_type: str | None = None,
    verified: bool = False,
) -> tuple[Subject, bool]:
    """The subject holding this identity, creating it when none does; `verified` marks the identity verified."""
    identity = find_identity(session, keyring, type, value)
    if identity is None:
        try:
            return create_subject(
                session, keyring, [(type, value, verified)], actor=actor, subject_type=subject_type
            ), True
        except Conflict:  # created concurrently by another request: use theirs
            identity = find_identity(session, keyring, type, value)
            if identity is None:
                raise
    if verified:
        mark_verified(session, identity, actor=actor)
    return resolve(session, identity.subject), False


def add_identity(
    session: Session,
    keyring: Keyring,
    subject: Subject,
    type: str,
    value: str,
    *,
    actor: str,
    verified: bool = False,
) -> Identity:
    """Attach an identity to an active subject; idempotent for its own identities, Conflict for another's."""
    _require_active(subject)
    normalised = normalise_for(session, type, value)
    existing = _by_blind_index(session, keyring.blind_index(type, normalised))
    if existing is not None:
        if resolve(session, existing.subject).id != subject.id:
            raise Conflict("This identity already belongs to another subject", MERGE_HINT)
        if verified:
            mark_verified(session, existing, actor=actor)
        return existing
    identity = _new_identity(keyring, subject.id, type, normalised, utcnow() if verified else None)
    try:
        with session.begin_nested():
            session.add(identity)
            session.flush()
    except IntegrityError:
        raise Conflict("This identity already belongs to another subject", MERGE_HINT) from None
    record(
        session,
        actor=actor,
        action="subject.identity_added",
        object_type="subject",
        object_id=subject.id,
        details={"identity_id": identity.id, "type": type, "verified": verified},
    )
    return identity


def mark_verified(
    session: Session, identity: Identity, *, actor: str, method: str = "code", at: datetime | None = None
) -> Identity:
    """Record that the person proved control of this identity (first time only; later proofs change nothing)."""
    if identity.verified_at is not None:
        return identity
    at = at or utcnow()
    identity.verified_at = at
    # Guardian links waiting for this guardian's verification become verified from now on.
    holders = holder_ids(session, resolve(session, identity.subject))
    session.execute(
        update(GuardianLink)
        .where(
            GuardianLink.guardian_id.in_(holders), GuardianLink.verified_at.is_(None), GuardianLink.revoked_at.is_(None)
        )
        .values(verified_at=at, verification_method=method[:30])
    )
    record(
        session,
        actor=actor,
        action="subject.identity_verified",
        object_type="subject",
        object_id=identity.subject_id,
        details={"identity_id": identity.id, "type": identity.type, "method": method},
    )
    session.flush()
    return identity


def identities_of(session: Session, keyring: Keyring, subject: Subject) -> list[IdentityView]:
    """The subject's identities, decrypted, oldest first."""
    rows = session.execute(
        select(Identity).where(Identity.subject_id == subject.id).order_by(Identity.created_at, Identity.id)
    ).scalars()
    return [
        IdentityView(i.type, keyring.decrypt_text(i.value_enc, context=context(i.type)), i.verified_at, i.id)
        for i in rows
    ]


def holder_ids(session: Session, subject: Subject) -> list[str]:
    """The subject's id followed by every id merged into it: ledger records may name any of them."""
    ids, frontier = [subject.id], [subject.id]
    while frontier:
        frontier = [
            i
            for i in session.execute(select(Subject.id).where(Subject.merged_into_id.in_(frontier))).scalars()
            if i not in ids
        ]
        ids.extend(frontier)
    return ids


def _require_active(subject: Subject) -> None:
    if subject.status != "active":
        raise Conflict(
            f"This subject is {subject.status}",
            "use the surviving subject (look it up again)"
            if subject.status == "merged"
            else "a closed subject cannot change",
        )


def _revoke_duplicate_links(session: Session, subject_id: str) -> None:
    """After a merge both halves may have been linked to the same person: keep one active link per pair,
    the verified one first, then the oldest."""
    rows = (
        session.execute(
            select(GuardianLink).where(
                or_(GuardianLink.guardian_id == subject_id, GuardianLink.child_id == subject_id),
                GuardianLink.revoked_at.is_(None),
            )
        )
        .scalars()
        .all()
    )
    seen: set[tuple[str, str]] = set()
    now = utcnow()
    for link in sorted(rows, key=lambda k: (k.verified_at is None, k.attested_at)):
        pair = (link.guardian_id, link.child_id)
        if pair in seen:
            link.revoked_at = now
        seen.add(pair)


def _rowcount(result: Result[Any]) -> int:
    """Rows an UPDATE changed (its result is a CursorResult)."""
    return cast(CursorResult[Any], result).rowcount


def merge(session: Session, keep: Subject, absorb: Subject, *, actor: str) -> Subject:
    """Make `absorb` part of `keep`: identities and guardian links move, `absorb` points at `keep` from now on."""
    if keep.id == absorb.id:
        raise InvalidInput("A subject cannot be merged into itself", "give two different subject ids")
    _require_active(keep)
    _require_active(absorb)
    moved = _rowcount(
        session.execute(update(Identity).where(Identity.subject_id == absorb.id).values(subject_id=keep.id))
    )
    links = 0
    for column in (GuardianLink.guardian_id, GuardianLink.child_id):
        links += _rowcount(
            session.execute(update(GuardianLink).where(column == absorb.id).values({column.key: keep.id}))
        )
    # A link between the two merged subjects would make a person their own guardian.
    session.execute(
        update(GuardianLink)
        .where(GuardianLink.guardian_id == keep.id, GuardianLink.child_id == keep.id, GuardianLink.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    _revoke_duplicate_links(session, keep.id)
    # Flatten: subjects merged into `absorb` earlier now point straight at `keep`.
    earlier = _rowcount(
        session.execute(update(Subject).where(Subject.merged_into_id == absorb.id).values(merged_into_id=keep.id))
    )
    age_taken = keep.age_source is None and absorb.age_source is not None
    if age_taken:
        for name in (
            "birth_date_enc",
            "age_attested_at",
            "age_source",
            "child_until",
            "minor_until",
            "deletion_flagged_at",
            "deletion_reason",
        ):
            setattr(keep, name, getattr(absorb, name))
    if keep.subject_type is None:
        keep.subject_type = absorb.subject_type
    if keep.region is None and absorb.region is not None:  # where the person is, and the law it selects (P41)
        keep.region, keep.jurisdiction = absorb.region, absorb.jurisdiction
        keep.jurisdiction_source = absorb.jurisdiction_source
    keep.organisation_ref = keep.organisation_ref or absorb.organisation_ref
    absorb.status, absorb.merged_into_id = "merged", keep.id
    absorb.deletion_flagged_at = absorb.deletion_reason = None  # the survivor carries the flag, if any
    session.flush()
    session.expire(keep, ["identities"])
    session.expire(absorb, ["identities"])
    record(
        session,
        actor=actor,
        action="subject.merged",
        object_type="subject",
        object_id=keep.id,
        details={
            "absorbed_id": absorb.id,
            "identities_moved": moved,
            "guardian_links_moved": links,
            "earlier_merges_repointed": earlier,
            "age_taken_from_absorbed": age_taken,
        },
    )
    return keep


def close_subject(session: Session, subject: Subject, *, actor: str, reason: str | None = None) -> Subject:
    """Close a subject (kept for the record; it can no longer change). Idempotent."""
    if subject.status == "closed":
        return subject
    _require_active(subject)
    subject.status = "closed"
    session.execute(
        update(GuardianLink)
        .where(
            or_(GuardianLink.guardian_id == subject.id, GuardianLink.child_id == subject.id),
            GuardianLink.revoked_at.is_(None),
        )
        .values(revoked_at=utcnow())
    )
    record(
        session,
        actor=actor,
        action="subject.closed",
        object_type="subject",
        object_id=subject.id,
        details={"reason": reason},
    )
    session.flush()
    return subject
