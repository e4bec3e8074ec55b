"""Taxonomy entries: the input shape (Pydantic, strict) and the loaded form (frozen dataclasses)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

SENSITIVE_KINDS = (
    "biometric",
    "identity_document",
    "financial_account",
    "health",
    "location_track",
    "minor",
    "religious",
    "medical",
    "specific_identity",
)
PURPOSE_TYPES = (
    "service",
    "notice",
    "marketing",
    "analytics",
    "legal",
    "partner",
    "training",
    "security",
    "research",
    "sharing",
    "transfer",
)
PROFILES = ("pipl", "gdpr", "ccpa")
LANGUAGES = ("en", "zh_CN")

# section name in YAML -> section name in URLs and on the command line
SECTIONS = {
    "categories": "categories",
    "purposes": "purposes",
    "legal_bases": "legal-bases",
    "subject_types": "subject-types",
    "identity_types": "identity-types",
}

SensitiveKind = Literal[
    "biometric",
    "identity_document",
    "financial_account",
    "health",
    "location_track",
    "minor",
    "religious",
    "medical",
    "specific_identity",
]
PurposeType = Literal[
    "service",
    "notice",
    "marketing",
    "analytics",
    "legal",
    "partner",
    "training",
    "security",
    "research",
    "sharing",
    "transfer",
]
Profile = Literal["pipl", "gdpr", "ccpa"]
DottedKey = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$", max_length=160)]
FlatKey = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=80)]
LangCode = Annotated[str, Field(pattern=r"^[a-z]{2}(_[A-Z]{2})?$")]
Text = Annotated[str, Field(min_length=1, max_length=500)]


class _In(BaseModel):
    """Common fields of every entry; unknown fields are errors so typos do not vanish."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, strict=True)

    parent: str | None = None
    name: dict[LangCode, Text] | None = None
    description: Text | None = None
    dpv: Annotated[str, Field(pattern=r"^dpv(-pd)?:[A-Za-z0-9_]+$")] | None = None
    fideslang: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$")] | None = None
    override: bool = False


class CategoryIn(_In):
    key: DottedKey
    parent: DottedKey | None = None
    sensitive: SensitiveKind | None = None
    disclose: bool | None = None  # false: held values are listed in access packages but never shown (credentials)


class PurposeIn(_In):
    key: DottedKey
    parent: DottedKey | None = None
    type: PurposeType | None = None


class LegalBasisIn(_In):
    key: FlatKey
    parent: FlatKey | None = None
    profiles: list[Profile] | None = None
    consent: bool | None = None


class SubjectTypeIn(_In):
    key: FlatKey
    parent: FlatKey | None = None


class IdentityTypeIn(_In):
    key: FlatKey
    parent: FlatKey | None = None
    category: DottedKey | None = None


@dataclass(frozen=True, eq=False)
class Entry:
    """One loaded taxonomy entry; `name` maps a language code to a label."""

    key: str
    name: dict[str, str]
    description: str | None = None
    parent: str | None = None
    dpv: str | None = None
    fideslang: str | None = None
    source: str = "default"  # "default", or where the company defined or overrode it

    def label(self, lang: str = "en") -> str:
        """The name in `lang`, else English, else the key."""
        return self.name.get(lang) or self.name.get("en") or self.key

    def as_dict(self) -> dict:
        """Plain data without empty fields (for JSON, YAML and tables)."""
        return {k: v for k, v in asdict(self).items() if v not in (None, [], {})}


@dataclass(frozen=True, eq=False)
class Category(Entry):
    sensitive: str | None = None  # the kind declared on this entry; see Taxonomy.sensitive_kind for inherited
    disclose: bool | None = None  # declared on this entry; see Taxonomy.discloses for inherited (default True)


@dataclass(frozen=True, eq=False)
class Purpose(Entry):
    type: str = "service"


@dataclass(frozen=True, eq=False)
class LegalBasis(Entry):
    profiles: tuple[str, ...] = PROFILES
    consent: bool = False  # consent-based: withdrawable, needs a consent record


@dataclass(frozen=True, eq=False)
class SubjectType(Entry):
    pass


@dataclass(frozen=True, eq=False)
class IdentityType(Entry):
    category: str | None = None  # the data category holding this identity


INPUT_CLASSES: dict[str, type[_In]] = {
    "categories": CategoryIn,
    "purposes": PurposeIn,
    "legal_bases": LegalBasisIn,
    "subject_types": SubjectTypeIn,
    "identity_types": IdentityTypeIn,
}
ENTRY_CLASSES: dict[str, type[Entry]] = {
    "categories": Category,
    "purposes": Purpose,
    "legal_bases": LegalBasis,
    "subject_types": SubjectType,
    "identity_types": IdentityType,
}
