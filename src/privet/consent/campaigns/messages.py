"""The campaign message in en and zh_CN, by e-mail or SMS through the configured senders (`privet.subjects.senders`).

Texts live in `templates/<language>.yaml`. The values are the notice, the purposes' names, the date and the link to
the privacy centre's consent page; only `deliver` sees the address.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from functools import cache
from importlib import resources
from typing import Protocol, cast

import yaml

from privet.settings import Settings
from privet.subjects.senders import EmailSender, sender_for

CONSENTS_PATH = "/consents"  # the privacy centre's consent page: the person signs in and gives consent again
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


@cache
def texts(language: str) -> dict:
    """The parsed template file of `language` (en or zh_CN)."""
    source = resources.files("privet.consent.campaigns") / "templates" / f"{language}.yaml"
    return yaml.safe_load(source.read_text(encoding="utf-8"))


def _date(moment: datetime, language: str) -> str:
    day = moment.date()
    return (
        f"{day.year}年{day.month}月{day.day}日"
        if language == "zh_CN"
        else f"{day.day} {_MONTHS[day.month - 1]} {day.year}"
    )


@dataclass(frozen=True)
class Rendered:
    """One message's e-mail subject and body, and its SMS text."""

    subject: str
    body: str
    sms: str


def render(
    language: str,
    *,
    notice: str,
    version: int,
    purposes: list[str],
    moment: datetime,
    link: str,
    organisation: str | None,
) -> Rendered:
    """The message in `language`; `purposes` are the purposes' names in that language."""
    t = texts(language)
    values = {
        "notice": notice,
        "version": version,
        "purposes": "\n".join(f"  - {p}" for p in purposes),
        "purposes_short": ("、" if language == "zh_CN" else ", ").join(purposes),
        "moment": _date(moment, language),
        "link": link,
        "organisation": organisation or t["default_organisation"],
    }
    return Rendered(
        t["subject"].format(**values).strip(),
        t["body"].format(**values).strip() + "\n",
        " ".join(t["sms"].format(**values).split()),
    )


def link(settings: Settings) -> str:
    """Where the person gives consent again."""
    return settings.public_url.rstrip("/") + CONSENTS_PATH


class _SmsSending(Protocol):
    """What the SMS senders have beyond `Sender` (privet.subjects.senders): sending any text."""

    def send(self, phone: str, message: str) -> None: ...


def deliver(settings: Settings, channel: str, to: str, message: Rendered) -> None:
    """Hand the message to the configured sender; its errors (naming no address) propagate so the job retries."""
    if channel == "sms":
        cast(_SmsSending, sender_for("sms", settings)).send(to, message.sms)  # sms: an SMS sender
        return
    if settings.mail_sender.strip().lower() == "console":  # development: print, never log
        print(f"[privet e-mail to {to}] {message.subject}\n{message.body}", flush=True)  # noqa: T201 - see above
        return
    sender = sender_for("email", settings)  # validates PRIVET_MAIL_SENDER; Unavailable when none is configured
    assert isinstance(sender, EmailSender)
    mail = EmailMessage()
    mail["From"] = settings.mail_from
    mail["To"] = to
    mail["Subject"] = message.subject
    mail.set_content(message.body)
    sender.send(mail)
