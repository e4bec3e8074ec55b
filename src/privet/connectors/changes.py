"""Rectification values: checked before anything is written, the same way for every datastore.

A change is `{category: new value}`; every field mapped to the category gets the value. Values of categories
whose fields identify people (e-mail, phone, …) are validated and normalised as Privet normalises identities;
other values must be 1–2,000 printable characters. Errors name the category, never the value.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from privet.connectors.base import DatastorePlan
from privet.kit.errors import InvalidInput, Problem
from privet.subjects.identities import normalise

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_BY_CATEGORY = {"user.contact.email": "email", "user.contact.phone": "phone"}
MAX_LENGTH = 2000


def identity_kind(category: str, plans: Iterable[DatastorePlan]) -> str | None:
    """The identity type whose rules validate values of `category` (None: plain text)."""
    for plan in plans:
        for table in plan.tables.values():
            for f in table.fields:
                if f.category == category and f.identity:
                    return f.identity
    for prefix, kind in _BY_CATEGORY.items():
        if category == prefix or category.startswith(prefix + "."):
            return kind
    return None


def check_value(category: str, value: object, kind: str | None, region: str = "CN") -> str:
    """The normalised new value of one category, or InvalidInput naming the category."""
    where = f"changes.{category}"
    if not isinstance(value, str):
        raise InvalidInput("A rectified value must be text", "send each new value as a string",
                           [Problem("not text", where)])
    if kind:
        return normalise(kind, value, default_region=region if len(region) == 2 else "CN",
                         known_types=[kind], where=where)
    text = value.strip()
    if not 1 <= len(text) <= MAX_LENGTH or _CONTROL.search(text):
        hint = f"send 1 to {MAX_LENGTH} printable characters"
        raise InvalidInput("That is not a valid new value", hint, [Problem("not a valid value", where, hint)])
    return text


def held_categories(plans: Iterable[DatastorePlan]) -> set[str]:
    """Every category some field of the plans is mapped to."""
    return {f.category for p in plans for t in p.tables.values() for f in t.fields if f.category}


def check_changes(plans: list[DatastorePlan], changes: dict[str, object], *, region: str = "CN") -> dict[str, str]:
    """Validate a rectification against all datastores before any is touched; returns normalised values.

    InvalidInput when there is nothing to change, a category no datastore holds, or a value that does not
    validate."""
    if not isinstance(changes, dict) or not changes:
        raise InvalidInput("Nothing to rectify", "send `changes` as {category: new value}, e.g. "
                                                 "{\"user.contact.email\": \"new@example.com\"}")
    held = held_categories(plans)
    unknown = [c for c in changes if c not in held]
    if unknown:
        hint = "name a data category mapped to a field in the data map, e.g. user.contact.email"
        raise InvalidInput("No field holds that category", hint,
                           [Problem("no field of the data map holds this category", f"changes.{c}", hint)
                            for c in unknown])
    return {c: check_value(c, v, identity_kind(c, plans), region) for c, v in changes.items()}
