"""Checks shared by the registers: keys, taxonomy purposes and categories, regions."""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from privet.kit.errors import InvalidInput, Problem

KEY = re.compile(r"^[a-z][a-z0-9_]{0,79}$")
REGION = re.compile(r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$|^EU$|^EEA$|^GLOBAL$")


def bad(message: str, where: str, hint: str) -> InvalidInput:
    """InvalidInput with one problem."""
    return InvalidInput(message, hint, [Problem(message, where, hint)])


def check_key(key: str, where: str = "key") -> str:
    """A register key: lower case letters, digits and underscores, like the data map's keys."""
    if not isinstance(key, str) or not KEY.match(key):
        raise bad(f"Bad key {key!r}", where, "use lower-case letters, digits and underscores, starting with a letter")
    return key


def check_text(value: str | None, where: str, *, required: bool = True, limit: int = 200) -> str | None:
    """Stripped text; InvalidInput when required and empty or too long."""
    value = (value or "").strip()
    if not value:
        if required:
            raise bad(f"{where} is required", where, f"give the {where.replace('_', ' ')}")
        return None
    if len(value) > limit:
        raise bad(f"{where} is longer than {limit} characters", where, "shorten it")
    return value


def _taxonomy(session: Session):  # noqa: ANN202
    from privet.taxonomy.service import effective

    return effective(session)


def _check_keys(session: Session, keys: list[str] | None, section: str, noun: str, where: str) -> list[str]:
    """Keys of one taxonomy section (purposes, categories), de-duplicated in order; the first unknown one refused."""
    known = getattr(_taxonomy(session), section)
    out: list[str] = []
    for i, key in enumerate(keys or []):
        if key not in known:
            raise bad(f"Unknown {noun} {key!r}", f"{where}.{i}",
                      f"use {noun} keys of the taxonomy (privet taxonomy list {section})")
        if key not in out:
            out.append(key)
    return out


def check_purposes(session: Session, purposes: list[str] | None, where: str = "purposes") -> list[str]:
    """Taxonomy purpose keys, de-duplicated in order."""
    return _check_keys(session, purposes, "purposes", "purpose", where)


def check_categories(session: Session, categories: list[str] | None, where: str = "categories") -> list[str]:
    """Taxonomy data category keys, de-duplicated in order."""
    return _check_keys(session, categories, "categories", "data category", where)


def check_region(region: str | None, where: str = "region", *, required: bool = False) -> str | None:
    """A region code (CN, EU, US-CA, GLOBAL ...)."""
    if region is None or region == "":
        if required:
            raise bad("A region is required", where, "give a region code such as CN, EU or US")
        return None
    if not REGION.match(region):
        raise bad(f"Bad region {region!r}", where, "use a region code such as CN, HK, EU, US-CA or GLOBAL")
    return region


def check_regions(regions: list[str] | None, where: str = "regions") -> list[str]:
    """Region codes, de-duplicated in order."""
    out: list[str] = []
    for i, region in enumerate(regions or []):
        check_region(region, f"{where}.{i}")
        if region not in out:
            out.append(region)
    return out
