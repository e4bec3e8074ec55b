"""How an identity field's stored values are compared with the identity a person gives, as SQL every dialect runs.

Company databases store identities the way their applications wrote them: e-mails in upper or mixed case with
stray spaces, phones as `13800138000`, `+86 138-0013-8000`, `(020) 7946 0958` or `0086…`. Each identity field
has a match mode (`schemas.Match`, declared or the identity type's default):
- `exact`: the column equals one of the spellings Privet knows for the value (as given, normalised, and for
  phones their usual formats); a plain index serves it.
- `casefold`: `lower(trim(column))` equals the value lower-cased and trimmed.
- `phone`: the column with spaces, dashes, dots, brackets, slashes and `+` removed equals one of the number's
  digit strings (national, with a trunk 0, with the country code, with 00 and the country code).
The two expression modes are plain SQL (lower, trim, replace) so PostgreSQL, SQLite and MySQL 8 can index them
(`index_statement`); MariaDB cannot index an expression, so there such a lookup reads the table.
- `contains`: the column is free text or JSON (notes an agent wrote, a web form's payload) that mentions one of the
  person's e-mails or phones somewhere: a `LIKE` on the text (lower-cased; for phones with the punctuation removed)
  finds candidates, and `mentions` keeps only rows where the value stands on its own (`bob@x.com` is not in
  `jimbob@x.com`, `13800138000` not in `213800138000`). No index serves it: the table is read in full.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import phonenumbers
from sqlalchemy import column as sql_column
from sqlalchemy import func, literal_column
from sqlalchemy.sql.elements import ColumnElement

from privet.datamap.schemas import Match

PHONE_NOISE = (" ", "-", "(", ")", ".", "/", "+")


def expression(column: ColumnElement, mode: Match | str) -> ColumnElement:
    """The SQL the column's values are compared as."""
    mode = Match(mode)
    if mode == Match.casefold:
        return func.lower(func.trim(column))
    if mode == Match.phone:  # the characters inline, not parameters: an expression index must see the same SQL
        out = column
        for noise in PHONE_NOISE:
            out = func.replace(out, literal_column(f"'{noise}'"), literal_column("''"))
        return out
    return column


def _phone_digits(value: str, region: str) -> set[str]:
    digits = re.sub(r"\D", "", value)
    out = {digits} if digits else set()
    try:
        number = phonenumbers.parse(value, region if len(region) == 2 and region.isalpha() else None)
    except phonenumbers.NumberParseException:
        return out
    national, cc = str(number.national_number), str(number.country_code)
    if number.italian_leading_zero:
        national = "0" * (number.number_of_leading_zeros or 1) + national
    return out | {national, "0" + national, cc + national, "00" + cc + national, cc + "0" + national}


def values(mode: Match | str, given: Iterable[str], *, region: str = "") -> list[str]:
    """The values to compare `expression(column, mode)` with, for a person's identity values of one type."""
    mode = Match(mode)
    out: set[str] = set()
    for raw in given:
        if not isinstance(raw, str) or not raw.strip():
            continue
        if mode == Match.casefold:
            out.add(raw.strip().lower())
        elif mode == Match.phone:
            out |= _phone_digits(raw.strip(), region.upper())
    return sorted(out)


CONTAINS_KINDS = ("email", "phone")  # what a `contains` field is searched for: every such identity of the person
_EMAIL_BEFORE, _EMAIL_AFTER = r"(?<![a-z0-9._%+-])", r"(?![a-z0-9-]|\.[a-z0-9])"
_PHONE_TOKEN = re.compile(r"[+(\d][\d\s\-().\/]{4,}\d")


def needles(kind: str, given: Iterable[str], *, region: str = "") -> set[tuple[str, str]]:
    """(kind, text) to look for in free text: an e-mail lower-cased, a phone as its national digits."""
    out: set[tuple[str, str]] = set()
    for raw in given:
        if not isinstance(raw, str) or not raw.strip():
            continue
        if kind == "email":
            out.add(("email", raw.strip().lower()))
        elif kind == "phone":
            digits = _phone_digits(raw.strip(), region.upper())
            national = min(digits, key=len) if digits else ""
            if len(national) >= 5:
                out.add(("phone", national))
    return out


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def contains_clause(column: ColumnElement, needle: tuple[str, str]) -> ColumnElement:
    """SQL finding rows whose text may mention the needle (candidates: `mentions` decides)."""
    from sqlalchemy import Text, cast

    kind, value = needle
    text = cast(column, Text)
    target = func.lower(text) if kind == "email" else expression(text, Match.phone)
    return target.like(f"%{_escaped(value)}%", escape="\\")


def mentions(text: object, needle: tuple[str, str]) -> bool:
    """Whether free text (or JSON) mentions the needle as a value of its own."""
    if text is None:
        return False
    if not isinstance(text, str):
        import json

        text = json.dumps(text, ensure_ascii=False) if isinstance(text, (dict, list)) else str(text)
    kind, value = needle
    if kind == "email":
        return re.search(_EMAIL_BEFORE + re.escape(value) + _EMAIL_AFTER, text.lower()) is not None
    for token in _PHONE_TOKEN.findall(text):
        digits = re.sub(r"\D", "", token)
        if digits.endswith(value) and digits[: len(digits) - len(value)].lstrip("0") in ("", *_prefixes(digits, value)):
            return True
    return False


def _prefixes(digits: str, national: str) -> tuple[str, ...]:
    """Country codes a number may be written with before its national digits (1 to 3 digits, trunk 0 after)."""
    head = digits[: len(digits) - len(national)].lstrip("0")
    return (
        (head,)
        if 1 <= len(head.rstrip("0")) <= 3
        and phonenumbers.region_code_for_country_code(int(head.rstrip("0") or 0)) != "ZZ"
        else ()
    )


def fold(mode: Match | str, value: object) -> object:
    """`expression` computed in Python on a value read from the database (which of several asks a row answers)."""
    mode = Match(mode)
    if not isinstance(value, str) or mode == Match.exact:
        return value
    if mode == Match.casefold:
        return value.strip(" ").lower()
    for noise in PHONE_NOISE:
        value = value.replace(noise, "")
    return value


def index_statement(table: str, column: str, mode: Match | str, dialect: str) -> str | None:
    """The CREATE INDEX that serves lookups of `table.column` as matched (None: the dialect cannot index it)."""
    from sqlalchemy.dialects import mysql, postgresql, sqlite

    mode = Match(mode)
    if mode == Match.contains:
        return None  # text searched anywhere: no index serves it
    compiler = {
        "postgresql": postgresql.dialect(),  # type: ignore[no-untyped-call]  # psycopg dialect's __init__ is untyped
        "sqlite": sqlite.dialect(),
        "mysql": mysql.dialect(),
        "mariadb": mysql.dialect(),
    }.get(dialect, sqlite.dialect())
    preparer = compiler.identifier_preparer
    short = table.rpartition(".")[2]
    name = preparer.quote(re.sub(r"\W+", "_", f"ix_{short}_{column}_{mode.value}".lower())[:60])
    target = ".".join(preparer.quote(p) for p in table.split("."))
    if mode == Match.exact:
        return f"CREATE INDEX {name} ON {target} ({preparer.quote(column)})"
    if dialect == "mariadb":
        return None
    sql = expression(sql_column(column), mode).compile(dialect=compiler, compile_kwargs={"literal_binds": True})
    return f"CREATE INDEX {name} ON {target} (({sql}))"


_CASTS = re.compile(r"::[a-z ]+(\([0-9]+\))?")


def _normal(text: str) -> str:
    text = _CASTS.sub("", text.lower())
    text = text.replace("both from", "").replace('"', "").replace("`", "")
    return re.sub(r"[\s()]", "", text)


def serves(index_expression: str, column: str, mode: Match | str) -> bool:
    """Whether an expression index (as the database reports it) serves lookups of `column` in `mode`."""
    from sqlalchemy.dialects import postgresql

    wanted = expression(sql_column(column), mode).compile(
        dialect=postgresql.dialect(),  # type: ignore[no-untyped-call]  # psycopg dialect's __init__ is untyped
        compile_kwargs={"literal_binds": True},
    )
    return _normal(str(wanted)) == _normal(index_expression)
