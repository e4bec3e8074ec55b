"""Recognizers of single values: what kind of personal data one string is.

Each recognizer is a precompiled regex that must match the whole value (a cheap prefilter) and, where the kind
has one, a validator (checksums from python-stdnum, numbers from phonenumbers, dates from the standard library).
``recognize`` tries them in order, most specific first, and returns the first that accepts the value, so a PRC
resident ID number is never also counted as a bank card that happens to pass Luhn. Names and addresses live in
``people``; the validators a data map may name for its own recognizers are in ``VALIDATORS``.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

import phonenumbers
from stdnum import damm, iban, imei, luhn, numdb, verhoeff
from stdnum.cn import ric, uscc
from stdnum.iso7064 import mod_11_2, mod_11_10, mod_37_2, mod_37_36, mod_97_10

from privet.datamap.discover import people

PHONE = "user.contact.phone"
EMAIL = "user.contact.email"
NATIONAL_ID = "user.government_id.national_id"
PASSPORT = "user.government_id.passport"
CREDIT_CODE = "user.organisation.business_license"
PAYMENT_CARD = "user.financial.payment_card"
BANK_ACCOUNT = "user.financial.bank_account"
DEVICE_ID = "user.device.device_id"
MAC = "user.device.mac_address"
IP = "user.device.ip_address"
PRECISE_LOCATION = "user.location.precise"
DATE_OF_BIRTH = "user.demographic.date_of_birth"
NAME = "user.name"
ADDRESS = "user.contact.address"


@dataclass(frozen=True)
class Recognizer:
    """One kind of value: a taxonomy category and a name, with a test of one value.

    ``pattern`` must match the whole (stripped) value; ``validator``, when set, must then accept it.
    ``strength`` says how much one match proves: 1.0 for checksummed or unmistakable forms, less for shapes
    that other data can share (names, passports), which need more of the column, or its name, to agree.
    ``starts`` names the kinds of first character a match can have (digit, ASCII letter, Han, other), so
    ``recognize`` skips recognizers that cannot match without running their regex.
    """

    category: str
    name: str
    pattern: re.Pattern[str] | None = field(default=None, compare=False, repr=False)
    validator: Callable[[str], bool] | None = field(default=None, compare=False, repr=False)
    strength: float = field(default=1.0, compare=False)
    starts: str = field(default="dah+", compare=False, repr=False)

    def matches(self, value: str) -> bool:
        """True when the value is of this kind."""
        if self.pattern is not None and self.pattern.fullmatch(value) is None:
            return False
        if self.validator is None:
            return self.pattern is not None
        try:
            return bool(self.validator(value))
        except (ValueError, TypeError, ArithmeticError):
            return False


def _digits(value: str) -> str:
    return value.translate(_SEPARATORS)


_SEPARATORS = str.maketrans("", "", " -.")
_PROVINCES = frozenset(
    [
        "11",
        "12",
        "13",
        "14",
        "15",
        "21",
        "22",
        "23",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "37",
        "41",
        "42",
        "43",
        "44",
        "45",
        "46",
        "50",
        "51",
        "52",
        "53",
        "54",
        "61",
        "62",
        "63",
        "64",
        "65",
        "71",
        "81",
        "82",
        "83",
    ]
)


def _plausible_birth(year: int, month: int, day: int) -> bool:
    try:
        born = date(year, month, day)
    except ValueError:
        return False
    return date(1900, 1, 1) <= born <= date.today()


def prc_resident_id(value: str) -> bool:
    """An 18-character PRC resident identity number: province, a valid birth date and the ISO 7064 check."""
    number = value.upper()
    if len(number) != 18 or number[:2] not in _PROVINCES:
        return False
    if not _plausible_birth(int(number[6:10]), int(number[10:12]), int(number[12:14])):
        return False
    return ric.calc_check_digit(number) == number[-1]


def prc_resident_id_15(value: str) -> bool:
    """The first-generation 15-digit number (no check digit): a known county code and a valid 19yy birth date."""
    if len(value) != 15 or value[:2] not in _PROVINCES or int(value[6:8]) < 10:
        return False
    return _plausible_birth(1900 + int(value[6:8]), int(value[8:10]), int(value[10:12])) and _county(value[:6])


@lru_cache(maxsize=4096)
def _county(code: str) -> bool:
    """A six-digit administrative division code python-stdnum's table knows (at any time)."""
    return any("county" in props for _part, props in numdb.get("cn/loc").info(code))


def _id_shaped(number: str) -> bool:
    """17 or 18 digits with a province and a birth date where a resident ID has them (a mistyped ID, not a card)."""
    return number[:2] in _PROVINCES and _plausible_birth(int(number[6:10]), int(number[10:12]), int(number[12:14]))


_USCC_TYPES = {
    "1": "1239",
    "2": "19",
    "3": "12349",
    "4": "19",
    "5": "1239",
    "6": "129",
    "7": "129",
    "8": "19",
    "9": "123",
    "A": "19",
    "N": "1239",
    "Y": "1",
}


def unified_social_credit_code(value: str) -> bool:
    """A USCC: registering authority and organisation type, a province in the division code, then the check."""
    code = value.upper()
    if code[1] not in _USCC_TYPES.get(code[0], "") or code[2:4] not in _PROVINCES:
        return False
    return uscc.is_valid(code)


def _card(value: str) -> bool:
    number = _digits(value)
    if not 12 <= len(number) <= 19 or not _card_iin(number):
        return False
    if len(number) in (17, 18) and _id_shaped(number):
        return False
    return luhn.is_valid(number)


def _card_iin(number: str) -> bool:
    """Issuer prefixes and lengths of the card schemes (Visa, Mastercard, Amex, UnionPay, JCB, Discover...)."""
    length, two, four = len(number), int(number[:2]), int(number[:4])
    if length == 12:
        return two in (50, 56, 57, 58, 63, 67) or four == 604
    if number[0] == "4":
        return length in (13, 16, 19)
    if 51 <= two <= 55 or 2221 <= four <= 2720:
        return length == 16
    if two in (34, 37):
        return length == 15
    if two in (36, 38, 30):
        return length in (14, 16)
    if four in (2131, 1800):
        return length == 15
    if two in (50, 56, 57, 58, 63, 67) or four == 604:
        return True  # Maestro: 12 to 19 digits
    if two in (35, 62, 65, 60, 64, 81):
        return length >= 16
    return False


def _imei(value: str) -> bool:
    number = _digits(value)
    return len(number) == 15 and number[:2] in _TAC_BODIES and imei.is_valid(number)


_TAC_BODIES = frozenset(
    ("01", "35", "86", "91", "98", "99", "30", "33", "44", "45", "49", "50", "51", "52", "53", "54")
)


def _ip(value: str) -> bool:
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return False
    return not (address.is_unspecified or address.is_loopback)


def _coordinates(value: str) -> bool:
    match = _COORDINATE_PAIR.fullmatch(value)
    if match is None:
        return False
    first, second = float(match["a"]), float(match["b"])
    if value.upper().startswith("POINT"):
        first, second = second, first
    return (abs(first) <= 90 and abs(second) <= 180) or (abs(first) <= 180 and abs(second) <= 90)


_COORDINATE_PAIR = re.compile(
    r"(?:POINT\s*)?\(?\s*(?P<a>[-+]?\d{1,3}\.\d{4,})\s*[, ]\s*(?P<b>[-+]?\d{1,3}\.\d{4,})\s*\)?", re.I
)

_PHONE_SHAPE = re.compile(r"\+?[\d(][\d\s().\-]{6,22}\d(?:\s*(?:x|ext\.?|#|转)\s*\d{1,6})?", re.I)
_BARE_DIGITS = re.compile(r"\d+")


def phone(value: str) -> bool:
    """A telephone number phonenumbers accepts: international (+ or 00), Chinese, or a formatted national one.

    Bare digit strings must be valid numbers (so order numbers and timestamps are not phones); numbers written
    with separators, whose shape is itself evidence, need only be possible numbers of their region.
    """
    digits = sum(ch.isdigit() for ch in value)
    if value.startswith(("+", "00")):
        text = "+" + value[2:] if value.startswith("00") else value
        number = _parse(text, None)
        return (
            number is not None
            and digits >= 8
            and phonenumbers.is_possible_number(number)
            and (phonenumbers.is_valid_number(number) or _formatted(value))
        )
    if digits < 10:
        return False
    bare = _BARE_DIGITS.fullmatch(value) is not None
    lead = value.lstrip("(")
    if lead[:1] == "0" or (lead[:2] in _CN_MOBILE_PREFIXES and digits == 11):
        regions: tuple[str, ...] = ("CN",)
    elif bare and (digits != 10 or value[0] == "1"):
        return False  # a bare US number is ten digits, area code first (never 1): not timestamps, not order numbers
    else:
        regions = ("US", "GB")
    for region in regions:
        number = _parse(value, region)
        if number is None:
            continue
        if phonenumbers.is_valid_number(number):
            return True
        if not bare and region == "US" and phonenumbers.is_possible_number(number) and value[0] in "(23456789":
            return True
    return False


_CN_MOBILE_PREFIXES = frozenset(("13", "14", "15", "16", "17", "18", "19"))


def _formatted(value: str) -> bool:
    return any(ch in value for ch in " -().")


def _parse(value: str, region: str | None) -> phonenumbers.PhoneNumber | None:
    try:
        return phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return None


_ALNUM_18 = re.compile(r"[0-9A-HJ-NP-RTUWXY]{2}\d{6}[0-9A-HJ-NP-RTUWXY]{10}")

BUILTIN: tuple[Recognizer, ...] = (
    Recognizer(
        EMAIL,
        "email",
        re.compile(
            r"[A-Za-z0-9][A-Za-z0-9._%+\-]{0,63}@(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}"
        ),
        starts="da",
    ),
    Recognizer(NATIONAL_ID, "prc_resident_id", re.compile(r"[1-8]\d{16}[\dXx]"), prc_resident_id, starts="d"),
    Recognizer(CREDIT_CODE, "unified_social_credit_code", _ALNUM_18, unified_social_credit_code, starts="da"),
    Recognizer(BANK_ACCOUNT, "iban", re.compile(r"[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}"), iban.is_valid, starts="a"),
    Recognizer(
        MAC,
        "mac_address",
        re.compile(
            r"[0-9A-Fa-f]{2}([:-])(?:[0-9A-Fa-f]{2}\1){4}[0-9A-Fa-f]{2}|[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}"
        ),
        starts="da",
    ),
    Recognizer(
        IP,
        "ip_address",
        re.compile(r"(?:\d{1,3}\.){3}\d{1,3}|(?=[0-9A-Fa-f:.]*:[0-9A-Fa-f]*:)[0-9A-Fa-f:.]{3,45}(?:%\w+)?"),
        _ip,
        starts="da+",
    ),
    Recognizer(PRECISE_LOCATION, "coordinates", _COORDINATE_PAIR, _coordinates, starts="da+"),
    Recognizer(DEVICE_ID, "imei", re.compile(r"\d{2}[ -]?\d{6}[ -]?\d{6}[ -]?\d"), _imei, starts="d"),
    Recognizer(PAYMENT_CARD, "payment_card", re.compile(r"\d{4}(?:[ -]?\d){8,15}"), _card, starts="d"),
    Recognizer(
        NATIONAL_ID, "prc_resident_id_15", re.compile(r"[1-8]\d{14}"), prc_resident_id_15, strength=0.8, starts="d"
    ),
    Recognizer(PHONE, "phone", _PHONE_SHAPE, phone, starts="d+"),
    # the PRC's passport forms; other countries' (one or two letters and 7-8 digits, the shape of many order
    # numbers such as SO20240001) only in a column whose name says passport (classify._HINTED)
    Recognizer(PASSPORT, "passport", re.compile(r"E[A-HJ-NP-Z0-9]\d{7}|[GDSPKHM]\d{8}"), strength=0.6, starts="a"),
    Recognizer(NAME, "chinese_name", people.CHINESE_NAME_SHAPE, people.chinese_name, strength=0.7, starts="h"),
    Recognizer(NAME, "latin_name", people.LATIN_NAME_SHAPE, people.latin_name, strength=0.7, starts="a+"),
    Recognizer(
        ADDRESS, "chinese_address", people.CHINESE_ADDRESS_SHAPE, people.chinese_address, strength=0.8, starts="h"
    ),
    Recognizer(ADDRESS, "latin_address", people.LATIN_ADDRESS_SHAPE, people.latin_address, strength=0.8, starts="da"),
)


Chain = dict[str, tuple[Recognizer, ...]]


def chain(recognizers: tuple[Recognizer, ...]) -> Chain:
    """The recognizers, in order, split by the kind of first character they can match."""
    return {kind: tuple(r for r in recognizers if kind in r.starts) for kind in "dah+"}


def _first(value: str) -> str:
    ch = value[0]
    if ch.isdigit():
        return "d"
    if ch.isascii():
        return "a" if ch.isalpha() else "+"
    return "h" if "\u4e00" <= ch <= "\u9fff" else "+"


def recognize(value: str, recognizers: tuple[Recognizer, ...] | Chain = BUILTIN) -> Recognizer | None:
    """The first recognizer (most specific first) that accepts the stripped value, or None."""
    if not value or len(value) > 200:
        return None
    candidates = (
        _BUILTIN_CHAIN
        if recognizers is BUILTIN
        else recognizers
        if isinstance(recognizers, dict)
        else chain(recognizers)
    )[_first(value)]
    for recognizer in candidates:
        if recognizer.matches(value):
            return recognizer
    return None


_BUILTIN_CHAIN = chain(BUILTIN)

VALIDATORS: dict[str, Callable[[str], bool]] = {
    "luhn": luhn.is_valid,
    "iso7064_mod11_2": mod_11_2.is_valid,
    "iso7064_mod11_10": mod_11_10.is_valid,
    "iso7064_mod37_2": mod_37_2.is_valid,
    "iso7064_mod37_36": mod_37_36.is_valid,
    "iso7064_mod97_10": mod_97_10.is_valid,
    "verhoeff": verhoeff.is_valid,
    "damm": damm.is_valid,
    "imei": imei.is_valid,
    "iban": iban.is_valid,
    "prc_resident_id": prc_resident_id,
    "unified_social_credit_code": unified_social_credit_code,
    "payment_card": _card,
    "phone": phone,
    "ip_address": _ip,
}


def _on_first_group(pattern: re.Pattern[str], check: Callable[[str], bool]) -> Callable[[str], bool]:
    def validate(value: str) -> bool:
        match = pattern.fullmatch(value)
        return match is not None and match.group(1) is not None and check(match.group(1))

    return validate


def custom_recognizer(name: str, category: str, pattern: str, validator: str | None = None) -> Recognizer:
    """A company's own recognizer: a regex the whole value must match and, optionally, a named validator.

    The validator checks the pattern's first group when it has one (``SN-(\\d{15})`` with ``luhn``), else the
    whole value.
    """
    if validator is not None and validator not in VALIDATORS:
        raise ValueError(
            f"custom recognizer {name!r}: unknown validator {validator!r}; use one of {', '.join(sorted(VALIDATORS))}"
        )
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise ValueError(
            f"custom recognizer {name!r}: the pattern is not a valid regular expression ({exc.msg} "
            f"at position {exc.pos}); fix the pattern"
        ) from None
    if compiled.fullmatch("") is not None:
        raise ValueError(
            f"custom recognizer {name!r}: the pattern matches an empty value; make it require at least one character"
        )
    check = VALIDATORS[validator] if validator is not None else None
    if check is not None and compiled.groups:
        check = _on_first_group(compiled, check)
    label = name if name.startswith("custom:") else f"custom:{name}"
    return Recognizer(category, label, compiled, check)
