"""Personal data inside free text and JSON documents.

Free text: one precompiled regex finds the candidate substrings (e-mail addresses, digit runs, grouped numbers,
international numbers, MAC and IP addresses, coordinate pairs, IBANs, passport numbers after the word
"passport"/护照), each then checked by the single-value recognizers; names and addresses inside prose are not
looked for (their shapes are too common in ordinary text). JSON: documents (dicts and lists, or strings holding
JSON) are walked into key paths ("contact.email", "phones[]") whose leaf values are classified like a column.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import orjson

from privet.datamap.discover.recognizers import ADDRESS, BUILTIN, NAME, PASSPORT, Recognizer, chain, recognize

_EDGE_L = r"(?<![0-9A-Za-z_.@+\-])"
_EDGE_R = r"(?![0-9A-Za-z_@])"
_CANDIDATES = re.compile(
    "|".join(
        (
            r"(?P<email>[A-Za-z0-9][A-Za-z0-9._%+\-]{0,63}@(?:[A-Za-z0-9\-]+\.)+[A-Za-z]{2,24})",
            r"(?P<mac>(?<![0-9A-Fa-f:])[0-9A-Fa-f]{2}(?P<sep>[:-])(?:[0-9A-Fa-f]{2}(?P=sep)){4}[0-9A-Fa-f]{2}(?![0-9A-Fa-f:]))",
            _EDGE_L + r"(?P<coordinates>[-+]?\d{1,3}\.\d{4,}, ?[-+]?\d{1,3}\.\d{4,})" + _EDGE_R,
            _EDGE_L + r"(?P<ipv4>(?:\d{1,3}\.){3}\d{1,3})(?![\d.]*\d)",
            r"(?P<ipv6>(?<![0-9A-Fa-f:])(?:[0-9A-Fa-f]{1,4}:){2,7}[0-9A-Fa-f]{1,4}(?![0-9A-Fa-f:]))",
            _EDGE_L + r"(?P<international>(?:\+|00)\d{1,3}(?:[ \-]?\(?\d{1,4}\)?){2,5}\d)" + _EDGE_R,
            _EDGE_L + r"(?P<iban>[A-Z]{2}\d{2}[A-Z0-9]{11,30})" + _EDGE_R,
            _EDGE_L + r"(?P<code>[0-9A-HJ-NP-RTUWXY]{2}\d{6}[0-9A-HJ-NP-RTUWXY]{10})" + _EDGE_R,
            _EDGE_L
            + r"(?P<grouped>\d{4}(?:[ \-]\d{4}){2,3}(?:[ \-]\d{1,3})?|\(?\d{3,4}\)?[ \-.]?\d{3,4}[\-. ]\d{4})"
            + _EDGE_R,
            _EDGE_L + r"(?P<digits>\d{10,19}[Xx]?)" + _EDGE_R,
            r"(?:护照|passport)(?:号码?|\s*(?:no\.?|number|#))?\s*[:：]?\s*(?P<passport>[A-Z]{1,2}\d{7,8})" + _EDGE_R,
        )
    ),
    re.I,
)
TEXT_RECOGNIZERS: tuple[Recognizer, ...] = tuple(r for r in BUILTIN if r.category not in (NAME, ADDRESS, PASSPORT))
_TEXT_CHAIN = chain(TEXT_RECOGNIZERS)


def embedded_categories(text: str, custom: tuple[Recognizer, ...] = ()) -> set[str]:
    """The categories of the identifiers written inside a piece of free text."""
    found: set[str] = set()
    for match in _CANDIDATES.finditer(text):
        kind = match.lastgroup
        candidate = match.group(kind) if kind else match.group(0)
        if kind == "passport":  # after the word passport/护照, the shape is enough
            found.add(PASSPORT)
            continue
        recognizer = recognize(candidate, chain(custom + TEXT_RECOGNIZERS) if custom else _TEXT_CHAIN)
        if recognizer is not None:
            found.add(recognizer.category)
    if custom:
        found.update(r.category for r in custom for word in text.split() if r.matches(word.strip(".,;:()")))
    return found


def looks_like_text(value: str) -> bool:
    """Prose rather than one value: long, or several words."""
    return len(value) > 40 or value.count(" ") >= 3 or (len(value) > 12 and not value.isascii())


class InvalidDocument(Exception):
    """A value of a JSON column that is not a JSON document (the value itself is never carried)."""


def as_document(value: object) -> Any:
    """A dict or list as is; a string parsed as JSON; anything else, or broken JSON, raises InvalidDocument."""
    if isinstance(value, dict | list):
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        value = bytes(value).decode("utf-8", "replace")
    if isinstance(value, str):
        try:
            document = orjson.loads(value)
        except orjson.JSONDecodeError:
            raise InvalidDocument from None
        if isinstance(document, dict | list):
            return document
    raise InvalidDocument


def looks_like_json(value: object) -> bool:
    """A document, or a string that opens like one."""
    if isinstance(value, dict | list):
        return True
    return isinstance(value, str) and value.lstrip()[:1] in ("{", "[")


def leaves(document: Any, path: str = "") -> Iterator[tuple[str, object]]:
    """(key path, scalar) pairs of a document; list items share their list's path with "[]" appended."""
    if isinstance(document, dict):
        for key, item in document.items():
            yield from leaves(item, f"{path}.{key}" if path else str(key))
    elif isinstance(document, list):
        for item in document:
            yield from leaves(item, f"{path}[]")
    elif document is not None:
        yield path, document
