"""Click tracking for links in e-mails (P4): signed redirect links that count a click only with consent.

`click_link(keyring, base_url, subject_id=..., url=..., campaign=...)` makes `…/t/c/<token>`. The token carries
the subject id (an opaque id, never an e-mail address), the target and the campaign, signed with the keyring
(HMAC): it cannot be guessed or altered. Following it redirects to the target; the click is written to the audit
trail (`email.link_clicked`, no table of its own) only when the decision engine allows `analytics.click_tracking`
for that subject, and otherwise nothing is recorded.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from privet.kit.crypto import Keyring
from privet.kit.errors import PrivetError


def N_(message: str) -> str:  # noqa: N802 - marked for translation; the error page translates it
    return message


HINT = N_("Open the link from the e-mail again, or type the address of the site yourself.")
NOT_A_PAGE = N_("This link does not lead to a web page")

PURPOSE = "analytics.click_tracking"
CAMPAIGN = re.compile(r"^[A-Za-z0-9_.:-]{1,80}$")
MAX_URL = 2000
_MAC_PURPOSE = "email-click-link"


@dataclass(frozen=True)
class Click:
    """What a click link carries."""

    subject_id: str
    url: str
    campaign: str


class BadLink(PrivetError):
    """A click link that was altered, cut short or points somewhere other than a web page (400)."""

    def __init__(self, detail: str = N_("This link is not valid")) -> None:
        super().__init__(detail, HINT, [], 400, "Bad request")


def check_target(url: str) -> str:
    """`url` if it is an absolute http(s) address without credentials, else BadLink."""
    if not isinstance(url, str) or len(url) > MAX_URL or any(ord(ch) < 33 for ch in url):
        raise BadLink(NOT_A_PAGE)
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or "@" in parts.netloc:
        raise BadLink(NOT_A_PAGE)
    return url


def _mac(keyring: Keyring, payload: str) -> str:
    return (
        base64.urlsafe_b64encode(bytes.fromhex(keyring.mac(_MAC_PURPOSE, payload.encode()))[:20]).rstrip(b"=").decode()
    )


def click_token(keyring: Keyring, *, subject_id: str, url: str, campaign: str) -> str:
    """The signed token of one link (ValueError for a target that is not http(s) or a campaign with odd signs)."""
    try:
        check_target(url)
    except BadLink as exc:
        raise ValueError(f"click links lead to http(s) pages only, not {url[:40]!r}") from exc
    if not CAMPAIGN.match(campaign or ""):
        raise ValueError("a campaign is 1 to 80 letters, digits or . _ : -")
    body = json.dumps({"s": subject_id, "u": url, "c": campaign}, separators=(",", ":")).encode()
    payload = base64.urlsafe_b64encode(body).rstrip(b"=").decode()
    return f"{payload}.{_mac(keyring, payload)}"


def click_link(keyring: Keyring, base_url: str, *, subject_id: str, url: str, campaign: str) -> str:
    """The full tracking link to put in an e-mail (`base_url`: Privet's public address)."""
    return f"{base_url.rstrip('/')}/t/c/{click_token(keyring, subject_id=subject_id, url=url, campaign=campaign)}"


def read_token(keyring: Keyring, token: str) -> Click:
    """The click a token carries; BadLink when it was tampered with or does not lead to an http(s) page."""
    payload, _, mac = (token or "").partition(".")
    if not payload or not mac or not hmac.compare_digest(mac.encode(), _mac(keyring, payload).encode()):
        raise BadLink()
    try:
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        click = Click(str(data["s"]), str(data["u"]), str(data["c"]))
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise BadLink() from None
    check_target(click.url)
    return click


def follow(session: Session, keyring: Keyring, token: str) -> tuple[str, bool]:
    """(where to send the browser, whether the click was recorded) for one followed link."""
    from privet.audit.service import record
    from privet.consent.decisions.service import decide

    click = read_token(keyring, token)
    try:
        decision = decide(session, purpose=PURPOSE, subject_id=click.subject_id, keyring=keyring)
    except PrivetError:  # e.g. the subject was erased since the e-mail went out: follow, count nothing
        return click.url, False
    if not decision.allowed:
        return click.url, False
    # the target's host only: its path or query may carry values that must not reach the audit trail
    record(
        session,
        actor="click-tracking",
        action="email.link_clicked",
        object_type="subject",
        object_id=click.subject_id,
        details={
            "campaign": click.campaign,
            "purpose": PURPOSE,
            "consent_record": decision.record_id,
            "target_host": (urlsplit(click.url).hostname or ""),
        },
    )
    return click.url, True
