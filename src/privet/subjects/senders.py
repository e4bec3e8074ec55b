"""Sending one-time codes to subjects: e-mail over SMTP, SMS through an HTTP gateway or the console.

No sender is assumed: each channel's sender is chosen in settings (`none` by default, so nothing is delivered,
said at `privet serve` start-up and by `/readyz`); `console` prints codes and is for development only.

Errors never carry the address or number (they may reach logs and problem bodies); codes are never logged.
"""

from __future__ import annotations

import json
import smtplib
import ssl
from email.message import EmailMessage
from functools import cache
from importlib import resources
from typing import Protocol

import httpx
import yaml

from privet.kit.errors import InvalidInput, Unavailable
from privet.settings import Settings

LANGUAGES = ("en", "zh_CN")
TIMEOUT_SECONDS = 10.0


def language_of(value: str | None) -> str:
    """The supported language closest to `value` (en, zh_CN); zh, zh-CN and zh-Hans map to zh_CN."""
    tag = (value or "en").strip().replace("-", "_").lower()
    if tag.startswith("zh"):
        return "zh_CN"
    if tag == "" or tag.startswith("en"):
        return "en"
    raise InvalidInput("This language is not supported", "use en or zh_CN")


@cache
def _texts(language: str) -> dict[str, str]:
    source = resources.files("privet.subjects") / "templates" / f"{language}.yaml"
    return yaml.safe_load(source.read_text(encoding="utf-8"))


def render(key: str, language: str, **values: object) -> str:
    """The subject-facing text `key` in `language`, with placeholders filled in."""
    return _texts(language_of(language))[key].format(**values)


class Sender(Protocol):
    """Delivers one code message to one address or number."""

    channel: str

    def send_code(self, to: str, code: str, *, language: str, minutes: int) -> None: ...


class EmailSender:
    """Sends codes by e-mail through the SMTP server in settings (STARTTLS and login when configured)."""

    channel = "email"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def send_code(self, to: str, code: str, *, language: str, minutes: int) -> None:
        """Send the code e-mail in the subject's language."""
        message = EmailMessage()
        message["From"] = self.settings.mail_from
        message["To"] = to
        message["Subject"] = render("code_email_subject", language, code=code, minutes=minutes)
        message.set_content(render("code_email_body", language, code=code, minutes=minutes))
        self.send(message)

    def send(self, message: EmailMessage) -> None:
        """Deliver a prepared message; failures become errors that name no recipient."""
        s = self.settings
        try:
            with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=TIMEOUT_SECONDS) as smtp:
                if s.smtp_starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if s.smtp_username:
                    smtp.login(s.smtp_username, s.smtp_password or "")
                smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused:
            raise InvalidInput(
                "The mail server refused this e-mail address", "check the address, or verify with another identity"
            ) from None
        except smtplib.SMTPAuthenticationError:
            raise Unavailable(
                "The mail server refused Privet's login", "check PRIVET_SMTP_USERNAME and PRIVET_SMTP_PASSWORD"
            ) from None
        except (smtplib.SMTPException, OSError) as exc:  # str(exc) may quote the recipient: keep only the type
            raise Unavailable(
                f"The e-mail could not be sent ({type(exc).__name__})",
                "check PRIVET_SMTP_HOST, PRIVET_SMTP_PORT and PRIVET_SMTP_STARTTLS, then try again",
            ) from None


class SmsHttpSender:
    """Posts SMS messages to an HTTP gateway: the JSON body template with {phone} and {message} filled in."""

    channel = "sms"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def body(self, phone: str, message: str) -> bytes:
        """The request body: the template with both placeholders JSON-escaped (so quotes cannot break it)."""
        filled = self.settings.sms_gateway_template
        for name, value in (("{phone}", phone), ("{message}", message)):
            filled = filled.replace(name, json.dumps(value, ensure_ascii=False)[1:-1])
        try:
            json.loads(filled)
        except ValueError:
            raise InvalidInput(
                "PRIVET_SMS_GATEWAY_TEMPLATE is not a JSON template",
                'put {phone} and {message} inside JSON strings, e.g. {"to": "{phone}", "text": "{message}"}',
            ) from None
        return filled.encode()

    def send_code(self, to: str, code: str, *, language: str, minutes: int) -> None:
        """Send the code SMS in the subject's language."""
        self.send(to, render("code_sms", language, code=code, minutes=minutes))

    def send(self, phone: str, message: str) -> None:
        """Post one message; a connection failure or a non-2xx answer raises `Unavailable`."""
        url = self.settings.sms_gateway_url
        if not url:
            raise Unavailable(
                "No SMS gateway is configured",
                "set PRIVET_SMS_GATEWAY_URL, or PRIVET_SMS_SENDER=console for development",
            )
        headers = {"Content-Type": "application/json; charset=utf-8", **self.settings.sms_gateway_headers}
        try:
            answer = httpx.post(url, content=self.body(phone, message), headers=headers, timeout=TIMEOUT_SECONDS)
        except httpx.HTTPError as exc:
            raise Unavailable(
                f"The SMS gateway could not be reached ({type(exc).__name__})",
                "check PRIVET_SMS_GATEWAY_URL and that the gateway is up, then try again",
            ) from None
        if not answer.is_success:
            raise Unavailable(
                f"The SMS gateway refused the message (HTTP {answer.status_code})",
                "check the gateway's credentials in PRIVET_SMS_GATEWAY_HEADERS and the body "
                "template in PRIVET_SMS_GATEWAY_TEMPLATE",
            )


class ConsoleSmsSender:
    """Development only: prints the SMS to standard output (never to the log)."""

    channel = "sms"

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings

    def send_code(self, to: str, code: str, *, language: str, minutes: int) -> None:
        """Print the code SMS."""
        self.send(to, render("code_sms", language, code=code, minutes=minutes))

    def send(self, phone: str, message: str) -> None:
        """Print one message."""
        print(f"[privet sms to {phone}] {message}", flush=True)  # noqa: T201 - this sender's output is standard output


class ConsoleEmailSender:
    """Development only (`PRIVET_MAIL_SENDER=console`): prints the e-mail to standard output, never to the log."""

    channel = "email"

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings

    def send_code(self, to: str, code: str, *, language: str, minutes: int) -> None:
        """Print the code e-mail."""
        subject = render("code_email_subject", language, code=code, minutes=minutes)
        body = render("code_email_body", language, code=code, minutes=minutes)
        print(f"[privet e-mail to {to}] {subject}\n{body}", flush=True)  # noqa: T201 - this sender's output is standard output


NONE = "none"  # the default: no sender chosen, so no code or message goes out by that channel
KINDS = {"email": ("smtp", "console", NONE), "sms": ("http", "console", NONE)}
_SETTING = {"email": "PRIVET_MAIL_SENDER", "sms": "PRIVET_SMS_SENDER"}
_LABEL = {"email": "e-mail", "sms": "SMS"}


def sender_kind(channel: str, settings: Settings) -> str:
    """The sender chosen for `email` or `sms` (smtp, http, console or none), as configured."""
    if channel not in KINDS:
        raise InvalidInput(f"No sender for channel {channel!r}", "use email or sms")
    return (settings.mail_sender if channel == "email" else settings.sms_sender).strip().lower()


def cannot_deliver(channel: str, settings: Settings) -> str | None:
    """Why codes cannot go out by `channel` with these settings (None when a sender is configured for it)."""
    kind = sender_kind(channel, settings)
    if kind == NONE:
        return f"no {_LABEL[channel]} sender is configured ({_SETTING[channel]}=none)"
    if kind not in KINDS[channel]:
        return f"{_SETTING[channel]}={kind!r} is not a known sender"
    if kind == "http" and not settings.sms_gateway_url:
        return "the HTTP SMS sender has no gateway (PRIVET_SMS_GATEWAY_URL)"
    return None


def sender_for(channel: str, settings: Settings) -> Sender:
    """The configured sender for `email` or `sms`; `Unavailable` (503) when none is configured for it."""
    kind = sender_kind(channel, settings)
    if kind == NONE:
        raise Unavailable(
            f"One-time codes and messages cannot be sent by {_LABEL[channel]}: no sender is configured",
            f"the operator chooses one with {_SETTING[channel]} "
            f"({', '.join(k for k in KINDS[channel] if k != NONE)}); until then use another way "
            "to verify",
        )
    if channel == "email":
        if kind == "console":
            return ConsoleEmailSender(settings)
        if kind != "smtp":
            raise InvalidInput("PRIVET_MAIL_SENDER is not known", "use smtp, console or none")
        return EmailSender(settings)
    if kind == "http":
        return SmsHttpSender(settings)
    if kind == "console":
        return ConsoleSmsSender(settings)
    raise InvalidInput("PRIVET_SMS_SENDER is not known", "use http, console or none")
