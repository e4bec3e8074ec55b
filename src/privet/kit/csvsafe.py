"""Cells of CSV files people open in spreadsheets: text a spreadsheet would run as a formula is neutralised.

A cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return is a formula to Excel, LibreOffice and Google
Sheets (`=HYPERLINK(...)` exfiltrates, `=cmd|...` runs). Such text gets a leading apostrophe, which spreadsheets show
as text; plain numbers (`+86 138…`, `-12.5`) stay as they are.
"""

from __future__ import annotations

import re

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?[\d\s().]+$")


def safe_text(text: str) -> str:
    """`text` as a spreadsheet shows it, never runs it."""
    if text.startswith(FORMULA_START) and not _NUMBER.match(text):
        return "'" + text
    return text
