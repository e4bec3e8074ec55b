"""Values going into and coming out of company databases: identity spellings, column coercion, masks, hashes.

Company databases store identities the way their applications wrote them, not the way Privet normalises them:
e-mails as typed, phones as `13800138000`, `+86 138 0013 8000` or `+1-555-123-4567`. A lookup therefore uses
the usual spellings of each value (an indexed `IN`, no function on the column), not a case-folding scan.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from collections.abc import Iterable
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import phonenumbers
from sqlalchemy import Boolean, Date, DateTime, Enum, Float, Integer, Numeric, String, Time
from sqlalchemy.types import TypeEngine

from privet.subjects.identities import normalise

HASH_PREFIX = "sha256:"
MASK = "***"


def _phone_spellings(value: str, region: str) -> set[str]:
    try:
        number = phonenumbers.parse(value, region if len(region) == 2 and region.isalpha() else None)
    except phonenumbers.NumberParseException:
        return set()
    fmt = phonenumbers.PhoneNumberFormat
    national = str(number.national_number)
    intl = phonenumbers.format_number(number, fmt.INTERNATIONAL)
    out = {
        phonenumbers.format_number(number, fmt.E164),
        national,
        intl,
        intl.replace(" ", "-"),
        phonenumbers.format_number(number, fmt.NATIONAL),
        f"{number.country_code}{national}",
        f"00{number.country_code}{national}",
        f"+{number.country_code} {national}",
        f"+{number.country_code}-{national}",
    }
    out.add(phonenumbers.format_number(number, fmt.NATIONAL).replace(" ", "-"))
    return out


def identity_variants(kind: str, values: Iterable[str], region: str = "") -> list[str]:
    """The spellings to look a subject's identity values up by (as given, Privet's normal form, and for
    e-mails and phones the common other forms)."""
    out: set[str] = set()
    for raw in values:
        if not isinstance(raw, str) or not raw.strip():
            continue
        text = raw.strip()
        out.add(text)
        try:
            out.add(normalise(kind, text, default_region=region if len(region) == 2 else "CN", known_types=[kind]))
        except Exception:  # noqa: BLE001 - a value Privet would not accept may still be stored as given
            pass
        if kind == "email":
            local, at, domain = text.partition("@")
            out.add(text.lower())
            if at:
                out.add(f"{local}@{domain.lower()}")
        elif kind == "phone":
            out |= _phone_spellings(text, region.upper())
    return sorted(out)


def is_text(sa_type: TypeEngine[Any]) -> bool:
    """Whether a column holds free text (masks and hashes fit); enumerations do not count."""
    return isinstance(sa_type, String) and not isinstance(sa_type, Enum)


def _convert(value: object, sa_type: TypeEngine[Any]) -> object:
    if isinstance(sa_type, Boolean):
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text not in ("true", "1", "yes", "false", "0", "no"):
            raise ValueError
        return text in ("true", "1", "yes")
    if isinstance(sa_type, Integer):
        if isinstance(value, bool):
            raise ValueError
        return value if isinstance(value, int) else int(str(value).strip())
    if isinstance(sa_type, Float):
        return float(value)  # type: ignore[arg-type]  # what has no float value raises TypeError, caught by coerce
    if isinstance(sa_type, Numeric):
        return Decimal(str(value).strip())
    if isinstance(sa_type, DateTime):
        return value if isinstance(value, datetime) else datetime.fromisoformat(str(value).strip())
    if isinstance(sa_type, Date):
        if isinstance(value, datetime):
            return value.date()
        return value if isinstance(value, date) else date.fromisoformat(str(value).strip())
    if isinstance(sa_type, Time):
        return value if isinstance(value, time) else time.fromisoformat(str(value).strip())
    return value


def coerce(value: object, sa_type: TypeEngine[Any]) -> object:
    """`value` converted for a column of `sa_type`; ValueError saying what the column expects (never the value)."""
    if value is None:
        return None
    if isinstance(sa_type, String):
        text = str(value)
        length = getattr(sa_type, "length", None)
        if length and len(text) > length:
            raise ValueError(f"at most {length} characters")
        if isinstance(sa_type, Enum) and sa_type.enums and text not in sa_type.enums:
            raise ValueError("one of the column's allowed values")
        return text
    try:
        return _convert(value, sa_type)
    except (ValueError, TypeError, ArithmeticError):
        expected = type(sa_type).__name__.lower()
        raise ValueError(f"a {expected} value") from None


def coerce_all(values: Iterable[object], sa_type: TypeEngine[Any]) -> list[object]:
    """The values that fit the column type, converted; the rest cannot match and are dropped."""
    out = []
    for value in values:
        try:
            out.append(coerce(value, sa_type))
        except (ValueError, TypeError, ArithmeticError):
            continue
    return list(dict.fromkeys(out))


def mask_value(length: int | None) -> str:
    """The mask written over a text value (shorter when the column is)."""
    return MASK if not length or length >= len(MASK) else "*" * length


def hash_value(key: bytes, value: object, length: int | None) -> str | None:
    """`sha256:` + a keyed SHA-256 of the value, cut to the column length; None if it cannot fit recognisably.

    Keyed, so a dictionary of likely e-mails cannot reverse it; the same value always gives the same hash, so a
    hashed column still counts distinct people."""
    digest = hmac.new(key, str(value).encode(), hashlib.sha256).hexdigest()
    text = HASH_PREFIX + digest
    if length and length < len(text):
        if length < len(HASH_PREFIX) + 8:
            return None
        text = text[:length]
    return text


def is_hashed(value: object) -> bool:
    """Whether a value was written by `hash_value` (hashing it again would change nothing)."""
    return isinstance(value, str) and value.startswith(HASH_PREFIX)


def jsonable(value: object) -> object:
    """A value the access package can write as JSON and CSV."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "base64:" + base64.b64encode(bytes(value)).decode("ascii")
    return str(value)
