"""Taxonomy routes: list a section (optionally under a parent), read one entry."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query

from privet.auth.deps import require
from privet.http.routes import DB
from privet.taxonomy import service
from privet.taxonomy.entries import SECTIONS
from privet.taxonomy.loader import section_name
from privet.taxonomy.schemas import EntryOut, SectionOut

router = APIRouter(prefix="/taxonomy", tags=["taxonomy"])
Reader = Depends(require("taxonomy:read"))
Lang = Annotated[Literal["en", "zh_CN"], Query(description="Language of `label`.")]
Section = Annotated[str, Path(description="One of " + ", ".join(SECTIONS.values()) + ".")]


@router.get(
    "/{section}",
    dependencies=[Reader],
    response_model=SectionOut,
    response_model_exclude_none=True,
    summary="Entries of one taxonomy section, default plus the company's additions.",
)
def list_section(
    db: DB,
    section: Section,
    lang: Lang = "en",
    parent: Annotated[str | None, Query(description="Only direct children of this key.")] = None,
    sensitive: Annotated[
        bool | None, Query(description="Categories: only sensitive ones (true) or only others (false).")
    ] = None,
) -> SectionOut:
    name = section_name(section)
    taxonomy = service.effective(db)
    entries = taxonomy.children(name, parent) if parent is not None else list(taxonomy.section(name).values())
    if parent is not None:
        taxonomy.get(name, parent)  # 404 for an unknown parent rather than an empty list
    items = [EntryOut.of(taxonomy, name, e, lang) for e in entries]
    if sensitive is not None:
        items = [i for i in items if (i.sensitive is not None) == sensitive]
    return SectionOut(section=SECTIONS[name], lang=lang, count=len(items), items=items)


@router.get(
    "/{section}/{key}",
    dependencies=[Reader],
    response_model=EntryOut,
    response_model_exclude_none=True,
    summary="One taxonomy entry.",
)
def get_entry(db: DB, section: Section, key: str, lang: Lang = "en") -> EntryOut:
    name = section_name(section)
    taxonomy = service.effective(db)
    return EntryOut.of(taxonomy, name, taxonomy.get(name, key), lang)
