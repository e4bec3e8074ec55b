"""Staff routes for subjects. Identities travel in POST bodies only and come back masked."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from privet.auth.deps import Caller, require
from privet.http.routes import DB
from privet.kit.crypto import Keyring
from privet.kit.errors import NotFound
from privet.subjects import ages, guardians, service
from privet.subjects.schemas import (
    AttestationIn,
    BirthDateIn,
    FlaggedOut,
    GuardianIn,
    IdentityIn,
    LinkOut,
    MergeIn,
    NewIdentityIn,
    RevokeIn,
    SubjectIn,
    SubjectOut,
    link_out,
    subject_out,
)

router = APIRouter(prefix="/subjects", tags=["subjects"])
Reader = [Depends(require("subjects:read"))]
Writer = [Depends(require("subjects:write"))]


def _keyring(request: Request) -> Keyring:
    return request.app.state.keyring


@router.post("/lookup", dependencies=Reader, response_model=SubjectOut)
def lookup(body: IdentityIn, db: DB, request: Request) -> SubjectOut:
    """Find the subject holding an identity (POST, so the value never appears in a URL or access log)."""
    keyring = _keyring(request)
    subject = service.find_subject(db, keyring, body.type, body.value)
    if subject is None:
        raise NotFound("No subject has this identity", "check the type and value, or create the subject")
    return subject_out(db, keyring, subject)


@router.post("", dependencies=Writer, response_model=SubjectOut, status_code=201)
def create(body: SubjectIn, db: DB, request: Request, caller: Caller) -> SubjectOut:
    """Create a subject with its identities (Conflict if one of them already belongs to a subject)."""
    keyring = _keyring(request)
    subject = service.create_subject(
        db,
        keyring,
        [(i.type, i.value, i.verified) for i in body.identities],
        actor=caller.actor,
        subject_type=body.subject_type,
    )
    return subject_out(db, keyring, subject)


@router.get("/flagged", dependencies=Reader, response_model=list[FlaggedOut])
def flagged(db: DB) -> list[FlaggedOut]:
    """Subjects flagged for deletion (e.g. minors in adults-only mode), oldest first."""
    return [
        FlaggedOut(id=s.id, status=s.status, flagged_at=s.deletion_flagged_at, reason=s.deletion_reason)
        for s in ages.flagged_for_deletion(db)
    ]


@router.post("/merge", dependencies=Writer, response_model=SubjectOut)
def merge(body: MergeIn, db: DB, request: Request, caller: Caller) -> SubjectOut:
    """Merge two subjects found to be one person; the absorbed one points at the survivor from now on."""
    keep = service.get_subject(db, body.keep_id, follow_merge=False)
    absorb = service.get_subject(db, body.absorb_id, follow_merge=False)
    return subject_out(db, _keyring(request), service.merge(db, keep, absorb, actor=caller.actor))


@router.get("/{subject_id}", dependencies=Reader, response_model=SubjectOut)
def show(subject_id: str, db: DB, request: Request) -> SubjectOut:
    """A subject by id (the survivor when it was merged)."""
    return subject_out(db, _keyring(request), service.get_subject(db, subject_id))


@router.post("/{subject_id}/identities", dependencies=Writer, response_model=SubjectOut, status_code=201)
def add_identity(subject_id: str, body: NewIdentityIn, db: DB, request: Request, caller: Caller) -> SubjectOut:
    """Add an identity to a subject (Conflict with a merge hint when another subject holds it)."""
    keyring = _keyring(request)
    subject = service.get_subject(db, subject_id, follow_merge=False)
    service.add_identity(db, keyring, subject, body.type, body.value, actor=caller.actor, verified=body.verified)
    return subject_out(db, keyring, subject)


@router.post("/{subject_id}/birth-date", dependencies=Writer, response_model=SubjectOut)
def set_birth_date(subject_id: str, body: BirthDateIn, db: DB, request: Request, caller: Caller) -> SubjectOut:
    """Record a birth date (encrypted); in adults-only mode a minor is flagged for deletion."""
    keyring = _keyring(request)
    subject = service.get_subject(db, subject_id, follow_merge=False)
    ages.set_birth_date(db, keyring, subject, body.birth_date, policy=ages.age_policy(db), actor=caller.actor)
    return subject_out(db, keyring, subject)


@router.post("/{subject_id}/age-attestation", dependencies=Writer, response_model=SubjectOut)
def attest_age(subject_id: str, body: AttestationIn, db: DB, request: Request, caller: Caller) -> SubjectOut:
    """Record an age attestation such as "18 or older"."""
    subject = service.get_subject(db, subject_id, follow_merge=False)
    ages.attest_age(
        db, subject, is_adult=body.is_adult, is_child=body.is_child, policy=ages.age_policy(db), actor=caller.actor
    )
    return subject_out(db, _keyring(request), subject)


@router.post("/{subject_id}/guardians", dependencies=Writer, response_model=LinkOut, status_code=201)
def link_guardian(subject_id: str, body: GuardianIn, db: DB, caller: Caller) -> LinkOut:
    """Link a guardian to this child subject, with the relationship they attested."""
    child = service.get_subject(db, subject_id, follow_merge=False)
    guardian = service.get_subject(db, body.guardian_id, follow_merge=False)
    link = guardians.link_guardian(
        db,
        guardian,
        child,
        body.relationship,
        verified_method=body.verified_method,
        evidence=body.evidence,
        actor=caller.actor,
    )
    return link_out(link)


@router.post("/{subject_id}/guardians/{link_id}/revoke", dependencies=Writer, response_model=LinkOut)
def revoke_guardian(subject_id: str, link_id: str, body: RevokeIn, db: DB, caller: Caller) -> LinkOut:
    """End a guardian link from now on."""
    link = guardians.get_link(db, link_id)
    if subject_id not in (link.child_id, link.guardian_id):
        raise NotFound("No guardian link has this id for this subject", "list the subject's guardians")
    return link_out(guardians.revoke_link(db, link, actor=caller.actor, reason=body.reason))
