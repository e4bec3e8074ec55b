"""Classify a sampled column: which taxonomy category its values hold.

Values decide: every non-empty value is given to the single-value recognizers (custom ones first), and the
category that most values match becomes the column's when enough of them do (a third for checksummed or
unmistakable kinds, half for names, passports and addresses, less when the column's name agrees). The column's
name and SQL type only move the confidence, and unlock two kinds that values alone cannot prove: bare 9-digit
passport numbers and single latitude/longitude columns. Dates are dates of birth when they spread over decades
of plausible birth years, or when the name says so. Prose is searched for embedded identifiers; JSON documents
are walked key by key. A verdict carries categories, shares and counts, never a value.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from privet.datamap.discover import hints
from privet.datamap.discover import recognizers as rec
from privet.datamap.discover.recognizers import VALIDATORS, Recognizer, custom_recognizer, recognize
from privet.datamap.discover.text import (
    InvalidDocument,
    as_document,
    embedded_categories,
    leaves,
    looks_like_json,
    looks_like_text,
)

__all__ = ["VALIDATORS", "ColumnVerdict", "Recognizer", "classify_column", "custom_recognizer"]

MAX_JSON_PATHS = 200
_HINTED: dict[str, Recognizer] = {
    rec.PASSPORT: Recognizer(rec.PASSPORT, "passport_other", re.compile(r"\d{9}|[A-Z]{1,2}\d{7,8}"), strength=0.6),
    rec.PRECISE_LOCATION: Recognizer(
        rec.PRECISE_LOCATION,
        "latitude_or_longitude",
        re.compile(r"[-+]?(?:1[0-7]\d|\d{1,2})\.\d{4,}|[-+]?180\.0{4,}"),
        strength=0.8,
    ),
}


@dataclass
class ColumnVerdict:
    """What a sampled column holds; categories, shares and counts only."""

    category: str | None
    share: float
    confidence: float
    sampled: int
    embedded: dict[str, float] = field(default_factory=dict)
    json_keys: dict[str, str] = field(default_factory=dict)
    skipped: str | None = None


def classify_column(
    values: Sequence[object], *, name: str = "", sql_type: str = "", custom: Sequence[Recognizer] = ()
) -> ColumnVerdict:
    """The category a column's sampled values hold, with the share that matched and a confidence."""
    present = [value for value in values if value is not None and not (isinstance(value, str) and not value.strip())]
    sampled = len(present)
    if not sampled:
        return _skipped(0, "no non-empty values in the sample")
    binary = sum(1 for value in present if _is_binary(value))
    if binary * 2 > sampled or (binary and hints.binary_type(sql_type)):
        return _skipped(sampled, f"binary data ({binary} of {sampled} sampled values)")
    if hints.json_type(sql_type) or sum(1 for value in present if looks_like_json(value)) * 2 > sampled:
        return _classify_json(present, tuple(custom))
    hint = hints.name_hint(name) or hints.type_hint(sql_type)
    dates = _dates(present, hint == rec.DATE_OF_BIRTH)
    if len(dates) * 5 >= sampled * 4:
        return _classify_dates(dates, sampled, hint, name)
    return _classify_values([_as_text(value) for value in present], hint, tuple(custom))


def _classify_values(texts: list[str], hint: str | None, custom: tuple[Recognizer, ...]) -> ColumnVerdict:
    sampled = len(texts)
    chain = rec.chain(custom + ((_HINTED[hint],) if hint in _HINTED else ()) + rec.BUILTIN)
    counts: Counter[str] = Counter()
    strength: dict[str, float] = {}
    embedded: Counter[str] = Counter()
    for text in texts:
        found = recognize(text, chain)
        if found is not None:
            counts[found.category] += 1
            strength[found.category] = max(strength.get(found.category, 0.0), found.strength)
        elif looks_like_text(text):
            embedded.update(embedded_categories(text, custom))
    embedded_shares = {category: round(count / sampled, 4) for category, count in embedded.most_common()}
    if counts:
        category, count = counts.most_common(1)[0]
        share = count / sampled
        weight = strength[category]
        needed = (0.3 if weight >= 0.9 else 0.5) / (3 if hint == category else 1)
        if share >= needed:
            return ColumnVerdict(
                category, round(share, 4), _confidence(share, weight, hint, category, sampled), sampled, embedded_shares
            )
    if embedded:
        category, count = embedded.most_common(1)[0]
        share = count / sampled
        return ColumnVerdict(
            category, round(share, 4), _confidence(share, 0.7, hint, category, sampled), sampled, embedded_shares
        )
    return ColumnVerdict(None, 0.0, 0.0, sampled, embedded_shares)


def _confidence(share: float, weight: float, hint: str | None, category: str, sampled: int) -> float:
    """Values first (share and how much one match proves), the name +/-, and small samples count for less."""
    score = weight * (0.5 + 0.4 * share)
    if hint == category:
        score += 0.1
    elif hint is not None:
        score -= 0.1
    score *= min(1.0, (sampled + 10) / 30)
    return round(max(0.0, min(1.0, score)), 2)


_DATE_TEXT = re.compile(
    r"(?P<y>(?:18|19|20)\d\d)(?P<sep>[-/.年])(?P<m>\d{1,2})(?P=sep)?[月]?(?P<d>\d{1,2})日?"
    r"(?:[ T](?P<time>\d\d:\d\d(?::\d\d(?:\.\d+)?)?)(?:Z|[+-]\d\d:?\d\d)?)?"
    r"|(?P<d2>\d{1,2})[/.](?P<m2>\d{1,2})[/.](?P<y2>(?:18|19|20)\d\d)"
)
_COMPACT_DATE = re.compile(r"(?P<y>(?:19|20)\d\d)(?P<m>\d\d)(?P<d>\d\d)")


def _dates(values: list[object], compact: bool) -> list[tuple[date, bool]]:
    """(date, has a time of day) for every value that is a date; 20240131 only when the name says birth."""
    found: list[tuple[date, bool]] = []
    for value in values:
        parsed = _date(value, compact)
        if parsed is not None:
            found.append(parsed)
    return found


def _date(value: object, compact: bool) -> tuple[date, bool] | None:
    if isinstance(value, datetime):
        return value.date(), (value.hour, value.minute, value.second) != (0, 0, 0)
    if isinstance(value, date):
        return value, False
    if not isinstance(value, str) or len(value) > 40:
        return None
    text = value.strip()
    match = _DATE_TEXT.fullmatch(text) or (_COMPACT_DATE.fullmatch(text) if compact else None)
    if match is None:
        return None
    parts = match.groupdict()
    year, month, day = (
        (parts["y"], parts["m"], parts["d"]) if parts.get("y") else (parts["y2"], parts["m2"], parts["d2"])
    )
    try:
        day_of = date(int(year), int(month), int(day))
    except ValueError:
        return None
    timed = parts.get("time") not in (None, "00:00", "00:00:00")
    return day_of, timed


def _classify_dates(dates: list[tuple[date, bool]], sampled: int, hint: str | None, name: str) -> ColumnVerdict:
    """Dates of birth: plausible birth dates, no time of day, and either the name says so or they span decades."""
    today = date.today()
    births = [day for day, timed in dates if not timed and date(1900, 1, 1) <= day <= today]
    share = len(births) / sampled
    if share < 0.8:
        return ColumnVerdict(None, 0.0, 0.0, sampled)
    years = sorted(day.year for day in births)
    decile = max(1, len(years) // 10)
    spread = years[-decile] - years[decile - 1] if len(years) >= 5 else 0
    median_age = today.year - statistics.median(years)
    by_values = spread >= 15 and 3 <= median_age <= 100
    if hint == rec.DATE_OF_BIRTH or (by_values and not hints.is_date_name(name)):
        weight = 0.95 if by_values else 0.75
        return ColumnVerdict(
            rec.DATE_OF_BIRTH,
            round(share, 4),
            _confidence(share, weight if hint else 0.6, hint, rec.DATE_OF_BIRTH, sampled),
            sampled,
        )
    return ColumnVerdict(None, 0.0, 0.0, sampled)


def _classify_json(present: list[object], custom: tuple[Recognizer, ...]) -> ColumnVerdict:
    """Which key paths of the documents hold which category; broken documents are counted, never shown."""
    sampled = len(present)
    documents, invalid = [], 0
    for value in present:
        try:
            documents.append(as_document(value))
        except InvalidDocument:
            invalid += 1
    if invalid * 2 > sampled:
        return _skipped(sampled, f"{invalid} of {sampled} sampled values are not valid JSON documents")
    paths: dict[str, list[object]] = defaultdict(list)
    coverage: Counter[str] = Counter()
    for document in documents:
        seen = set()
        for path, leaf in leaves(document):
            if path in paths or len(paths) < MAX_JSON_PATHS:
                paths[path].append(leaf)
                seen.add(path)
        coverage.update(seen)
    json_keys: dict[str, str] = {}
    best: tuple[float, str | None, float] = (0.0, None, 0.0)
    for path, items in paths.items():
        key = path.rsplit(".", 1)[-1].replace("[]", "")
        verdict = classify_column(items, name=key, custom=custom)
        if verdict.category is None:
            continue
        json_keys[path] = verdict.category
        score = verdict.share * coverage[path] / len(documents)
        if score > best[0]:
            best = (score, verdict.category, verdict.confidence)
    score, category, confidence = best
    return ColumnVerdict(category, round(score, 4), confidence, sampled, json_keys=json_keys)


def _skipped(sampled: int, reason: str) -> ColumnVerdict:
    return ColumnVerdict(None, 0.0, 0.0, sampled, skipped=reason)


def _is_binary(value: object) -> bool:
    if not isinstance(value, bytes | bytearray | memoryview):
        return False
    try:
        text = bytes(value).decode("utf-8")
    except UnicodeDecodeError:
        return True
    return any(ord(ch) < 32 and ch not in "\t\n\r" for ch in text)


def _as_text(value: object) -> str:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8").strip()
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value).strip()
