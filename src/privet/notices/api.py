"""Notice routes: publish versions, read them, diff them; public reads for the privacy centre."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status
from fastapi import Path as PathParam

from privet.auth.deps import PUBLIC, Caller, require
from privet.http.ratelimit import rate_limited
from privet.http.routes import DB
from privet.kit.errors import NotFound
from privet.notices import service
from privet.notices.diff import section_diff, summary
from privet.notices.schemas import (
    DiffOut,
    NoticeDetailOut,
    NoticeOut,
    PublicNoticeOut,
    PublicVersionOut,
    PublishIn,
    VersionDetailOut,
    change_out,
    notice_out,
    public_version_out,
    version_detail_out,
    version_out,
)

router = APIRouter(prefix="/notices", tags=["notices"])
Reader = Depends(require("notices:read"))
Writer = Depends(require("notices:write"))
Public = Depends(rate_limited("notices"))
Key = Annotated[str, PathParam(max_length=80, description="The notice key, e.g. main_policy.")]
Number = Annotated[int, PathParam(ge=1, le=2**31, description="A version number.")]
Lang = Annotated[
    str | None,
    Query(
        pattern=r"^[a-z]{2,3}(_[A-Z][A-Za-z]{1,3})?$",
        description="Language: en or zh_CN (default: en when published in it).",
    ),
]


def _names(db: DB, lang: str) -> dict[str, str]:
    """Purpose key → its name in `lang`, for plain-language summaries."""
    from privet.taxonomy.service import effective

    return {key: (p.name or {}).get(lang) or key for key, p in effective(db).purposes.items()}


@router.get("", dependencies=[Reader], summary="Every notice with its latest version number.")
def list_notices(db: DB) -> list[NoticeOut]:
    latest = service.version_counts(db)
    return [notice_out(n, latest.get(n.id)) for n in service.list_notices(db)]


@router.post(
    "/{key}/versions",
    dependencies=[Writer],
    status_code=status.HTTP_201_CREATED,
    summary="Publish the next version of a notice (created on first publication).",
)
def publish(key: Key, body: PublishIn, db: DB, principal: Caller) -> VersionDetailOut:
    version = service.publish(
        db,
        key=key,
        kind=body.kind,
        product=body.product,
        texts=body.texts,
        effective_date=body.effective_date,
        title=body.title,
        purposes=body.purposes,
        material=body.material,
        actor=principal.actor,
        formats=body.formats,
    )
    return version_detail_out(key, version)


@router.get("/{key}", dependencies=[Reader], summary="One notice with its versions, oldest first.")
def get_notice(key: Key, db: DB) -> NoticeDetailOut:
    found = service.versions(db, key)
    notice = service.get_notice(db, key)
    base = notice_out(notice, found[-1].version if found else None)
    return NoticeDetailOut(**base.model_dump(), versions=[version_out(key, v) for v in found])


@router.get("/{key}/versions/{number}", dependencies=[Reader], summary="One version with its text and sections.")
def get_version(key: Key, number: Number, db: DB) -> VersionDetailOut:
    return version_detail_out(key, service.get_version(db, key, number))


@router.get("/{key}/diff", dependencies=[Reader], summary="Section-level differences between two versions.")
def diff(
    key: Key,
    db: DB,
    from_version: Annotated[int, Query(alias="from", ge=1, le=2**31, description="The older version.")],
    to_version: Annotated[int, Query(alias="to", ge=1, le=2**31, description="The newer version.")],
    lang: Lang = None,
) -> DiffOut:
    a, b = service.get_version(db, key, from_version), service.get_version(db, key, to_version)
    lang = lang or ("en" if "en" in b.content or "en" in a.content else sorted(b.content)[0])
    changes = section_diff(a, b, lang)
    material = (b.change_summary or {}).get("material", {}) if b.version == a.version + 1 else {}
    return DiffOut(
        key=key,
        from_version=a.version,
        to_version=b.version,
        lang=lang,
        changes=[change_out(c) for c in changes],
        summary=summary(changes, material, lang),
    )


@router.get(
    "/public/{key}/current",
    openapi_extra=PUBLIC,
    dependencies=[Public],
    summary="The latest version of a notice in one language, for the privacy centre.",
)
def public_current(key: Key, db: DB, lang: Lang = None) -> PublicNoticeOut:
    version = service.current_version(db, key)
    if version is None:
        raise NotFound(f"No notice {key!r}", "check the notice key")
    notice = service.get_notice(db, key)
    chosen = (
        lang
        if lang is not None and lang in version.content
        else "en"
        if "en" in version.content
        else sorted(version.content)[0]
    )
    variant = version.content[chosen]
    return PublicNoticeOut(
        key=key,
        kind=notice.kind,
        product=notice.product,
        version=version.version,
        effective_date=version.effective_date,
        published_at=version.published_at,
        lang=chosen,
        title=variant.get("title"),
        text=variant["text"],
        sections=variant["sections"],
        summary=public_version_out(version, chosen, _names(db, chosen)).summary,
    )


@router.get(
    "/public/{key}/versions",
    openapi_extra=PUBLIC,
    dependencies=[Public],
    summary="The published versions of a notice with plain-language summaries, newest first.",
)
def public_versions(key: Key, db: DB, lang: Lang = None) -> list[PublicVersionOut]:
    chosen = lang if lang in ("en", "zh_CN") else "en"
    names = _names(db, chosen)
    return [public_version_out(v, chosen, names) for v in reversed(service.versions(db, key))]
