"""Request and response bodies of the staff subject routes. Identity values go in, only masked values come out."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from privet.kit.crypto import Keyring
    from privet.subjects.models import GuardianLink, Subject


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IdentityIn(_In):
    type: str = Field(
        min_length=1, max_length=60, description="Identity type from the taxonomy: email, phone, user_id, ..."
    )
    value: str = Field(
        min_length=1, max_length=400, description="The value; normalised (E.164 phones, lower-case e-mails)."
    )


class NewIdentityIn(IdentityIn):
    verified: bool = Field(False, description="Staff checked that the person controls this identity.")


class SubjectIn(_In):
    subject_type: str | None = Field(None, max_length=60, description="Taxonomy subject type, e.g. customer.")
    identities: list[NewIdentityIn] = Field(min_length=1, max_length=20)


class MergeIn(_In):
    keep_id: str = Field(min_length=1, max_length=32, description="The subject that survives.")
    absorb_id: str = Field(min_length=1, max_length=32, description="The subject merged into it.")


class BirthDateIn(_In):
    birth_date: date = Field(description="YYYY-MM-DD; stored encrypted, only the age status is shown.")


class AttestationIn(_In):
    is_adult: bool | None = Field(None, description="The person attested being 18 or older (or not).")
    is_child: bool | None = Field(None, description="The person attested being under the child age (or not).")


class GuardianIn(_In):
    guardian_id: str = Field(max_length=32, description="The guardian's subject id.")
    relationship: Literal["parent", "legal_guardian"] = Field(
        description="parent or legal_guardian (attested by the guardian)."
    )
    verified_method: str | None = Field(
        None,
        max_length=30,
        description="How the guardian was verified now, "
        "e.g. sms_code; omit to rely on the guardian's verified identities.",
    )
    evidence: dict = Field(
        default_factory=dict, max_length=50, description="Proof kept with the link (ids, hashes; no contact details)."
    )


class RevokeIn(_In):
    reason: str | None = Field(
        None, pattern=r"^[a-z][a-z0-9_]{0,59}$", description="Why the link ends, as a short code such as court_order."
    )


class IdentityOut(BaseModel):
    id: str
    type: str
    masked: str
    verified: bool
    verified_at: datetime | None


class AgeOut(BaseModel):
    status: str = Field(description="child, minor, adult, not_child or unknown (today, under the current policy).")
    source: str | None
    recorded_at: datetime | None
    flagged_for_deletion_at: datetime | None
    deletion_reason: str | None


class LinkOut(BaseModel):
    id: str
    guardian_id: str
    child_id: str
    relationship: str
    attested_at: datetime
    verified_at: datetime | None
    verification_method: str | None
    revoked_at: datetime | None


class SubjectOut(BaseModel):
    id: str
    status: str
    subject_type: str | None
    created_at: datetime
    merged_ids: list[str] = Field(description="Subjects merged into this one (ledger records may name them).")
    organisation_ref: str | None = Field(None, description="The organisation the person acts for (P6).")
    region: str | None = Field(None, description="Where the person is (ISO 3166, EU or EEA), when known (P41).")
    jurisdiction: str | None = Field(
        None, description="The law their requests get (pipl, gdpr, ccpa); null: the organisation's profile."
    )
    jurisdiction_source: str | None = Field(None, description="token, declared or datastore.")
    identities: list[IdentityOut]
    age: AgeOut
    guardians: list[LinkOut]
    children: list[LinkOut]


class FlaggedOut(BaseModel):
    id: str
    status: str
    flagged_at: datetime
    reason: str | None


def link_out(link: GuardianLink) -> LinkOut:
    """The response form of a guardian link."""
    return LinkOut(
        id=link.id,
        guardian_id=link.guardian_id,
        child_id=link.child_id,
        relationship=link.relationship,
        attested_at=link.attested_at,
        verified_at=link.verified_at,
        verification_method=link.verification_method,
        revoked_at=link.revoked_at,
    )


def subject_out(session: Session, keyring: Keyring, subject: Subject) -> SubjectOut:
    """Everything staff may see of a subject: identities masked, the age as a status, links by id."""
    from privet.subjects import ages, guardians, service
    from privet.subjects.identities import mask

    views = service.identities_of(session, keyring, subject)
    links = guardians.links_of(session, subject.id)
    return SubjectOut(
        id=subject.id,
        status=subject.status,
        subject_type=subject.subject_type,
        created_at=subject.created_at,
        merged_ids=service.holder_ids(session, subject)[1:],
        organisation_ref=subject.organisation_ref,
        region=subject.region,
        jurisdiction=subject.jurisdiction,
        jurisdiction_source=subject.jurisdiction_source,
        identities=[
            IdentityOut(
                id=v.id,
                type=v.type,
                masked=mask(v.type, v.value),
                verified=v.verified_at is not None,
                verified_at=v.verified_at,
            )
            for v in views
        ],
        age=AgeOut(
            status=ages.age_status(subject),
            source=subject.age_source,
            recorded_at=subject.age_attested_at,
            flagged_for_deletion_at=subject.deletion_flagged_at,
            deletion_reason=subject.deletion_reason,
        ),
        guardians=[link_out(x) for x in links if x.child_id == subject.id],
        children=[link_out(x) for x in links if x.guardian_id == subject.id],
    )
