"""The organisation's responsible contact per region (P41): a person of a region is told to contact the office
answering for it (`organisation.contacts` in the data map), others the organisation's `responsible`.

`contact_for(session, region)` is the one entry point; messages and explanations call it with the subject's
region (a country such as DE or US-CA falls back to its wider region: EU, US, then GLOBAL).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from privet.datamap.loaded import LoadedManifest
from privet.datamap.models import DatamapOrganisation
from privet.kit.errors import Problem

# ISO 3166 codes of the EU's member states, and the other EEA states: a contact for EU or EEA answers for them.
EU = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "CY",
        "CZ",
        "DE",
        "DK",
        "EE",
        "ES",
        "FI",
        "FR",
        "GR",
        "HR",
        "HU",
        "IE",
        "IT",
        "LT",
        "LU",
        "LV",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SE",
        "SI",
        "SK",
    ]
)
EEA_ONLY = frozenset({"IS", "LI", "NO"})
FIELDS = ("name", "email", "phone", "address")


def wider(region: str | None) -> list[str]:
    """`region` and the regions containing it, nearest first: US-CA → US-CA, US, GLOBAL; DE → DE, EU, EEA, GLOBAL."""
    region = (region or "").strip().upper()
    if not region:
        return ["GLOBAL"]
    out = [region]
    country = region.split("-", 1)[0]
    if country != region:
        out.append(country)
    if country in EU:
        out += ["EU", "EEA"]
    elif country in EEA_ONLY or country == "EU":
        out.append("EEA")
    if "GLOBAL" not in out:
        out.append("GLOBAL")
    return out


def _organisation(session: Session) -> tuple[dict, list[dict]] | None:
    row = session.execute(select(DatamapOrganisation.responsible, DatamapOrganisation.contacts).limit(1)).first()
    return None if row is None else (dict(row[0] or {}), [dict(c) for c in row[1] or []])


def choose(responsible: dict, contacts: list[dict], region: str | None) -> dict:
    """The contact answering for `region` among the regional `contacts`, else `responsible` (region None)."""
    by_region = {c.get("region"): c for c in contacts}
    for candidate in wider(region):
        if candidate in by_region:
            return {**{k: by_region[candidate].get(k) for k in FIELDS}, "region": candidate}
    return {**{k: (responsible or {}).get(k) for k in FIELDS}, "region": None}


def contact_for(session: Session, region: str | None) -> dict:
    """The responsible contact for a person of `region` (name, email, phone, address and the `region` it answers
    for, None for the organisation's default contact); empty before a data map is applied."""
    found = _organisation(session)
    return {} if found is None else choose(*found, region)


def all_contacts(session: Session) -> list[dict]:
    """The default contact (region None) and each regional one, as the data map declares them."""
    found = _organisation(session)
    if found is None:
        return []
    responsible, contacts = found
    return [
        {**{k: responsible.get(k) for k in FIELDS}, "region": None},
        *({**{k: c.get(k) for k in FIELDS}, "region": c.get("region")} for c in contacts),
    ]


def check(loaded: LoadedManifest) -> list[Problem]:
    """A region named twice in `organisation.contacts`."""
    org = loaded.manifest.organisation
    if org is None:
        return []
    seen: dict[str, int] = {}
    problems = []
    for i, contact in enumerate(org.contacts):
        if contact.region in seen:
            problems.append(
                Problem(
                    f"two contacts for region {contact.region}",
                    loaded.where("organisation", None, "contacts", i, "region"),
                    "keep one contact per region",
                )
            )
        seen.setdefault(contact.region, i)
    return problems
