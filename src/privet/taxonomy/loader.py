"""The taxonomy: the shipped default plus a company's additions, and questions asked of it."""

from __future__ import annotations

import difflib
import functools
import re
from importlib import resources
from typing import Any, cast

from privet.kit import yamlio
from privet.kit.errors import InvalidInput, NotFound, Problem
from privet.taxonomy import checks
from privet.taxonomy.entries import SECTIONS, Category, Entry, IdentityType, LegalBasis, Purpose, SubjectType

__all__ = [
    "Category",
    "Entry",
    "IdentityType",
    "LegalBasis",
    "Purpose",
    "SubjectType",
    "Taxonomy",
    "default_taxonomy",
    "load_taxonomy",
    "section_name",
]

# Keys fideslang 3.2 renamed; older Fides datasets still use the left-hand side (prefix match).
_FIDES_RENAMED = {
    "user.biometric": "user.biometrics",
    "user.childrens": "user.children",
    "user.health_and_medical": "user.health",
    "user.job_title": "user.professional_information.job_title",
    "user.social": "user.social_activity",
    "user.workplace": "user.professional_information.workplace",
    "user.location.imprecise": "user.location.coarse",
    "user.telemetry": "user.device.telemetry",
    "user.sensor": "user.device.sensor",
    "user.user_sensor": "user.device.sensor",
    "user.account.settings": "user.settings",
    "user.contact.url": "user.contact.social_url",
    "user.unique_id.pseudonymous": "user.unique_id",
    "user.authorization.biometric": "user.authorization.biometrics",
    "personalize.profiling": "personalize.content.profiling",
}


def section_name(section: str) -> str:
    """`legal-bases`, `legal_bases` → `legal_bases`; NotFound for anything else."""
    name = section.strip().lower().replace("-", "_")
    if name not in SECTIONS:
        raise NotFound(f"There is no taxonomy section {section!r}", "use one of " + ", ".join(SECTIONS.values()))
    return name


class Taxonomy:
    """Default plus company entries, by section; read-only once built."""

    def __init__(self, sections: dict[str, dict[str, Entry]]) -> None:
        # each section holds entries of its own class (`checks.finalise` builds them from ENTRY_CLASSES)
        self.categories = cast("dict[str, Category]", sections["categories"])
        self.purposes = cast("dict[str, Purpose]", sections["purposes"])
        self.legal_bases = cast("dict[str, LegalBasis]", sections["legal_bases"])
        self.subject_types = cast("dict[str, SubjectType]", sections["subject_types"])
        self.identity_types = cast("dict[str, IdentityType]", sections["identity_types"])
        self._fides: dict[str, dict[str, str]] = {}
        for section in ("categories", "purposes"):
            index: dict[str, str] = {}
            for entry in self.section(section).values():
                if entry.fideslang and (entry.fideslang not in index or entry.key == entry.fideslang):
                    index[entry.fideslang] = entry.key
            self._fides[section] = index

    def section(self, section: str) -> dict[str, Entry]:
        """The entries of one section (`categories`, `legal-bases`, ...)."""
        return getattr(self, section_name(section))

    def get(self, section: str, key: str) -> Entry:
        """One entry; NotFound (with close matches) when the key is unknown."""
        entries = self.section(section)
        if key in entries:
            return entries[key]
        close = difflib.get_close_matches(key, list(entries), n=3)
        hint = (
            ("did you mean " + " or ".join(close) + "?")
            if close
            else f"list them with `privet taxonomy list {SECTIONS[section_name(section)]}`"
        )
        raise NotFound(f"There is no {SECTIONS[section_name(section)]} entry {key!r}", hint)

    def lookup(self, key: str) -> tuple[str, Entry]:
        """The section and entry of `key` in any section; NotFound (with close matches) when unknown."""
        found = self.find(key)
        if found is not None:
            return found
        close = difflib.get_close_matches(key, [k for s in SECTIONS for k in getattr(self, s)], n=3)
        raise NotFound(
            f"No taxonomy entry has the key {key!r}",
            ("did you mean " + " or ".join(close) + "?")
            if close
            else "list the keys with `privet taxonomy list SECTION`",
        )

    def find(self, key: str) -> tuple[str, Entry] | None:
        """The first section holding `key`, and its entry."""
        for section in SECTIONS:
            if key in getattr(self, section):
                return section, getattr(self, section)[key]
        return None

    def ancestors(self, key: str, section: str | None = None) -> list[str]:
        """Parent, grandparent, ... of `key` (nearest first); dotted prefixes for keys not defined."""
        entries = self.section(section or self._section_of(key))
        out: list[str] = []
        node = entries.get(key)
        parent = node.parent if node else _known_prefix(key, entries)
        while parent is not None and parent not in out:
            out.append(parent)
            parent = entries[parent].parent if parent in entries else _known_prefix(parent, entries)
        return out

    def _section_of(self, key: str) -> str:
        found = self.find(key)
        if found:
            return found[0]
        return next((s for s in ("categories", "purposes") if _known_prefix(key, self.section(s))), "categories")

    def is_within(self, key: str, ancestor: str, section: str | None = None) -> bool:
        """True when `key` is `ancestor` or lies beneath it."""
        return key == ancestor or ancestor in self.ancestors(key, section)

    def children(self, section: str, key: str | None) -> list[Entry]:
        """Direct children of `key` (roots for None), in definition order."""
        return [e for e in self.section(section).values() if e.parent == key]

    def sensitive_kind(self, category_key: str) -> str | None:
        """The PIPL sensitive kind of a category, declared on it or inherited from the nearest ancestor."""
        for key in (category_key, *self.ancestors(category_key, "categories")):
            entry = self.categories.get(key)
            if entry is not None and entry.sensitive:
                return entry.sensitive
        return None

    def discloses(self, category_key: str) -> bool:
        """Whether values of a category may go into an access package (credentials may not: they are listed as
        held, without values); declared on the category or inherited from the nearest ancestor, else True."""
        for key in (category_key, *self.ancestors(category_key, "categories")):
            entry = self.categories.get(key)
            if entry is not None and entry.disclose is not None:
                return entry.disclose
        return True

    def by_fideslang(self, fides_key: str, section: str = "categories") -> str | None:
        """The entry mapped to a fideslang key, else to its nearest mapped ancestor, else None."""
        index = self._fides[section_name(section)]
        key: str | None = fides_key.strip()
        while key:
            for candidate in (key, _renamed(key)):
                if candidate in index:
                    return index[candidate]
            key = key.rsplit(".", 1)[0] if "." in key else None
        return None

    def label(self, section: str, key: str, lang: str = "en") -> str:
        """The entry's name in `lang` (English fallback); the key itself when unknown."""
        entry = self.section(section).get(key)
        return entry.label(lang) if entry else key


def _known_prefix(key: str, entries: dict[str, Entry]) -> str | None:
    while "." in key:
        key = key.rsplit(".", 1)[0]
        if key in entries:
            return key
    return None


def _renamed(fides_key: str) -> str:
    for old, new in _FIDES_RENAMED.items():
        if fides_key == old or fides_key.startswith(old + "."):
            return new + fides_key[len(old) :]
    return fides_key


def _build(base: checks.Drafts, data: Any, source: str, *, company: bool) -> checks.Drafts:
    problems: list[Problem] = []
    items, where, broken = checks.parse(data, source, problems)
    drafts = checks.merge(base, items, where, problems, company=company)
    checks.check_graph(drafts, problems, broken)
    if problems:
        problems.sort(key=_line)
        raise InvalidInput(f"The taxonomy in {source} has {len(problems)} problem(s)", problems=problems)
    return drafts


def _line(problem: Problem) -> int:
    match = re.search(r":(\d+)$", problem.where or "")
    return int(match.group(1)) if match else 0


@functools.lru_cache(maxsize=1)
def _default_drafts() -> checks.Drafts:
    text = resources.files("privet.taxonomy").joinpath("default.yaml").read_text(encoding="utf-8")
    return _build(
        {section: {} for section in SECTIONS}, yamlio.load_text(text, "default.yaml"), "default.yaml", company=False
    )


@functools.lru_cache(maxsize=1)
def default_taxonomy() -> Taxonomy:
    """The shipped default taxonomy (read once, on first use)."""
    return Taxonomy(checks.finalise(_default_drafts()))


def load_taxonomy(extension: dict[str, Any] | None = None, source: str = "<extension>") -> Taxonomy:
    """Default plus a company's additions; one InvalidInput lists every problem with `source:line`."""
    if not extension:
        return default_taxonomy()
    return Taxonomy(checks.finalise(_build(_default_drafts(), extension, source, company=True)))
