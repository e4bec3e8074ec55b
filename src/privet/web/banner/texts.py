"""The banner's words: English message ids, translated from `locale/zh_CN/banner.po` when the config is served.

The script carries no text of its own (it stays small): `GET /banner/config.json?lang=` hands it these, and it
puts them on screen as text nodes only (never as HTML).
"""

from __future__ import annotations

from privet.web import i18n


def N_(message: str) -> str:  # noqa: N802 - the gettext convention: marked here, translated when served
    return message


TEXTS = {
    "title": N_("Cookies on this site"),
    "intro": N_(
        "We use cookies and similar technologies. Necessary ones keep the site working. With your "
        "consent we also use cookies to remember your preferences, to measure how the site is used and "
        'for marketing. You can change your choice at any time under "Cookie settings".'
    ),
    "accept": N_("Accept all"),
    "reject": N_("Reject all"),
    "customise": N_("Customise"),
    "save": N_("Save my choices"),
    "settings": N_("Cookie settings"),
    "policy": N_("Privacy centre"),
    "always_on": N_("Always on"),
    "gpc": N_(
        "Your browser sent a Global Privacy Control signal. We honour it: marketing cookies stay off and "
        "cannot be switched on here."
    ),
    "saved": N_("Your cookie choice has been saved."),
    "changed": N_("Our privacy notice has changed since your last choice. Please choose again."),
    "categories_label": N_("Cookie categories"),
}

CATEGORY_TEXTS = {
    "necessary": (
        N_("Necessary"),
        N_("Needed for the site to work: security, load balancing and remembering this choice."),
    ),
    "preferences": (N_("Preferences"), N_("Remember your settings, such as your language.")),
    "analytics": (N_("Analytics"), N_("Help us understand how visitors use the site, so we can improve it.")),
    "marketing": (N_("Marketing"), N_("Show you advertising that matches your interests, on this site and others.")),
}


def texts(language: str) -> dict:
    """Every banner text in `language` ("en" or "zh_CN")."""
    out: dict[str, str | dict[str, dict[str, str]]] = {
        key: i18n.gettext(language, message) for key, message in TEXTS.items()
    }
    out["categories"] = {
        key: {"name": i18n.gettext(language, name), "description": i18n.gettext(language, text)}
        for key, (name, text) in CATEGORY_TEXTS.items()
    }
    return out
