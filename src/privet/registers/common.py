"""Checks shared by the registers (keys, taxonomy purposes and categories, regions, agreements) and their alerts."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import date
from typing import TYPE_CHECKING, Literal, overload

from sqlalchemy.orm import Session

from privet.kit.errors import InvalidInput, Problem

if TYPE_CHECKING:
    from privet.taxonomy.loader import Taxonomy

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


@overload
def check_text(value: str | None, where: str, *, required: Literal[True] = True, limit: int = 200) -> str: ...
@overload
def check_text(value: str | None, where: str, *, required: bool, limit: int = 200) -> str | None: ...
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


def _taxonomy(session: Session) -> Taxonomy:
    from privet.taxonomy.service import effective

    return effective(session)


def _check_keys(session: Session, keys: list[str] | None, section: str, noun: str, where: str) -> list[str]:
    """Keys of one taxonomy section (purposes, categories), de-duplicated in order; the first unknown one refused."""
    known = getattr(_taxonomy(session), section)
    out: list[str] = []
    for i, key in enumerate(keys or []):
        if key not in known:
            raise bad(
                f"Unknown {noun} {key!r}",
                f"{where}.{i}",
                f"use {noun} keys of the taxonomy (privet taxonomy list {section})",
            )
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


def check_agreement(
    reference: str | None, signed_on: date | None, expires_on: date | None, where: str = "agreement_ref"
) -> str | None:
    """The agreement's reference (stripped); InvalidInput for dates without a reference or an expiry before the
    signing."""
    reference = check_text(reference, where, required=False)
    if signed_on and expires_on and expires_on <= signed_on:
        raise bad("The agreement expires before it was signed", "expires_on", "give an expiry after signing")
    if (signed_on or expires_on) and not reference:
        raise bad(
            "Agreement dates without an agreement reference", where, "give the agreement's reference (--agreement)"
        )
    return reference


@dataclass
class Alert:
    """One register entry needing attention: a processor or a recipient (`entry`) by its key."""

    kind: str  # unregistered | no_agreement | expired | expiring | out_of_scope | ground_not_in_policy
    key: str  # the processor's or recipient's key
    message: str
    activities: list[str]  # data map activities naming it
    expires_on: date | None = None
    days_left: int | None = None
    entry: str = "processor"  # processor | recipient

    @property
    def processor(self) -> str | None:
        """The processor's key (None for a recipient's alert)."""
        return self.key if self.entry == "processor" else None

    def as_dict(self) -> dict:
        return {**asdict(self), "processor": self.processor}


def agreement_alerts(
    entry: str,
    key: str,
    activities: list[str],
    reference: str | None,
    signed_on: date | None,
    expires_on: date | None,
    today: date,
    days: int,
) -> list[Alert]:
    """No signed agreement on record, or one expired or expiring within `days`."""
    noun = entry
    out = []
    if not reference or signed_on is None:
        out.append(
            Alert(
                "no_agreement",
                key,
                f"{noun} {key!r} has no signed agreement on record",
                activities,
                expires_on,
                entry=entry,
            )
        )
    if expires_on is None:
        return out
    left = (expires_on - today).days
    if left < 0:
        out.append(
            Alert(
                "expired",
                key,
                f"the agreement with {noun} {key!r} expired on {expires_on}",
                activities,
                expires_on,
                left,
                entry,
            )
        )
    elif left <= days:
        out.append(
            Alert(
                "expiring",
                key,
                f"the agreement with {noun} {key!r} expires on {expires_on} (in {left} days)",
                activities,
                expires_on,
                left,
                entry,
            )
        )
    return out
