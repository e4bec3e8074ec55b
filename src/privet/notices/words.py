"""Word-level differences between two texts of a policy section: which words went and which came.

English (and any spaced script) is compared word by word; Chinese, written without spaces, character by
character, so that a change shows as the run of characters that changed. Shown as `[-old-]{+new+}` on the
command line and as escaped `<del>`/`<ins>` in HTML.
"""

from __future__ import annotations

import difflib
import re
from html import escape
from typing import Literal

Op = Literal["=", "-", "+"]
# one CJK character (ideographs, kana, hangul, CJK punctuation, full-width forms) | a word | spaces | any other sign
_TOKEN = re.compile(
    r"[\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uff00-\uffef]"
    r"|[^\W_]+(?:['’][^\W_]+)*|\s+|.",
    re.S,
)


def tokens(text: str) -> list[str]:
    """Words, spaces and signs of `text`; each Chinese character on its own."""
    return _TOKEN.findall(text or "")


def word_diff(old: str, new: str) -> list[tuple[Op, str]]:
    """`old` → `new` as runs kept (=), removed (-) and added (+); joining the = and - runs gives `old`, the = and +
    runs give `new`."""
    a, b = tokens(old), tokens(new)
    out: list[tuple[Op, str]] = []

    def put(op: Op, parts: list[str]) -> None:
        text = "".join(parts)
        if not text:
            return
        if out and out[-1][0] == op:
            out[-1] = (op, out[-1][1] + text)
        else:
            out.append((op, text))

    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            put("=", a[i1:i2])
        else:
            put("-", a[i1:i2])
            put("+", b[j1:j2])
    return _absorb_spaces(out)


def _absorb_spaces(ops: list[tuple[Op, str]]) -> list[tuple[Op, str]]:
    """A lone space kept between two changes joins them, so "[-a-] [-b-]" reads "[-a b-]"."""
    out: list[tuple[Op, str]] = []
    for k, (op, text) in enumerate(ops):
        between = (
            0 < k < len(ops) - 1 and op == "=" and not text.strip() and ops[k - 1][0] != "=" and ops[k + 1][0] != "="
        )
        if between:
            out.append(("-", text))
            out.append(("+", text))
        else:
            out.append((op, text))
    merged: list[tuple[Op, str]] = []
    removed, added = "", ""
    for op, text in [*out, ("=", "")]:
        if op == "-":
            removed += text
        elif op == "+":
            added += text
        else:
            pending: list[tuple[Op, str]] = [("-", removed), ("+", added)]
            merged += [(o, t) for o, t in pending if t]
            removed = added = ""
            if text:
                merged.append(("=", text))
    return merged


def as_cli(ops: list[tuple[Op, str]]) -> str:
    """`kept [-removed-]{+added+} kept` (git's --word-diff=plain marks)."""
    return "".join(text if op == "=" else f"[-{text}-]" if op == "-" else f"{{+{text}+}}" for op, text in ops)


def as_html(ops: list[tuple[Op, str]]) -> str:
    """Escaped HTML with `<del>` and `<ins>` around what went and came."""
    return "".join(
        escape(text)
        if op == "="
        else f"<{'del' if op == '-' else 'ins'}>{escape(text)}</{'del' if op == '-' else 'ins'}>"
        for op, text in ops
    )
