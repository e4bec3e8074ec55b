"""The data map manifest: the YAML format engineers write, as Pydantic models.

A manifest is one file or a folder of files; each file may hold any of the top-level sections below and
the folder's files are merged (lists concatenated, `organisation` given once). Keys are lowercase
`snake_case` (dotted for taxonomy entries) and unique within their section.
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from privet.kit.durations import Duration

Key = Annotated[
    str,
    Field(
        pattern=r"^[a-z][a-z0-9_]*$",
        max_length=80,
        description="Lowercase snake_case identifier, unique in its section.",
    ),
]
DottedKey = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$", max_length=160)]
Region = Annotated[
    str,
    Field(
        pattern=r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$|^EU$|^EEA$|^GLOBAL$",
        description="ISO 3166 country code (CN, US, DE…), EU, EEA or GLOBAL.",
    ),
]


class Strict(BaseModel):
    """Unknown keys are errors, so typos do not silently vanish."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Profile(str, Enum):
    pipl = "pipl"
    gdpr = "gdpr"
    ccpa = "ccpa"


class DatastoreKind(str, Enum):
    sqlite = "sqlite"
    postgresql = "postgresql"
    mysql = "mysql"
    http = "http"
    manual = "manual"


class ErasureAction(str, Enum):
    delete_row = "delete_row"
    null = "null"
    mask = "mask"
    hash = "hash"
    retain = "retain"


class Match(str, Enum):
    """How an identity field's stored values are compared with the identity a person gives."""

    exact = "exact"  # as Privet normalises it or as given (user ids as text or numbers): a plain index serves it
    # letter case and surrounding spaces ignored: lower(trim(column))
    casefold = "casefold"  # type: ignore[assignment]  # the member shadows str.casefold, which no code calls on a Match
    phone = "phone"  # spaces, dashes, dots, brackets, slashes and a leading + ignored; national and international
    contains = "contains"  # free text or JSON that mentions the person's e-mail or phone somewhere (no index serves it)


class Relation(str, Enum):
    """Whose row a reference leads to, which decides what a request takes."""

    belongs_to = "belongs_to"  # this row belongs to the person of the referenced row (orders.customer_id)
    owns = "owns"  # the referenced row is this row's person's own (customers.address_id → their address)
    points_to = "points_to"  # the referenced row is someone else's or shared (rentals.staff_id → the staff member)
    # points_to another person's *account* related to this row's person (a family member, a device's owner): to
    # requests it is points_to; when either account is closed as a minor's (adults-only, P42) the other is closed too
    related_account = "related_account"


DEFAULT_MATCH = {"email": Match.casefold, "phone": Match.phone}


def default_match(identity: str | None) -> Match:
    """The match used for an identity type when the field declares none."""
    return DEFAULT_MATCH.get(identity or "", Match.exact)


class Contact(Strict):
    """The person or office responsible for personal information protection (a role, not a private person)."""

    name: str = Field(description="Role or office, e.g. 'Personal Information Protection Officer'.")
    email: str | None = None
    phone: str | None = None
    address: str | None = None


class RegionalContact(Contact):
    """The responsible contact for people of one region (P41): a subject of that region is told to contact it."""

    region: Region = Field(description="The region it answers for: CN, EU, US, US-CA, SG …")


class RetentionAction(str, Enum):
    delete = "delete"
    anonymise = "anonymise"
    null = "null"


class CategoryRetention(Strict):
    """How long one data category is kept (optionally only where it serves one purpose), in every table."""

    category: DottedKey = Field(description="Data category; its sub-categories are included.")
    purpose: DottedKey | None = Field(
        None,
        description="Only tables of datasets an activity with this purpose "
        "(or a sub-purpose) uses; none: wherever the category is.",
    )
    trigger: Key = Field(
        description="Which of a table's `timestamps` starts the clock (collection, last_activity, account_closure…)."
    )
    duration: str = Field(description="ISO 8601 period after the trigger, e.g. P90D.")
    action: RetentionAction = Field(
        RetentionAction.null, description="null or anonymise the category's fields (the rest of the row stays)."
    )
    legal_minimum: str | None = Field(None, description="A legal retention period overriding a shorter duration.")
    legal_reference: str | None = None

    @field_validator("duration", "legal_minimum")
    @classmethod
    def _period(cls, value: str | None) -> str | None:
        return None if value is None else str(Duration.parse(value))

    @model_validator(mode="after")
    def _field_actions_only(self) -> CategoryRetention:
        if self.action == RetentionAction.delete:
            raise ValueError(
                "a category rule changes fields: use action null or anonymise (delete whole rows with a "
                "table's own `retention`)"
            )
        if self.legal_minimum and not self.legal_reference:
            raise ValueError("`legal_minimum` needs `legal_reference` naming the law or rule behind it")
        return self


class Organisation(Strict):
    key: Key
    name: str
    profile: Profile = Field(description="Jurisdiction profile whose defaults apply: pipl, gdpr or ccpa.")
    region: Region = Field(description="Where the organisation and its subjects mainly are.")
    child_age: int = Field(14, ge=1, le=21, description="Below this age a person is a child (PIPL: 14).")
    adults_only: bool = Field(False, description="Refuse service to minors (under 18) and delete their data.")
    responsible: Contact
    contacts: list[RegionalContact] = Field(
        default_factory=list,
        description="The responsible contact per region (P41); a region without one is answered by `responsible`.",
    )
    languages: list[str] = Field(default_factory=lambda: ["en", "zh_CN"])
    retention: list[CategoryRetention] = Field(
        default_factory=list,
        description="Retention per data category (and purpose), applied to every table holding the category.",
    )


class System(Strict):
    key: Key
    name: str
    description: str | None = None
    owner: str | None = Field(None, description="Team that owns the system.")


class Datastore(Strict):
    key: Key
    system: Key
    kind: DatastoreKind
    region: Region
    secret: Key | None = Field(None, description="Name of the connection secret (PRIVET_SECRETS / secrets file).")
    description: str | None = None

    @model_validator(mode="after")
    def _secret_needed(self) -> Datastore:
        if self.kind != DatastoreKind.manual and not self.secret:
            raise ValueError(f"a {self.kind.value} datastore needs `secret:` naming its connection secret")
        return self


class Erasure(Strict):
    action: ErasureAction
    reason: str | None = Field(None, description="Why the value is retained (required for retain).")
    duration: str | None = Field(None, description="How long it is retained, ISO 8601 (required for retain).")
    legal_reference: str | None = None

    @field_validator("duration")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        return None if value is None else str(Duration.parse(value))

    @model_validator(mode="after")
    def _retain_needs_reason(self) -> Erasure:
        if self.action == ErasureAction.retain and not (self.reason and self.duration):
            raise ValueError("erasure action `retain` needs `reason` and `duration` (e.g. P5Y)")
        return self


class Reference(Strict):
    """A field pointing at another field: `table.field` in the same dataset or `dataset.table.field`."""

    to: str = Field(pattern=r"^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*){1,2}$")


class Field_(Strict):
    name: str = Field(max_length=128)
    category: DottedKey | None = Field(None, description="Data category key; omit for non-personal columns.")
    identity: Key | None = Field(None, description="Identity type when this field identifies a person.")
    references: str | None = Field(
        None,
        pattern=r"^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*){1,2}$",
        description="`table.field` or `dataset.table.field` this field points at.",
    )
    relation: Relation | None = Field(
        None,
        description="With `references`: belongs_to (default; this row is the "
        "referenced row's person's), owns (the referenced row is this row's person's "
        "own, e.g. their address), points_to (someone else's or a shared row: "
        "named in an access package, never disclosed or erased) or related_account "
        "(points_to the account of a related person, a family member or a device's "
        "owner, closed with this person's when either is a minor's: P42).",
    )
    inferred: bool | None = Field(
        None,
        description="With `references`: guessed by scaffold from names and types "
        "(the database declares no foreign key); review it, then remove this line.",
    )
    match: Match | None = Field(
        None,
        description="With `identity`: exact, casefold (default for email), phone "
        "(default for phone) or contains (free text or JSON mentioning any of the person's "
        "e-mails or phones): how stored values are compared with a person's identity.",
    )
    part: Key | None = Field(
        None,
        description="Which part of a structured value this column holds (address: "
        "line1, line2, district, city, province, postcode, country; name: given, family), "
        "so a correction sets each column to its part.",
    )
    erasure: Erasure | None = Field(None, description="Overrides the table's erasure action for this field.")
    indexed: bool | None = Field(
        None,
        description="Whether an index serves lookups by this identity field as it is matched (filled by scaffold).",
    )
    description: str | None = None

    @model_validator(mode="after")
    def _attributes_fit(self) -> Field_:
        if self.identity and not self.category:
            raise ValueError(
                f"identity field `{self.name}` needs `category:`, the category of its identity type's "
                "values (e.g. user.contact.phone for phone, user.account.user_id for user_id), or a "
                "person found by it could not be erased"
            )
        if self.match and not self.identity:
            raise ValueError("`match` applies to identity fields only: add `identity:` or remove `match`")
        if (self.relation or self.inferred is not None) and not self.references:
            raise ValueError("`relation` and `inferred` describe a reference: add `references:` or remove them")
        return self

    @property
    def effective_match(self) -> Match:
        """The declared match, else the identity type's default."""
        return self.match or default_match(self.identity)


class TableRetention(Strict):
    """How long rows of one table are kept, enforced by `privet retention run`."""

    duration: str = Field(description="ISO 8601 period after the trigger, e.g. P2Y or P30D.")
    trigger: Key = Field(
        description="What starts the clock: collection, last_activity, account_closure, "
        "contract_end… (a label for people; the clock itself is `column`)."
    )
    column: str = Field(
        max_length=128,
        description="Timestamp column of this table holding the trigger's moment "
        "(e.g. created_at, last_login_at, closed_at); rows where it "
        "is empty are kept.",
    )
    action: RetentionAction = Field(
        RetentionAction.delete,
        description="delete the row, anonymise its personal "
        "fields (hash/mask per the fields' categories) or null them.",
    )
    fields: list[str] = Field(
        default_factory=list, description="Fields to anonymise or null (default: the table's personal fields)."
    )
    legal_minimum: str | None = Field(
        None,
        description="A legal retention period that overrides a shorter `duration` (e.g. P5Y for financial records).",
    )
    legal_reference: str | None = Field(None, description="The law or rule behind `legal_minimum`.")
    description: str | None = None

    @field_validator("duration", "legal_minimum")
    @classmethod
    def _period(cls, value: str | None) -> str | None:
        return None if value is None else str(Duration.parse(value))

    @model_validator(mode="after")
    def _legal_needs_reference(self) -> TableRetention:
        if self.legal_minimum and not self.legal_reference:
            raise ValueError("`legal_minimum` needs `legal_reference` naming the law or rule behind it")
        return self


class Table(Strict):
    name: str = Field(max_length=128)
    description: str | None = None
    primary_key: list[str] = Field(default_factory=list)
    erasure: Erasure | None = Field(None, description="Default action for personal fields of this table.")
    retention: TableRetention | list[TableRetention] | None = Field(
        None, description="How long rows (or some fields: several rules) are kept (retention sweeps)."
    )
    timestamps: dict[Key, str] = Field(
        default_factory=dict,
        description="Trigger → timestamp column, for the "
        "processing activities' and the organisation's retention, e.g. {collection: "
        "created_at}; `<reference field>.<column>` reads it from the referenced row "
        "(e.g. {account_closure: account_id.closed_at}).",
    )
    fields: list[Field_]

    @model_validator(mode="after")
    def _retention_fields_known(self) -> Table:
        rules = self.retention if isinstance(self.retention, list) else [self.retention] if self.retention else []
        names = {f.name for f in self.fields} | set(self.primary_key)
        for rule in rules:
            unknown = [n for n in rule.fields if n not in names]
            if unknown:
                raise ValueError(f"retention fields {', '.join(unknown)} are not fields of table {self.name}")
        return self


class Source(Strict):
    """Where some of a dataset's data comes from (P3, P40), per category, with the legal basis for obtaining it."""

    key: Key = Field(
        description="How it is obtained: registration, activation, commercial_operation, support, "
        "third_party, device_import …"
    )
    categories: list[DottedKey] = Field(
        default_factory=list,
        description="Data categories obtained this way (their "
        "sub-categories included); none: every category of the dataset.",
    )
    third_party: str | None = Field(
        None,
        max_length=200,
        description="The third party it is received from (an organisation, never a private person).",
    )
    legal_basis: Key | None = Field(
        None,
        description="The legal basis for obtaining it (a taxonomy legal basis); required when a third party is named.",
    )
    description: str | None = None

    @model_validator(mode="after")
    def _third_party_lawful(self) -> Source:
        if self.key == "third_party" and not self.third_party:
            raise ValueError("a `third_party` source names the third party (`third_party: ...`)")
        if self.third_party and not self.legal_basis:
            raise ValueError(
                "data received from a third party needs `legal_basis:`, the basis on which it may be obtained (P40)"
            )
        return self


class Dataset(Strict):
    key: Key
    datastore: Key
    description: str | None = None
    sources: list[Key | Source] = Field(
        default_factory=list,
        description="Where the data comes from (P3, P40): a "
        "key (registration, activation, support…) or a source with its categories, "
        "the third party named and the legal basis for obtaining it.",
    )
    tables: list[Table]


class Retention(Strict):
    duration: str | None = Field(None, description="ISO 8601 period, e.g. P3Y.")
    trigger: Key = Field(
        description="What starts the clock: collection, account_closure, last_activity, "
        "contract_end, accounting_period_end, consent_withdrawal…"
    )
    description: str | None = None

    @field_validator("duration")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        return None if value is None else str(Duration.parse(value))


class Transfer(Strict):
    destination: Region
    mechanism: Key | None = Field(
        None,
        description="standard_contract, certification, security_assessment, adequacy, sccs, bcr or separate_consent.",
    )
    recipient: Key | None = None


class ProcessingActivity(Strict):
    key: Key
    name: str = Field(
        description="The activity's name in English; write `name: {en: ..., zh_CN: ...}` (the "
        "taxonomy's form) to give it in Chinese too."
    )
    names: dict[str, str] = Field(
        default_factory=dict,
        description="The name by language (en, zh_CN), filled from `name:` when it is given as a mapping.",
    )
    purpose: DottedKey
    legal_basis: Key
    required_categories: list[DottedKey] = Field(default_factory=list)
    optional_categories: list[DottedKey] = Field(default_factory=list)
    subject_types: list[Key] = Field(default_factory=list)
    datasets: list[Key] = Field(default_factory=list, description="Datasets this activity reads or writes.")
    retention: Retention | None = None
    recipients: list[Key] = Field(default_factory=list)
    processors: list[Key] = Field(default_factory=list)
    storage_locations: list[Region] = Field(default_factory=list)
    transfers: list[Transfer] = Field(default_factory=list)
    description: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _names(cls, data: object) -> object:
        """`name: {en: ..., zh_CN: ...}` → `name` (the English) and `names` (every language given)."""
        if isinstance(data, dict) and isinstance(data.get("name"), dict):
            given = {str(k): str(v) for k, v in data["name"].items() if v}
            if "en" not in given:
                raise ValueError("`name:` given by language needs `en:` (the English name)")
            data = {**data, "name": given["en"], "names": {**(data.get("names") or {}), **given}}
        return data

    def label(self, lang: str = "en") -> str:
        """The name in `lang`, else the English name."""
        return self.names.get(lang) or self.name


class CustomRecognizer(Strict):
    """A company-specific identifier (a device serial, a member number) that `privet datamap discover` recognises
    in column values: a whole value matches `pattern` and passes `validator` when one is named."""

    key: Key
    category: DottedKey = Field(
        description="Data category of the values it recognises, e.g. user.device.serial_number."
    )
    pattern: str = Field(
        min_length=1,
        max_length=500,
        description="Regular expression (Python syntax) a whole value must match, e.g. `ZK[A-Z]{2}\\d{8}`.",
    )
    validator: Key | None = Field(
        None,
        description="A check the value must pass too: the name of one of discovery's "
        "validators (luhn, iban, imei, prc_resident_id…); none: the pattern decides.",
    )
    description: str | None = None


class Manifest(Strict):
    """The whole data map after merging a folder's files."""

    organisation: Organisation | None = None
    taxonomy: dict | None = Field(None, description="Company additions to the taxonomy (same shape as the default).")
    systems: list[System] = Field(default_factory=list)
    datastores: list[Datastore] = Field(default_factory=list)
    datasets: list[Dataset] = Field(default_factory=list)
    processing_activities: list[ProcessingActivity] = Field(default_factory=list)
    recognizers: list[CustomRecognizer] = Field(
        default_factory=list,
        description="Company-specific identifiers discovery recognises by their values (`privet datamap discover`).",
    )
