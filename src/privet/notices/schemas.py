"""Request and response bodies of the notice routes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from privet.notices.diff import SectionChange, version_summary
from privet.notices.models import Notice, NoticeVersion


class PublishIn(BaseModel):
    """A new version of a notice: its text per language and what it covers."""

    model_config = ConfigDict(extra="forbid")

    texts: dict[str, str] = Field(
        description="Language code (en, zh_CN) → the full text, Markdown or plain.", min_length=1, max_length=8
    )
    effective_date: date = Field(description="The day this version takes effect (YYYY-MM-DD).")
    kind: Literal["policy", "product", "just_in_time"] = Field("policy", description="What sort of notice.")
    product: str | None = Field(None, max_length=80, description="The product a product notice is about.")
    title: dict[str, str] | None = Field(
        None, max_length=8, description="Language → title (default: recognised in the text)."
    )
    purposes: list[str] | None = Field(
        None, max_length=500, description="Purpose keys covered; omit to keep the previous version's."
    )
    material: list[str] | None = Field(
        None,
        max_length=500,
        description="Purposes changed materially in a way the data map cannot show (a right reduced).",
    )
    formats: dict[str, Literal["markdown", "text"]] | None = Field(
        None, max_length=8, description="Language → format of its text (default: Markdown when it has `#` headings)."
    )


class SectionOut(BaseModel):
    number: str
    title: str
    text: str
    level: int


class VariantOut(BaseModel):
    """One language of a version."""

    title: str | None
    format: str
    text: str
    preamble: str
    sections: list[SectionOut]


class VersionOut(BaseModel):
    key: str
    version: int
    effective_date: date
    content_hash: str
    languages: list[str]
    purposes: list[str]
    material_purposes: list[str]
    change_summary: dict[str, Any]
    published_at: datetime
    published_by: str


class VersionDetailOut(VersionOut):
    content: dict[str, VariantOut]


class NoticeOut(BaseModel):
    key: str
    kind: str
    product: str | None
    title: dict[str, str]
    created_at: datetime
    latest_version: int | None


class NoticeDetailOut(NoticeOut):
    versions: list[VersionOut]


class SectionChangeOut(BaseModel):
    number: str
    title: str
    change: Literal["added", "removed", "changed", "unchanged"]
    ratio: float
    unified: str


class DiffOut(BaseModel):
    key: str
    from_version: int
    to_version: int
    lang: str
    changes: list[SectionChangeOut]
    summary: list[str] = Field(description="Plain-language lines, e.g. `Section 3 changed`.")


class PublicVersionOut(BaseModel):
    """A version as the privacy centre lists it: no staff names."""

    version: int
    effective_date: date
    published_at: datetime
    languages: list[str]
    material_purposes: list[str]
    summary: list[str]


class PublicNoticeOut(BaseModel):
    key: str
    kind: str
    product: str | None
    version: int
    effective_date: date
    published_at: datetime
    lang: str
    title: str | None
    text: str
    sections: list[SectionOut]
    summary: list[str]


def _version_data(key: str, v: NoticeVersion) -> dict[str, Any]:
    return {
        "key": key,
        "version": v.version,
        "effective_date": v.effective_date,
        "content_hash": v.content_hash,
        "languages": sorted(v.content),
        "purposes": v.purposes,
        "material_purposes": v.material_purposes,
        "change_summary": v.change_summary,
        "published_at": v.published_at,
        "published_by": v.published_by,
    }


def version_out(key: str, v: NoticeVersion) -> VersionOut:
    """A stored version as a response body."""
    return VersionOut(**_version_data(key, v))


def version_detail_out(key: str, v: NoticeVersion) -> VersionDetailOut:
    """A stored version as a response body, with its content."""
    return VersionDetailOut(**_version_data(key, v), content=v.content)


def notice_out(n: Notice, latest: int | None) -> NoticeOut:
    """A stored notice as a response body."""
    return NoticeOut(
        key=n.key, kind=n.kind, product=n.product, title=n.title or {}, created_at=n.created_at, latest_version=latest
    )


def public_version_out(v: NoticeVersion, lang: str, names: dict[str, str] | None = None) -> PublicVersionOut:
    """A version for the privacy centre, summarised in `lang` (purposes by their `names`)."""
    return PublicVersionOut(
        version=v.version,
        effective_date=v.effective_date,
        published_at=v.published_at,
        languages=sorted(v.content),
        material_purposes=v.material_purposes,
        summary=version_summary(v, lang, names),
    )


def change_out(c: SectionChange) -> SectionChangeOut:
    return SectionChangeOut(number=c.number, title=c.title, change=c.change, ratio=c.ratio, unified=c.unified)
