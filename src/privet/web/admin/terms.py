"""Taxonomy words instead of keys on console pages: `term(section, key)` in a template shows the entry's name in
the viewer's language, with the key kept in the `title` (officers who work with the data map hover to see it).

The taxonomy is read once per page, the first time a template asks (the default taxonomy and a stored extension
are cached by `taxonomy.service.effective`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from markupsafe import Markup, escape
from starlette.requests import Request

from privet.web.i18n import negotiate

if TYPE_CHECKING:
    from privet.taxonomy.loader import Taxonomy

SECTIONS = {
    "category": "categories",
    "categories": "categories",
    "purpose": "purposes",
    "purposes": "purposes",
    "legal_basis": "legal_bases",
    "legal_bases": "legal_bases",
    "subject_type": "subject_types",
    "subject_types": "subject_types",
}


def label_html(name: str, key: str) -> Markup:
    """The name with its key in the title; the key alone (as code) when the taxonomy has no name for it."""
    if not key:
        return Markup("")
    if name == key:
        return Markup('<code class="term">{}</code>').format(key)
    return Markup('<span class="term" title="{}">{}</span>').format(key, name)


class Terms:
    """The `term` and `terms` template helpers of one request."""

    def __init__(self, request: Request) -> None:
        self.request = request
        self.lang = negotiate(request)
        self._taxonomy: Taxonomy | None = None
        self._activities: dict[str, dict] | None = None

    def _load(self) -> Taxonomy:
        if self._taxonomy is None:
            from privet.taxonomy.service import effective

            with self.request.app.state.sessionmaker() as session:
                self._taxonomy = effective(session)
        return self._taxonomy

    def name(self, section: str, key: str) -> str:
        """The plain name of `key` in `section` in the viewer's language (the key when unknown)."""
        return self._load().label(SECTIONS.get(section, section), key, self.lang) if key else ""

    def activity(self, key: str, fallback: str = "") -> str:
        """A processing activity's name in the viewer's language (from the applied data map's version document,
        where `name: {en, zh_CN}` is kept), else `fallback` (the name stored with a record), else the key."""
        if self._activities is None:
            from privet.datamap.service import latest_version

            with self.request.app.state.sessionmaker() as session:
                latest = latest_version(session)
                document = latest.document if latest is not None else {}
            self._activities = {
                a["key"]: a.get("names") or {"en": a.get("name", "")} for a in document.get("processing_activities", [])
            }
        names = self._activities.get(key, {})
        return names.get(self.lang) or names.get("en") or fallback or key

    def term(self, section: str, key: str | None) -> Markup:
        """One entry as HTML: its name, the key in the title."""
        return label_html(self.name(section, key or ""), key or "")

    def terms(self, section: str, keys: Iterable[str] | None, separator: str = ", ") -> Markup:
        """Several entries joined by `separator`."""
        return Markup(escape(separator)).join(self.term(section, k) for k in keys or ())


def helpers(request: Request) -> dict[str, Callable]:
    """The template helpers for `request`'s page."""
    found = Terms(request)
    return {"term": found.term, "terms": found.terms, "term_name": found.name, "activity_name": found.activity}
