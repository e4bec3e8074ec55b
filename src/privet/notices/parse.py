"""Recognise the numbered sections of a policy written as plain text or Markdown.

Numbering styles: `1.` / `1` / `1.1` / `(1)` / `1)` / `一、` / `（一）` / `Article 3` / `第三条` / `第一章`, and
Markdown headings (`## 1. Title`). A line is a heading only when it reads like a title (short, one phrase, not ending in
`:` or `;`) and continues the numbering of its style (1 opens a level, n+1 follows n), so list items inside a
section and the table of contents at the top are not mistaken for sections.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Literal

Format = Literal["markdown", "text"]
_NOISE = re.compile(r"\{removed[^{}]*\}")  # link placeholders left by web-page scrapers
_CN_DIGITS = "零〇一二三四五六七八九十百"
_EMPHASIS = re.compile(r"^(\*\*|__)(.+?)\1$")
_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*$")
_PATTERNS: list[tuple[str, re.Pattern]] = [  # order matters: the first pattern that matches names the style
    ("decimal", re.compile(r"^(\d{1,3}(?:\.\d{1,3})+)\.?\s+(\S.*)$")),
    ("dot", re.compile(r"^(\d{1,3})[.．](?!\d)\s*(\S.*)$")),
    ("paren", re.compile(r"^[(（](\d{1,3})[)）]\s*(\S.*)$")),
    ("rparen", re.compile(r"^(\d{1,3})[)）]\s*(\S.*)$")),
    ("cn", re.compile(rf"^([{_CN_DIGITS}]+)[、.．]\s*(\S.*)$")),
    ("cnparen", re.compile(rf"^[(（]([{_CN_DIGITS}]+)[)）]\s*(\S.*)$")),
    ("chapter", re.compile(rf"^第([{_CN_DIGITS}\d]+)章\s*(.*)$")),
    ("article", re.compile(rf"^第([{_CN_DIGITS}\d]+)条\s*(.*)$")),
    ("article", re.compile(r"^(?:Article|ARTICLE|Art\.)\s+(\d{1,3})\b[.:]?\s*(.*)$")),
    ("space", re.compile(r"^(\d{1,2})\s+([A-Z\u4e00-\u9fff].*)$")),
]
_LABELS = {"dot": "{}", "space": "{}", "paren": "({})", "rparen": "{})", "cn": "{}", "cnparen": "({})"}


@dataclass(frozen=True)
class Section:
    """One recognised section: `number` is its path (`3`, `3.(2)`), `level` 1 for top-level sections."""

    number: str
    title: str
    text: str
    level: int


@dataclass
class ParsedNotice:
    """A policy's title (when one is recognisable), the text before its first section, and its sections."""

    title: str | None
    sections: list[Section] = field(default_factory=list)
    preamble: str = ""

    def as_dict(self) -> dict:
        """Plain JSON, as stored with a notice version."""
        return {"title": self.title, "preamble": self.preamble, "sections": [asdict(s) for s in self.sections]}


@dataclass
class _Heading:
    style: str
    value: int
    label: str
    title: str
    rest: str = ""  # text after an untitled article number ("第三条 个人信息处理者应当…")


def cn_number(text: str) -> int:
    """`十二` → 12, `二十` → 20, `一百零五` → 105; Arabic digits pass through."""
    if text.isdigit():
        return int(text)
    digits = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"〇": 0}
    total, current = 0, 0
    for char in text:
        if char in digits:
            current = digits[char]
        elif char == "十":
            total += (current or 1) * 10
            current = 0
        elif char == "百":
            total += (current or 1) * 100
            current = 0
    return total + current


def _title_like(title: str) -> bool:
    """Whether text after a number reads as a heading rather than a sentence or a list item."""
    t = title.strip()
    if not t or t[-1] in ":;,：；，、" or t[0].islower():
        return False
    core = t[:-1] if t[-1] in ".。" else t
    if re.search(r"[.;]\s|[。；]", core):  # more than one sentence
        return False
    colon = re.search(r"[:：]", core)
    if colon and len(core) - colon.end() > 30:  # "Label: a sentence explaining it"
        return False
    cjk = sum("\u4e00" <= c <= "\u9fff" for c in core)
    if cjk > len(core) / 2:
        return len(core) <= 40 and "，" not in core
    return len(core) <= 120 and len(core.split()) <= 20


def _heading(line: str) -> _Heading | None:
    """The numbering and title of a line that could be a heading."""
    for style, pattern in _PATTERNS:
        match = pattern.match(line)
        if not match:
            continue
        raw, title = match.group(1), match.group(2).strip()
        if style == "decimal":
            parts = raw.split(".")
            return (
                _Heading(f"decimal{len(parts)}", int(parts[-1]), raw, _clean_title(title))
                if _title_like(title)
                else None
            )
        value = cn_number(raw)
        if style in ("article", "chapter"):
            label = line[: match.start(2)].strip().rstrip(".:")
            if title and not _title_like(title):
                return _Heading(style, value, label, "", title)
            return _Heading(style, value, label, _clean_title(title))
        return _Heading(style, value, _LABELS[style].format(raw), _clean_title(title)) if _title_like(title) else None
    return None


def _clean_title(title: str) -> str:
    return title[:-1].rstrip() if title.endswith((".", "。")) and not title.endswith("..") else title


def _lines(text: str) -> tuple[list[str], set[int]]:
    """Stripped lines with scraper noise removed, and the indexes of lines that carried such noise."""
    lines, noisy = [], set()
    for i, raw in enumerate(text.replace("\ufeff", "").replace("\r\n", "\n").replace("\r", "\n").split("\n")):
        if _NOISE.search(raw):
            noisy.add(i)
        line = re.sub(r"[ \t\u3000]+", " ", _NOISE.sub("", raw)).strip()
        emphasis = _EMPHASIS.match(line)
        lines.append(emphasis.group(2).strip() if emphasis else line)
    return lines, noisy


def _toc(lines: list[str], heads: dict[int, _Heading]) -> set[int]:
    """Lines of a table of contents: ≥ 3 adjacent headings numbered from 1 whose first number comes again."""
    order = [i for i in range(len(lines)) if lines[i]]
    position = {i: n for n, i in enumerate(order)}
    for start in (i for i in order if i in heads and heads[i].value == 1):
        run, style = [start], heads[start].style
        n = position[start] + 1
        while (
            n < len(order)
            and order[n] in heads
            and heads[order[n]].style == style
            and heads[order[n]].value == heads[run[-1]].value + 1
        ):
            run.append(order[n])
            n += 1
        again = any(i in heads and heads[i].style == style and heads[i].value == 1 for i in order[n:])
        if len(run) >= 3 and again:
            return set(run)
    return set()


def _outline(lines: list[str], heads: dict[int, _Heading], skip: set[int]) -> dict[int, tuple[str, int, _Heading]]:
    """Accepted headings by line: (number path, level, heading), following each style's numbering."""
    stack: list[tuple[_Heading, str]] = []  # (heading, its number path)
    accepted = {}
    for i in sorted(set(heads) - skip):
        head = heads[i]
        depth = next((d for d, (h, _) in enumerate(stack) if h.style == head.style), None)
        if depth is not None:
            if head.value != stack[depth][0].value + 1:
                continue  # a list item restarting or skipping numbers: body text
            del stack[depth:]
        elif head.value != 1 or len(stack) >= 4:
            continue
        parent = stack[-1][1] if stack else ""
        number = head.label if not parent or head.label.startswith(parent + ".") else f"{parent}.{head.label}"
        stack.append((head, number))
        accepted[i] = (number, len(stack), head)
    return accepted


def _chrome(line: str, noisy: bool) -> bool:
    """Web-page furniture scraped after the policy: `Shopping Cart.`, link rows."""
    words = line.split()
    if noisy:
        return len(words) <= 12
    # a few Title-Case words ("Shopping Cart."): a menu label, not a sentence of the policy
    return len(words) <= 4 and all(re.match(r"^[A-Z][A-Za-z'&-]*[.!]?$", w) for w in words)


def _title(preamble: list[tuple[str, bool]], skip: set[int]) -> int | None:
    """The line of the document's title: the first short, clean line before the sections (if any)."""
    for i, (line, noisy) in enumerate(preamble):
        if (
            i not in skip
            and line
            and not noisy
            and len(line) <= 80
            and len(line.split()) <= 10
            and line[-1] not in ":："
            and (line[-1] != "." or _title_case(line))
        ):
            return i
    return None


def _title_case(line: str) -> bool:
    """`PRIVACY PROTECTION POLICY.` or `Home Privacy Policy.`, not `We use cookies.`: a title, not a sentence."""
    words = [w for w in line.split() if w[:1].isalpha()]
    return bool(words) and sum(w[0].isupper() for w in words) >= 0.75 * len(words)


def _parse_text(text: str) -> ParsedNotice:
    lines, noisy = _lines(text)
    heads = {i: h for i, line in enumerate(lines) if line and (h := _heading(line))}
    toc = _toc(lines, heads)
    accepted = _outline(lines, heads, toc)
    starts = sorted(accepted)
    first = starts[0] if starts else len(lines)
    preamble = [(lines[i], i in noisy) for i in range(first)]
    title_at = _title(preamble, toc)
    title = _clean_title(lines[title_at]) if title_at is not None else None
    bodies = []
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(lines)
        body = [i for i in range(start + 1, end) if lines[i]]
        if n + 1 == len(starts):
            while len(body) > 1 and _chrome(lines[body[-1]], body[-1] in noisy):
                body.pop()
        head = accepted[start][2]
        bodies.append(([head.rest] if head.rest else []) + [lines[i] for i in body])
    sections = [
        Section(number, head.title, "\n".join(body), level)
        for (number, level, head), body in zip((accepted[s] for s in starts), bodies, strict=True)
    ]
    return ParsedNotice(
        title, sections, "\n".join(line for i, (line, _) in enumerate(preamble) if line and i != title_at)
    )


def _parse_markdown(text: str) -> ParsedNotice | None:
    """Sections from `#` headings; None when there are none (then the text rules apply)."""
    lines = text.replace("\ufeff", "").replace("\r\n", "\n").split("\n")
    found = [
        (i, len(m.group(1)), m.group(2).strip())
        for i, line in enumerate(lines)
        if (m := _MD_HEADING.match(line.strip()))
    ]
    if not found:
        return None
    title = None
    if found[0][1] == 1 and sum(depth == 1 for _, depth, _ in found) == 1 and len(found) > 1:
        title = _EMPHASIS.sub(r"\2", found[0][2])
        found = found[1:]
    top = min(depth for _, depth, _ in found)
    sections: list[Section] = []
    path: dict[int, str] = {}
    for n, (i, depth, raw) in enumerate(found):
        raw = _EMPHASIS.sub(r"\2", raw)
        head = _heading(raw) or _loose_heading(raw)
        level = depth - top + 1
        path = {d: p for d, p in path.items() if d < level}
        parent = path.get(level - 1, "") if head.label else ""
        number = (
            ""
            if not head.label
            else head.label
            if not parent or head.label.startswith(parent + ".")
            else f"{parent}.{head.label}"
        )
        path[level] = number
        end = found[n + 1][0] if n + 1 < len(found) else len(lines)
        body = "\n".join(line.strip() for line in lines[i + 1 : end] if line.strip())
        sections.append(Section(number, head.title or raw, body, level))
    first = found[0][0]
    preamble = "\n".join(line.strip() for line in lines[:first] if line.strip() and not _MD_HEADING.match(line))
    return ParsedNotice(title, sections, preamble)


def _loose_heading(raw: str) -> _Heading:
    """A Markdown heading is a heading whatever it says: take a leading number if any, else none."""
    for style, pattern in _PATTERNS:
        match = pattern.match(raw)
        if match and not style.startswith("article") and style != "chapter":
            label = match.group(1) if style in ("decimal", "space") else _LABELS[style].format(match.group(1))
            return _Heading(style, 0, label, _clean_title(match.group(2).strip()))
    return _Heading("plain", 0, "", _clean_title(raw))


def detect_format(text: str) -> Format:
    """`markdown` when the text has `#` headings, else `text`."""
    return "markdown" if any(_MD_HEADING.match(line.strip()) for line in text.splitlines()) else "text"


def parse(text: str, *, fmt: Format | None = None) -> ParsedNotice:
    """Split a policy into its title, preamble and numbered sections."""
    if (fmt or detect_format(text)) == "markdown":
        parsed = _parse_markdown(text)
        if parsed is not None:
            return parsed
    return _parse_text(text)
