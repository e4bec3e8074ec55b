"""Section-level differences between two notice versions, and a plain-language summary of a version."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any, Literal

from privet.kit.errors import InvalidInput
from privet.notices.words import Op, word_diff

Change = Literal["added", "removed", "changed", "unchanged"]
_TITLE_MATCH = 0.6  # titles at least this similar are the same section renumbered
PREAMBLE = "Preamble"


@dataclass(frozen=True)
class SectionChange:
    """How one section changed between two versions; `ratio` is text similarity (1.0 = identical)."""

    number: str
    title: str
    change: Change
    ratio: float
    unified: str
    words: tuple[tuple[Op, str], ...] = ()  # word-level runs (privet.notices.words): ("=" | "-" | "+", text)


def _sections(version: Any, lang: str) -> list[dict] | None:
    variant = (version.content or {}).get(lang) if version is not None else None
    if variant is None:
        return None
    found = list(variant.get("sections") or [])
    if variant.get("preamble"):
        found.insert(0, {"number": "", "title": PREAMBLE, "text": variant["preamble"], "level": 0})
    return found


def _lines(section: dict) -> list[str]:
    return [section["title"], *section["text"].split("\n")] if section["text"] else [section["title"]]


def _similar(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a.lower(), b.lower()).ratio()


def _match(old: list[dict], new: list[dict]) -> dict[int, int]:
    """new index → old index: the same number with a similar title or text first (the preamble with the
    preamble), then the most similar title under any number (a section renumbered)."""
    pairs: dict[int, int] = {}
    by_number = {(s["number"], s["number"] or s["title"]): i for i, s in enumerate(old)}
    for j, s in enumerate(new):
        i = by_number.get((s["number"], s["number"] or s["title"]))
        if i is not None and (
            _similar(old[i]["title"], s["title"]) >= _TITLE_MATCH or _similar(old[i]["text"], s["text"]) >= _TITLE_MATCH
        ):
            pairs[j] = i
    free = [i for i in range(len(old)) if i not in pairs.values()]
    for j in (j for j in range(len(new)) if j not in pairs):
        best = max(((_similar(old[i]["title"], new[j]["title"]), i) for i in free), default=(0.0, -1))
        if best[0] >= _TITLE_MATCH:
            pairs[j] = best[1]
            free.remove(best[1])
    return pairs


def _unified(a: list[str], b: list[str], label_a: str, label_b: str) -> str:
    return "\n".join(difflib.unified_diff(a, b, fromfile=label_a, tofile=label_b, lineterm=""))


def section_diff(a: Any, b: Any, lang: str = "en") -> list[SectionChange]:
    """Compare version `a` with version `b` section by section, in `b`'s order (removed ones where they were)."""
    old, new = _sections(a, lang), _sections(b, lang)
    if old is None and new is None:
        raise InvalidInput(f"Neither version has a {lang!r} text", "choose a language both versions were published in")
    old, new = old or [], new or []
    va, vb = getattr(a, "version", "?"), getattr(b, "version", "?")
    pairs = _match(old, new)
    out: list[tuple[float, SectionChange]] = []  # (position in a merged order, change)
    for j, s in enumerate(new):
        label = s["number"] or s["title"]
        if j not in pairs:
            out.append(
                (
                    j,
                    SectionChange(
                        s["number"],
                        s["title"],
                        "added",
                        0.0,
                        _unified([], _lines(s), f"v{va}", f"v{vb} {label}"),
                        (("+", "\n".join(_lines(s))),),
                    ),
                )
            )
            continue
        prev = old[pairs[j]]
        a_lines, b_lines = _lines(prev), _lines(s)
        ratio = round(difflib.SequenceMatcher(None, "\n".join(a_lines), "\n".join(b_lines)).ratio(), 4)
        change: Change = "unchanged" if a_lines == b_lines else "changed"
        out.append(
            (
                j,
                SectionChange(
                    s["number"],
                    s["title"],
                    change,
                    1.0 if change == "unchanged" else ratio,
                    _unified(a_lines, b_lines, f"v{va} {prev['number'] or prev['title']}", f"v{vb} {label}"),
                    tuple(word_diff("\n".join(a_lines), "\n".join(b_lines))),
                ),
            )
        )
    matched_old = {i: j for j, i in pairs.items()}
    for i, s in enumerate(old):
        if i in matched_old:
            continue
        before = [matched_old[k] for k in range(i) if k in matched_old]
        position = (max(before) if before else -1) + 0.5 + i / 10_000  # after its predecessor's new place
        out.append(
            (
                position,
                SectionChange(
                    s["number"],
                    s["title"],
                    "removed",
                    0.0,
                    _unified(_lines(s), [], f"v{va} {s['number'] or s['title']}", f"v{vb}"),
                    (("-", "\n".join(_lines(s))),),
                ),
            )
        )
    return [change for _, change in sorted(out, key=lambda pair: pair[0])]


def sections_summary(changes: list[SectionChange]) -> dict[str, list[str]]:
    """Numbers (or titles) of the sections added, removed and changed: stored with each version."""
    return {
        kind: [c.number or c.title for c in changes if c.change == kind] for kind in ("added", "removed", "changed")
    }


_WORDS = {
    "en": {
        "section": "Section {}",
        "added": "{} added",
        "removed": "{} removed",
        "changed": "{} changed",
        "material": "{} (material: {})",
        "none": "No section changed",
        "sep": ", ",
        "first": "First version",
    },
    "zh_CN": {
        "section": "第{}节",
        "added": "新增{}",
        "removed": "删除{}",
        "changed": "{}已修改",
        "material": "{}（重大变更：{}）",
        "none": "各节均未修改",
        "sep": "、",
        "first": "首个版本",
    },
}
REASONS = {
    "en": {
        "purpose_added": "purpose added",
        "purpose_added_to_notice": "purpose added to this notice",
        "categories_widened": "categories widened",
        "recipients_widened": "recipients widened",
        "processors_widened": "processors widened",
        "transfers_widened": "transfers widened",
        "marked": "marked material (e.g. a right reduced)",
    },
    "zh_CN": {
        "purpose_added": "新增处理目的",
        "purpose_added_to_notice": "本声明新增该目的",
        "categories_widened": "个人信息类别扩大",
        "recipients_widened": "接收方扩大",
        "processors_widened": "受托处理者扩大",
        "transfers_widened": "跨境传输扩大",
        "marked": "标记为重大变更（如权利缩减）",
    },
}


def _label(name: str, lang: str) -> str:
    if name == PREAMBLE:
        return "前言" if lang == "zh_CN" else PREAMBLE
    return _WORDS[lang]["section"].format(name)


def summary(
    changes: list[SectionChange] | dict[str, list[str]] | None,
    material: dict[str, list[dict]],
    lang: str = "en",
    names: dict[str, str] | None = None,
) -> list[str]:
    """Plain-language lines: `Section 3 changed`, `marketing (material: categories widened)`; en or zh_CN."""
    words, reasons = _WORDS.get(lang, _WORDS["en"]), REASONS.get(lang, REASONS["en"])
    lines: list[str] = []
    if changes is None:
        lines.append(words["first"])
    else:
        kinds = changes if isinstance(changes, dict) else sections_summary(changes)
        for kind in ("changed", "added", "removed"):
            lines += [words[kind].format(_label(name, lang)) for name in kinds.get(kind, [])]
        if not lines:
            lines.append(words["none"])
    for purpose in sorted(material):
        codes = [r.get("code", "") for r in material[purpose]]
        why = words["sep"].join(dict.fromkeys(reasons.get(code, code) for code in codes))
        lines.append(words["material"].format((names or {}).get(purpose, purpose), why))
    return lines


def version_summary(version: Any, lang: str = "en", names: dict[str, str] | None = None) -> list[str]:
    """The stored summary of a published version in plain language (what changed from the version before)."""
    stored = version.change_summary or {}
    sections = stored.get("sections", {})
    changes: dict[str, list[str]] | None = (
        None if stored.get("previous_version") is None else sections.get(lang) or next(iter(sections.values()), {})
    )  # a language this version lacks: another one
    return summary(changes, stored.get("material", {}), lang, names)
