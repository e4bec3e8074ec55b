"""Classify a sampled column: which taxonomy category its values hold (interface first, bodies follow)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

VALIDATORS: dict[str, Callable[[str], bool]] = {}


@dataclass(frozen=True)
class Recognizer:
    """One kind of value: a taxonomy category and a name, with a test of one value."""

    category: str
    name: str
    pattern: re.Pattern[str] | None = field(default=None, compare=False, repr=False)
    validator: Callable[[str], bool] | None = field(default=None, compare=False, repr=False)

    def matches(self, value: str) -> bool:
        if self.pattern is not None and not self.pattern.fullmatch(value):
            return False
        return self.validator(value) if self.validator is not None else self.pattern is not None


def custom_recognizer(name: str, category: str, pattern: str, validator: str | None = None) -> Recognizer:
    raise NotImplementedError


@dataclass
class ColumnVerdict:
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
    return ColumnVerdict(category=None, share=0.0, confidence=0.0, sampled=0)
