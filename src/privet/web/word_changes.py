"""What changed in a policy section, word by word, as HTML a person can read and a screen reader announces.

`privet.notices.words` finds the runs kept, removed and added; here they become `<del>`/`<ins>` with a visually
hidden "removed:"/"added:" in the page's language (most screen readers say nothing for `<del>` and `<ins>`), line
breaks kept, and long unchanged stretches shortened to their ends so the changes stand out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from markupsafe import Markup, escape
from starlette.requests import Request

from privet.web.render import translate


def N_(message: str) -> str:  # noqa: N802 - the gettext convention: marked here, translated when shown
    return message


REMOVED, ADDED = N_("removed:"), N_("added:")
CHANGES = {"added": N_("Added"), "removed": N_("Removed"), "changed": N_("Changed")}
KEEP = 240  # an unchanged run longer than this is shortened to its ends
CONTEXT = 80  # characters kept at each end of a shortened run


def _lines(text: str) -> Markup:
    return Markup("<br>").join(escape(part) for part in text.split("\n"))


def _kept(text: str, first: bool, last: bool) -> Markup:
    """An unchanged run; shortened in the middle (or at the open end of the section) when long."""
    if len(text) <= KEEP:
        return _lines(text)
    head, tail = ("" if first else text[:CONTEXT]), ("" if last else text[-CONTEXT:])
    cut_head, cut_tail = head.rfind(" "), tail.find(" ")  # cut at a space (Chinese has none: cut anywhere)
    head = head[: cut_head + 1] if cut_head > CONTEXT // 2 else head
    tail = tail[cut_tail:] if 0 <= cut_tail < CONTEXT // 2 else tail
    return Markup('{}<span class="elided">…</span>{}').format(_lines(head), _lines(tail))


def words_html(ops: Iterable[tuple[str, str]], t: Callable[[str], str]) -> Markup:
    """`ops` (("=" | "-" | "+", text) runs) as HTML; `t` translates the hidden labels."""
    runs = list(ops)
    out: list[Markup] = []
    for i, (op, text) in enumerate(runs):
        if op == "=":
            out.append(_kept(text, i == 0, i == len(runs) - 1))
        else:
            tag, label = ("del", t(REMOVED)) if op == "-" else ("ins", t(ADDED))
            out.append(
                Markup('<{tag}><span class="visually-hidden">{label} </span>{text}</{tag}>').format(
                    tag=Markup(tag), label=label, text=_lines(text)
                )
            )
    return Markup("").join(out)


def section_changes(request: Request, changes: Iterable) -> list[dict]:
    """The sections that changed (added, removed or edited; unchanged ones left out), each with its change in the
    page's language and its words removed and added as HTML."""

    def t(text: str) -> str:
        return translate(request, text)

    return [
        {
            "number": c.number,
            "title": c.title,
            "label": c.number or c.title,
            "kind": c.change,
            "change": t(CHANGES[c.change]),
            "words": words_html(c.words, t),
            "unified": c.unified,
        }
        for c in changes
        if c.change != "unchanged"
    ]
