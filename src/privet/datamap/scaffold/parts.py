"""Which part of a structured value each column holds, where a table keeps one value in several columns.

A table with `street`, `city` and `postcode` columns of the address category must not get a whole corrected
address written into each: each column is drafted with its `part:`, so a correction sets each column to its part.
The guesses are data, tried in order on the snake_case column name; a part already taken in the table is not
given twice (the column is left without a part and noted for review).
"""

from __future__ import annotations

import re

from privet.datamap.scaffold.guesses import snake

# (category the column must have or be beneath, regex on whole `_`-separated words, part)
PARTS: list[tuple[str, str, str]] = [
    ("user.contact.address", r"post_?code|zip(_?code)?|postal(_?code)?|youbian", "postcode"),
    ("user.contact.address", r"city|town|chengshi", "city"),
    ("user.contact.address", r"district|county|suburb|quxian", "district"),
    ("user.contact.address", r"province|state|region|shengfen", "province"),
    ("user.contact.address", r"country|guojia", "country"),
    ("user.contact.address", r"(address|addr|street)_?(line)?_?2|address2", "line2"),
    ("user.contact.address", r"(address|addr|street)_?(line)?_?1?|address1|line1|dizhi", "line1"),
    ("user.name", r"(first|given)_?name|ming", "given"),
    ("user.name", r"(last|family|sur)_?name|surname|xing", "family"),
]
_COMPILED = [(category, re.compile(rf"(?:^|_)(?:{rx})(?:_|$)"), part) for category, rx, part in PARTS]


def _within(category: str | None, root: str) -> bool:
    if not category:
        return False
    return category == root or category.startswith(root + ".")


def assign_parts(fields: list[dict]) -> None:
    """Give `part:` to the fields of a table that hold one value of a category in several columns (a correction
    names one category, so only columns of the very same category share a value)."""
    for category in dict.fromkeys(f.get("category") for f in fields if f.get("category")):
        root = next((c for c, _rx, _part in PARTS if _within(category, c)), None)
        mine = [f for f in fields if f.get("category") == category and "references" not in f]
        if root is None or len(mine) < 2:
            continue  # one column holds the whole value
        taken: set[str] = set()
        for field in mine:
            column = snake(field["name"])
            part = next((p for c, rx, p in _COMPILED if c == root and rx.search(column)), None)
            if part is None or part in taken:
                note = (
                    "review: which part of the value this column holds (`part:`), or a correction writes the "
                    "whole value into it"
                )
                field["description"] = f"{field['description']}; {note}" if field.get("description") else note
                continue
            taken.add(part)
            field["part"] = part
