"""Identity values: normalise them (so one person's value always yields one blind index) and mask them for display.

Errors never repeat the value: it is personal data and error bodies end up in logs.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from collections.abc import Set as AbstractSet

import phonenumbers

from privet.kit.errors import InvalidInput, Problem

BUILT_IN = ("email", "phone", "user_id", "device_serial", "wechat_openid")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SERIAL = re.compile(r"^[A-Z0-9]{4,64}$")
_OPENID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_EMAIL_LOCAL = re.compile(r"^[^\s@\"(),:;<>\[\]\\]+$")
_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


def _bad(what: str, hint: str, where: str) -> InvalidInput:
    return InvalidInput(f"That is not a valid {what}", hint, [Problem(f"not a valid {what}", where, hint)])


def _email(value: str, _region: str, where: str) -> str:
    hint = "use an address such as name@example.com"
    text = value.strip().lower()
    local, at, domain = text.partition("@")
    if not at or "@" in domain or not local or len(local) > 64 or not _EMAIL_LOCAL.match(local):
        raise _bad("e-mail address", hint, where)
    if local.startswith(".") or local.endswith(".") or ".." in local:
        raise _bad("e-mail address", hint, where)
    try:  # internationalised domains are stored in their ASCII (punycode) form so both spellings match
        ascii_domain = domain.rstrip(".").encode("idna").decode("ascii")
    except UnicodeError:
        raise _bad("e-mail address", hint, where) from None
    labels = ascii_domain.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels) or labels[-1].isdigit():
        raise _bad("e-mail address", hint, where)
    result = f"{local}@{ascii_domain}"
    if len(result) > 254:
        raise _bad("e-mail address", hint, where)
    return result


def _phone(value: str, region: str, where: str) -> str:
    hint = "use international format such as +86 138 0013 8000"
    text = value.strip()
    if not text or len(text) > 40:
        raise _bad("phone number", hint, where)
    try:
        number = phonenumbers.parse(text, region.upper() if region else None)
    except phonenumbers.NumberParseException:
        raise _bad("phone number", hint, where) from None
    if not phonenumbers.is_valid_number(number):
        raise _bad("phone number", hint, where)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _serial(value: str, _region: str, where: str) -> str:
    text = re.sub(r"[\s-]+", "", value.strip().upper())
    if not _SERIAL.match(text):
        raise _bad("device serial number", "use the 4 to 64 letters and digits printed on the device", where)
    return text


def _openid(value: str, _region: str, where: str) -> str:
    text = value.strip()
    if not _OPENID.match(text):
        raise _bad(
            "WeChat OpenID", "send the OpenID exactly as WeChat returned it (16 to 64 letters, digits, _ or -)", where
        )
    return text


def _generic(value: str, _region: str, where: str) -> str:
    text = value.strip()
    if not 1 <= len(text) <= 200 or _CONTROL.search(text):
        raise _bad("identifier", "send 1 to 200 printable characters", where)
    return text


_RULES: dict[str, Callable[[str, str, str], str]] = {
    "email": _email,
    "phone": _phone,
    "device_serial": _serial,
    "wechat_openid": _openid,
}


def _default_known() -> set[str]:
    from privet.taxonomy.loader import default_taxonomy

    return set(default_taxonomy().identity_types)


def check_type(type: str, known_types: Iterable[str] | None = None, *, where: str = "type") -> str:
    """The identity type if the taxonomy knows it, else InvalidInput listing the known ones."""
    known: AbstractSet[str]
    if known_types is None:
        known = _default_known()
    else:  # a frozenset (the store's identity rules) is used as it is: no copy per identity
        known = known_types if isinstance(known_types, frozenset) else set(known_types)
    if type not in known:
        hint = f"use one of: {', '.join(sorted(known))} (or add the type to the taxonomy)"
        raise InvalidInput("Unknown identity type", hint, [Problem("unknown identity type", where, hint)])
    return type


def normalise(
    type: str,
    value: str,
    *,
    default_region: str = "CN",
    known_types: Iterable[str] | None = None,
    where: str = "value",
) -> str:
    """The canonical form of an identity value (E.164 phones, lower-case punycode e-mails, ...)."""
    check_type(type, known_types)
    if not isinstance(value, str):
        raise InvalidInput("An identity value must be text", "send the value as a string", [Problem("not text", where)])
    return _RULES.get(type, _generic)(value, default_region or "CN", where)


def _star(text: str, keep: int = 1) -> str:
    return (text[:keep] + "***") if text else "***"


def mask(type: str, value: str) -> str:
    """A display form that shows enough to recognise a value but not to learn it, e.g. `z***@e***.com`."""
    if type == "email" and "@" in value:
        local, _, domain = value.partition("@")
        try:  # show the domain as people write it, not as punycode
            domain = domain.encode("ascii").decode("idna")
        except UnicodeError:
            pass
        head, _, tld = domain.rpartition(".")
        return f"{_star(local)}@{_star(head)}.{tld}" if head else f"{_star(local)}@***"
    if type == "phone" and value.startswith("+"):
        try:
            code = str(phonenumbers.parse(value).country_code)
        except phonenumbers.NumberParseException:
            code = ""
        return f"+{code} ***{value[-4:]}" if code else f"***{value[-2:]}"
    if len(value) >= 8:
        return f"{value[:2]}***{value[-2:]}"
    return _star(value)
