"""Rectification values: checked before anything is written, the same way for every datastore.

A change is `{category: new value}`; every field mapped to the category gets the value. Where the data map says
which part of a structured value a column holds (`part:` — an address's line1, city, postcode…), the value is given
in parts, `{category: {part: value}}`: each such column gets its part, and a column holding the whole value gets
the parts joined. Values of categories whose fields identify people (e-mail, phone, …) are validated and
normalised as Privet normalises identities; other values must be 1–2,000 printable characters. Errors name the
category (and part), never the value.
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


# the order parts are joined in for a column that holds the whole value
PART_ORDER = ("line1", "line2", "district", "city", "province", "postcode", "country", "family", "given")
_PART = re.compile(r"^[a-z][a-z0-9_]{0,79}$")


_CJK = re.compile(r"^[\u3400-\u9fff\uf900-\ufaff]+$")


def joined(parts: dict[str, str]) -> str:
    """A value given in parts as one text (for a column holding the whole value): a name as `given family` (Chinese
    `familygiven`), an address and anything else as its parts in order, comma-separated."""
    if set(parts) <= {"given", "family"}:
        given, family = parts.get("given", ""), parts.get("family", "")
        if _CJK.match(given + family):
            return family + given
        return " ".join(p for p in (given, family) if p)
    ordered = sorted(parts, key=lambda p: (PART_ORDER.index(p) if p in PART_ORDER else len(PART_ORDER), p))
    return ", ".join(parts[p] for p in ordered if parts[p])


def check_value(category: str, value: object, kind: str | None, region: str = "CN") -> str | dict[str, str]:
    """The normalised new value of one category (text, or {part: text}), or InvalidInput naming the category."""
    where = f"changes.{category}"
    if isinstance(value, dict) and not kind:
        if not value or not all(isinstance(p, str) and _PART.match(p) for p in value):
            hint = "send {part: value} with parts such as line1, city, postcode"
            raise InvalidInput("A value in parts needs named parts", hint, [Problem("no valid parts", where, hint)])
        return {p: _text(f"{where}.{p}", v) for p, v in value.items()}  # a part is text, never parts again
    if kind:
        return normalise(
            kind,
            _string(where, value),
            default_region=region if len(region) == 2 else "CN",
            known_types=[kind],
            where=where,
        )
    return _text(where, value)


def _string(where: str, value: object) -> str:
    if not isinstance(value, str):
        raise InvalidInput(
            "A rectified value must be text", "send each new value as a string", [Problem("not text", where)]
        )
    return value


def _text(where: str, value: object) -> str:
    """A new value given as text: stripped, 1 to MAX_LENGTH printable characters; else InvalidInput naming `where`."""
    text = _string(where, value).strip()
    if not 1 <= len(text) <= MAX_LENGTH or _CONTROL.search(text):
        hint = f"send 1 to {MAX_LENGTH} printable characters"
        raise InvalidInput("That is not a valid new value", hint, [Problem("not a valid value", where, hint)])
    return text


def parts_of(category: str, plans: Iterable[DatastorePlan]) -> set[str]:
    """The parts the data map's columns of `category` hold (empty: every column holds the whole value)."""
    return {f.part for p in plans for t in p.tables.values() for f in t.fields if f.category == category and f.part}


def check_parts(category: str, value: str | dict[str, str], parts: set[str]) -> None:
    """InvalidInput when a value does not fit how the category is stored: a whole value where columns hold parts,
    or a part no column holds."""
    where = f"changes.{category}"
    if isinstance(value, str) and parts:
        hint = f"send {{part: value}} for the parts: {', '.join(sorted(parts))}"
        raise InvalidInput("This information is stored in parts", hint, [Problem("send it in parts", where, hint)])
    if isinstance(value, dict):
        unknown = sorted(set(value) - parts) if parts else []
        if unknown:
            hint = f"the parts held are: {', '.join(sorted(parts))}"
            raise InvalidInput(
                "No column holds that part",
                hint,
                [Problem("no column holds this part", f"{where}.{p}", hint) for p in unknown],
            )


def held_categories(plans: Iterable[DatastorePlan]) -> set[str]:
    """Every category some field of the plans is mapped to."""
    return {f.category for p in plans for t in p.tables.values() for f in t.fields if f.category}


def check_changes(
    plans: list[DatastorePlan], changes: dict[str, object], *, region: str = "CN"
) -> dict[str, str | dict[str, str]]:
    """Validate a rectification against all datastores before any is touched; returns normalised values.

    InvalidInput when there is nothing to change, a category no datastore holds, or a value that does not
    validate."""
    if not isinstance(changes, dict) or not changes:
        raise InvalidInput(
            "Nothing to rectify",
            'send `changes` as {category: new value}, e.g. {"user.contact.email": "new@example.com"}',
        )
    held = held_categories(plans)
    unknown = [c for c in changes if c not in held]
    if unknown:
        hint = "name a data category mapped to a field in the data map, e.g. user.contact.email"
        raise InvalidInput(
            "No field holds that category",
            hint,
            [Problem("no field of the data map holds this category", f"changes.{c}", hint) for c in unknown],
        )
    out = {c: check_value(c, v, identity_kind(c, plans), region) for c, v in changes.items()}
    for category, value in out.items():
        check_parts(category, value, parts_of(category, plans))
    return out
