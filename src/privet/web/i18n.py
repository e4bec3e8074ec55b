"""Languages of the pages: which one a request gets, and the message catalogues (Babel .po files).

English text is the message id; `locale/zh_CN/*.po` hold the Chinese, one file per area (common, centre,
admin, banner) so each can grow on its own. The files are read with Babel when first needed (no compile step).
A request's language comes from `?lang=`, then the `privet_lang` cookie (set by the language switch), then
`Accept-Language`; anything unknown falls back to English.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from babel.messages.pofile import read_po
from starlette.requests import HTTPConnection

LANGUAGES = ("en", "zh_CN")
NAMES = {"en": "English", "zh_CN": "中文"}  # each language named in itself, for the switch
LANG_COOKIE = "privet_lang"
HTML_LANG = {"en": "en", "zh_CN": "zh-Hans"}


def normalise(value: str | None) -> str | None:
    """`zh`, `zh-CN`, `zh_Hans`, `zh-hans-cn` → zh_CN; `en-GB` → en; anything else → None."""
    tag = (value or "").strip().replace("_", "-").lower()
    if tag.startswith("zh"):
        return "zh_CN"  # the only Chinese we have, for zh-TW, zh-HK and zh-Hant too
    if tag.startswith("en"):
        return "en"
    return None


def from_accept_language(header: str | None) -> str | None:
    """The best language we have from an Accept-Language header, by its q-values."""
    choices = []
    for position, part in enumerate((header or "").split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        language = normalise(tag)
        if language and q > 0:
            choices.append((-q, position, language))
    return min(choices)[2] if choices else None


def negotiate(request: HTTPConnection) -> str:
    """The language of this request's page."""
    return (
        normalise(request.query_params.get("lang"))
        or normalise(request.cookies.get(LANG_COOKIE))
        or from_accept_language(request.headers.get("accept-language"))
        or "en"
    )


@cache
def catalogue(language: str) -> dict[str, str | tuple[str, ...]]:
    """msgid → translation for `language`, merged from every .po file of it (empty for English)."""
    out: dict[str, str | tuple[str, ...]] = {}
    if language == "en":
        return out
    folder = resources.files("privet.web") / "locale" / language
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".po"):
            continue
        with entry.open("rb") as handle:
            for message in read_po(handle, locale=language):
                if not message.id or not message.string:
                    continue
                key = message.id[0] if isinstance(message.id, (tuple, list)) else message.id  # plural: the singular
                out[key] = tuple(message.string) if isinstance(message.string, (tuple, list)) else message.string
    return out


def gettext(language: str, message: str) -> str:
    """`message` in `language` (the English itself when there is no translation)."""
    found = catalogue(language).get(message)
    if isinstance(found, tuple):
        return found[0] or message
    return found or message


def ngettext(language: str, singular: str, plural: str, n: int) -> str:
    """Singular or plural of a counted message; Chinese has one form."""
    found = catalogue(language).get(singular)
    if isinstance(found, tuple) and found and found[0]:
        return found[0]
    if isinstance(found, str) and found:
        return found
    return singular if n == 1 else plural


class Translator:
    """The gettext callables of one language, in the shape Jinja2's i18n extension installs."""

    def __init__(self, language: str) -> None:
        self.language = language

    def gettext(self, message: str) -> str:
        return gettext(self.language, message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return ngettext(self.language, singular, plural, n)
