"""API answers for the taxonomy."""

from __future__ import annotations

from pydantic import BaseModel, Field

from privet.taxonomy.entries import Category, Entry, IdentityType, LegalBasis, Purpose
from privet.taxonomy.loader import Taxonomy


class EntryOut(BaseModel):
    """One taxonomy entry; fields that do not apply to its section are left out."""

    key: str
    label: str = Field(description="The name in the requested language (English when there is none).")
    name: dict[str, str] = Field(description="Names by language code (en, zh_CN).")
    description: str | None = None
    parent: str | None = None
    source: str = Field(description="`default` (shipped with Privet) or `company` (added or overridden).")
    dpv: str | None = Field(None, description="Matching W3C DPV term, e.g. dpv-pd:EmailAddress.")
    fideslang: str | None = Field(None, description="Matching fideslang key, e.g. user.contact.email.")
    sensitive: str | None = Field(None, description="Categories: PIPL sensitive kind, declared or inherited.")
    type: str | None = Field(None, description="Purposes: service, notice, marketing, analytics, ...")
    profiles: list[str] | None = Field(None, description="Legal bases: jurisdiction profiles where valid.")
    consent: bool | None = Field(None, description="Legal bases: rests on the person's (withdrawable) consent.")
    category: str | None = Field(None, description="Identity types: the data category holding the identity.")
    ancestors: list[str] = Field(default_factory=list, description="Parent, grandparent, ... nearest first.")

    @classmethod
    def of(cls, taxonomy: Taxonomy, section: str, entry: Entry, lang: str) -> EntryOut:
        """The answer for one entry in `lang`."""
        extra: dict = {}
        if isinstance(entry, Category):
            extra["sensitive"] = taxonomy.sensitive_kind(entry.key)
        elif isinstance(entry, Purpose):
            extra["type"] = entry.type
        elif isinstance(entry, LegalBasis):
            extra.update(profiles=list(entry.profiles), consent=entry.consent)
        elif isinstance(entry, IdentityType):
            extra["category"] = entry.category
        return cls(
            key=entry.key,
            label=entry.label(lang),
            name=entry.name,
            description=entry.description,
            parent=entry.parent,
            source=entry.source,
            dpv=entry.dpv,
            fideslang=entry.fideslang,
            ancestors=taxonomy.ancestors(entry.key, section),
            **extra,
        )


class SectionOut(BaseModel):
    section: str
    lang: str
    count: int
    items: list[EntryOut]
