"""What the banner script needs to know about one site: its texts, its notice version and its cookie.

A site's banner shows the notice whose key is the site's name (`data-site="shop"` → notice `shop`) when one is
published, else the main privacy policy (`privacy-policy`). The visitor's stored choice names the notice version
it was made under; `reprompt_below` is the newest version of that notice with a material change to a purpose the
banner records (any material change when the data map declares none): a choice made under an older version is
asked again (P30).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from privet.consent import visitors
from privet.consent.ledger.checks import DEFAULT_NOTICE
from privet.consent.ledger.rules import current_policy
from privet.notices.models import Notice, NoticeVersion
from privet.web.banner.texts import texts

if TYPE_CHECKING:
    from privet.settings import Settings

SITE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,79}$")
COOKIE_NAME = "privet_consent"


def notice_for(session: Session, site: str) -> tuple[str | None, list[tuple[int, list]]]:
    """(notice key, [(version, material purposes)] oldest first) the banner of `site` shows; (None, []) if none."""
    for key in dict.fromkeys((site, DEFAULT_NOTICE)):
        rows = session.execute(
            select(NoticeVersion.version, NoticeVersion.material_purposes)
            .join(Notice, Notice.id == NoticeVersion.notice_id)
            .where(Notice.key == key)
            .order_by(NoticeVersion.version)
        ).all()
        if rows:
            return key, [(number, list(material or [])) for number, material in rows]
    return None, []


def site_config(session: Session, *, site: str, language: str, settings: Settings, privet_url: str) -> dict:
    """The JSON the script reads (texts in `language`, no personal data: the same for every visitor)."""
    purposes = {c: p for c, p in visitors.cookie_purposes(current_policy(session)).items() if p}
    key, versions = notice_for(session, site)
    watched = set(purposes.values())
    material = [number for number, changed in versions if changed and (not watched or watched & set(changed))]
    return {
        "site": site,
        "lang": language,
        "texts": texts(language),
        "categories": list(visitors.CATEGORIES),
        "purposes": purposes,
        "notice": {
            "key": key,
            "version": versions[-1][0] if versions else None,
            "reprompt_below": max(material) if material else None,
        },
        "cookie": {"name": COOKIE_NAME, "domain": settings.banner_cookie_domain, "days": settings.banner_cookie_days},
        "privacy_url": privet_url.rstrip("/") + "/" + ("?lang=zh_CN" if language == "zh_CN" else ""),
        "color": settings.brand_color,
    }
