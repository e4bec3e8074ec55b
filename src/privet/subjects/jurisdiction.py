"""Where a person is, the law their requests are handled under (P41), and the organisation they act for (P6).

A region is an ISO 3166 code (`CN`, `DE`, `US-CA`), `EU` or `EEA`. It selects a jurisdiction profile:
mainland China → pipl; the EU, the EEA and their member states → gdpr; California → ccpa. Any other region (Hong
Kong, Singapore, a US state other than California) selects none, and the organisation's profile applies.

Where it comes from, and which statement wins:
- `token`: the `region` claim of a trusted subject token from the company's login. The company has checked it, so
  it replaces anything stored, and a person's own declaration does not replace it.
- `declared`: the person says where they live when filing a request (privacy centre, API, or staff taking the
  request down); it replaces an earlier declaration or a datastore's region.
- `datastore`: the region of the datastore the person's identity was found in (`privet.requests.intake.jurisdiction`);
  only ever fills an empty record.

The organisation reference (P6) is the company's own name or account reference for the organisation the person
represents ("Authorised Entity", Keptek K3(1)1): from a trusted token's `organisation` claim, or a request filed
as its representative. It is shown to officers and told to the person in their explanation and access package.
"""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from privet.audit.service import record
from privet.datamap.evaluate import EEA_MEMBERS  # the GDPR applies in the whole EEA
from privet.kit.errors import InvalidInput, Problem
from privet.subjects.models import Subject

PROFILES = ("pipl", "gdpr", "ccpa")
SOURCES = ("token", "declared", "datastore")
_REGION = re.compile(r"^(?:[A-Z]{2}(?:-[A-Z0-9]{1,3})?|EU|EEA)$")
MAX_ORGANISATION = 120
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[a-z]{2,}", re.IGNORECASE)
_LONG_NUMBER = re.compile(r"\d[\d\s().+-]{7,}\d")
REGION_HINT = "an ISO 3166 code such as CN, DE or US-CA, or EU / EEA"


def normalise_region(value: str | None, *, where: str = "region") -> str | None:
    """`de` → `DE`, `us_ca` → `US-CA`; None for nothing given; InvalidInput for anything else."""
    if value is None or not str(value).strip():
        return None
    code = str(value).strip().upper().replace("_", "-")
    if not _REGION.match(code):
        raise InvalidInput("Unknown region", f"send {REGION_HINT}", [Problem("not a region code", where, REGION_HINT)])
    return code


def jurisdiction_of(region: str | None) -> str | None:
    """The profile whose law covers people in `region` (pipl, gdpr, ccpa), or None where none of them does."""
    if not region:
        return None
    code = region.upper()
    country = code.split("-")[0]
    if country == "CN":
        return "pipl"  # mainland China; Hong Kong (HK), Macao (MO) and Taiwan (TW) have codes and laws of their own
    if code in ("EU", "EEA") or country in EEA_MEMBERS:
        return "gdpr"
    if code == "US-CA":
        return "ccpa"
    return None


def record_region(
    session: Session, subject: Subject, region: str, *, source: str, actor: str, datastore: str | None = None
) -> bool:
    """Store where the person is and the law that follows from it; True when that changed anything (audited).

    A declaration never replaces a trusted token's region (the company checked that one); a datastore's region
    only fills an empty record."""
    if source not in SOURCES:
        raise ValueError(f"unknown jurisdiction source {source!r}")
    region = normalise_region(region) or ""
    if not region:
        return False
    if source == "declared" and subject.jurisdiction_source == "token" and subject.region != region:
        return False
    if source == "datastore" and subject.region:
        return False
    jurisdiction = jurisdiction_of(region)
    if (subject.region, subject.jurisdiction, subject.jurisdiction_source) == (region, jurisdiction, source):
        return False
    previous = subject.jurisdiction
    subject.region, subject.jurisdiction, subject.jurisdiction_source = region, jurisdiction, source
    details = {"region": region, "jurisdiction": jurisdiction, "source": source, "previous": previous}
    if datastore:
        details["datastore"] = datastore
    record(
        session,
        actor=actor,
        action="subject.jurisdiction",
        object_type="subject",
        object_id=subject.id,
        details=details,
    )
    return True


def check_organisation(value: object, *, where: str = "organisation") -> str | None:
    """An organisation reference: short printable text without e-mail addresses or phone numbers; None if empty."""
    if value is None:
        return None
    hint = f"send the organisation's name or account reference, 1 to {MAX_ORGANISATION} characters"
    if not isinstance(value, str):
        raise InvalidInput("The organisation must be text", hint, [Problem("not text", where, hint)])
    text = " ".join(value.split())
    if not text:
        return None
    if len(text) > MAX_ORGANISATION or _CONTROL.search(value.replace("\n", " ").replace("\t", " ")):
        raise InvalidInput(
            "The organisation is too long or holds control characters",
            hint,
            [Problem("too long or not printable", where, hint)],
        )
    if _EMAIL.search(text) or any(len(re.sub(r"\D", "", run)) >= 9 for run in _LONG_NUMBER.findall(text)):
        raise InvalidInput(
            "The organisation looks like an e-mail address or a phone number",
            hint,
            [Problem("looks like personal data", where, hint)],
        )
    return text


def record_organisation(session: Session, subject: Subject, organisation: str, *, source: str, actor: str) -> bool:
    """Store the organisation the person acts for (P6); True when it changed (audited, without the name)."""
    text = check_organisation(organisation)
    if not text or subject.organisation_ref == text:
        return False
    replaced = subject.organisation_ref is not None
    subject.organisation_ref = text
    record(
        session,
        actor=actor,
        action="subject.organisation",
        object_type="subject",
        object_id=subject.id,
        details={"source": source, "replaced": replaced},
    )
    return True
