"""Messages about a request, in en and zh_CN: to the requester by e-mail or SMS, and reminders to staff.

Texts live in `templates/<language>.yaml`; this module picks the parts that apply and fills them in. Values are
references, dates, counts and the officer's note, never identity values (only `send_message` sees the address).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from email.message import EmailMessage
from functools import cache
from importlib import resources

import yaml

from privet.kit.clock import utcnow
from privet.kit.errors import InvalidInput
from privet.requests.law.deadlines import days_left
from privet.requests.law.triage import check_code
from privet.settings import Settings
from privet.subjects.senders import ConsoleSmsSender, EmailSender, SmsHttpSender, language_of, sender_for

KINDS = (
    "received",
    "verify",
    "refused",
    "extended",
    "completed",
    "package_ready",
    "overdue_reminder",
    "fee_due",
    "fee_settled",
    "backups_reminder",
)
ALIASES = {"verify_code": "verify", "reminder_overdue": "overdue_reminder"}  # names used in the shared brief
CHANNELS = {"email": "email", "phone": "sms"}
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
    source = resources.files("privet.requests.messages") / "templates" / f"{language}.yaml"
    return yaml.safe_load(source.read_text(encoding="utf-8"))


def format_date(value: date | datetime | str | None, language: str) -> str:
    """`27 October 2026` or `2026年10月27日`; strings pass through unchanged."""
    if value is None or isinstance(value, str):
        return value or ""
    day = value.date() if isinstance(value, datetime) else value
    if language == "zh_CN":
        return f"{day.year}年{day.month}月{day.day}日"
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def _contact(value: Mapping | str | None) -> str:
    if isinstance(value, Mapping):  # the data map's responsible contact: name, email, phone, address
        return "; ".join(str(value[k]) for k in ("name", "email", "phone", "address") if value.get(k))
    return value or ""


class _Parts:
    """Fills `parts.*` templates of one language; an empty value leaves the part out."""

    def __init__(self, language: str, values: dict) -> None:
        self.language, self.values, self.t = language, values, texts(language)

    def __call__(self, key: str, **fill: object) -> str:
        return self.t["parts"][key].format(**fill)

    def date(self, name: str) -> str:
        return format_date(self.values.get(name), self.language)

    def need(self, *names: str) -> None:
        missing = [n for n in names if self.values.get(n) in (None, "")]
        if missing:
            raise InvalidInput(f"The message needs {', '.join(missing)}", "pass every value the message kind needs")


def region_name(region: str | None, language: str) -> str:
    """`EU` → "the European Union" / "欧盟" (the report glossary's regions); codes it does not name as they are."""
    from privet.requests.packages.explain import term

    return term(language, region, "regions") if region else ""


def law_line(p: _Parts) -> str:
    """Which law the request is handled under and why (P41): the person's region from their account (token),
    their declaration or the datastore holding them; else the organisation's own law. Empty without a profile."""
    v = p.values
    profile, source = v.get("profile"), v.get("profile_source") or "organisation"
    if profile not in p.t["law_names"]:
        return ""
    region = region_name(v.get("region"), p.language)
    if source not in p.t["law_sources"] or (source != "organisation" and not region):
        source = "organisation"
    why = p.t["law_sources"][source].format(region=region)
    return p("law_line", law=p.t["law_names"][profile], why=why)


def _common(p: _Parts) -> dict[str, str]:
    v = p.values
    kind_type = v.get("request_type")
    organisation = v.get("organisation")
    contact = _contact(v.get("contact"))
    return {
        "reference": v.get("reference", ""),
        "greeting": p("greeting"),
        "type": p.t["types"].get(kind_type, kind_type or ""),
        "signature": p("signature", organisation=organisation) if organisation else p("signature_plain"),
        "contact": p("contact", contact=contact) if contact else "",
        "law_line": "" if v.get("_sms") else law_line(p),
    }


def _received(p: _Parts) -> dict[str, str]:
    verify_by = p.date("verify_by")
    due = p.date("due")
    return {
        "verify_step": p("verify_pending", verify_by=verify_by) if verify_by else p("verify_done"),
        "due_step": p("due", due=due) if due else p("due_after_verify"),
    }


def _verify(p: _Parts) -> dict[str, str]:
    v, how = p.values, []
    if v.get("link"):
        how.append(p("verify_link", link=v["link"]))
    if v.get("code"):
        p.need("minutes")
        how.append(p("verify_code", code=v["code"], minutes=v["minutes"]))
    if not how:
        raise InvalidInput("A verify message needs a link or a code", "pass link=... or code=... and minutes=...")
    if v.get("verify_by"):
        how.append(p("verify_by", verify_by=p.date("verify_by")))
    return {"how": " ".join(how) if p.values.get("_sms") else "\n\n".join(how)}


def _refused(p: _Parts) -> dict[str, str]:
    p.need("code", "profile", "request_type")
    v = p.values
    reason = check_code(v["code"], v["request_type"])
    routes = p.t["complaint_routes_sms" if v.get("_sms") else "complaint_routes"]
    if v["profile"] not in routes:
        raise InvalidInput(f"Unknown jurisdiction profile {v['profile']!r}", "use pipl, gdpr or ccpa")
    return {
        "reason": reason.text(p.language),
        "law": reason.law_text(p.language),
        "complaint_route": routes[v["profile"]],
        "note": p("note", note=v["note"]) if v.get("note") else "",
    }


def _extended(p: _Parts) -> dict[str, str]:
    p.need("due", "reason")
    previous = p.date("previous")
    return {
        "due": p.date("due"),
        "reason": str(p.values["reason"]),
        "previous_due": p("previous_due", previous=previous) if previous else "",
    }


def _changes(p: _Parts, done: dict[str, int]) -> str:
    return ", ".join(p(f"change_{kind}", count=n) for kind, n in done.items() if n and f"change_{kind}" in p.t["parts"])


def _completed(p: _Parts) -> dict[str, str]:
    v = p.values
    lines = [p("count_line", name=name, count=_changes(p, done)) for name, done in (v.get("changes") or {}).items()]
    lines += [
        p("count_line", name=purpose, count=p.t["parts"].get(f"consent_{event}", event))
        for purpose, event in (v.get("consent") or {}).items()
    ]
    if not lines:
        lines = [p("nothing_changed") if v.get("found") else p("no_counts")]
    retained = []
    for item in v.get("retained") or []:
        until = format_date(item.get("until"), p.language)
        key = "retained_line" if until else "retained_line_open"
        retained.append(p(key, item=item.get("item", ""), reason=item.get("reason", ""), until=until))
    exceptions = []
    for item in v.get("exceptions") or []:
        reason = p.t["parts"].get(f"exception_{item.get('reason')}", str(item.get("reason") or ""))
        key = "exception_line" if item.get("rows") else "exception_line_open"
        exceptions.append(p(key, item=item.get("item", ""), rows=item.get("rows"), reason=reason))
    backups = p.date("backups_until")
    return {
        "counts": "\n".join(lines),
        "retained": "\n".join(["", p("retained_intro"), *retained]) if retained else "",
        "exceptions": "\n".join(["", p("exceptions_intro"), *exceptions]) if exceptions else "",
        "outcome": p("subject_exceptions") if exceptions else p("subject_done"),
        "headline": p("headline_exceptions") if exceptions else "",
        "backups": "\n" + p("backups", backups_until=backups) if backups else "",
    }


def _package_ready(p: _Parts) -> dict[str, str]:
    p.need("link", "expires_on", "downloads")
    return {"link": p.values["link"], "expires_on": p.date("expires_on"), "downloads": str(p.values["downloads"])}


def _overdue_reminder(p: _Parts) -> dict[str, str]:
    p.need("due")
    v = p.values
    left = v.get("days_left")
    if left is None:
        left = days_left(v["due"], v.get("today") or utcnow().date())
    when = (
        p("staff_overdue", days=-left)
        if left < 0
        else p("staff_due_today")
        if left == 0
        else p("staff_due_soon", days=left)
    )
    return {"due": p.date("due"), "when": when, "type": v.get("request_type", ""), "status": v.get("status", "")}


def _fee_due(p: _Parts) -> dict[str, str]:
    p.need("amount", "currency", "profile")
    v = p.values
    if v["profile"] not in p.t["fee_laws"]:
        raise InvalidInput(f"Unknown jurisdiction profile {v['profile']!r}", "use pipl, gdpr or ccpa")
    why = p("fee_why", free=v["free"], window_days=v["window_days"]) if v.get("free") and v.get("window_days") else ""
    due = p.date("due")
    return {
        "amount": str(v["amount"]),
        "currency": str(v["currency"]),
        "fee_law": p.t["fee_laws"][v["profile"]],
        "fee_why": why,
        "fee_clock": p("fee_clock"),
        "due_step": p("due", due=due) if due else "",
    }


def _fee_settled(p: _Parts) -> dict[str, str]:
    p.need("outcome")
    v = p.values
    settled = (
        p("fee_paid", amount=v.get("amount") or "", currency=v.get("currency") or "")
        if v["outcome"] == "paid"
        else p("fee_waived")
    )
    due = p.date("due")
    return {"settled": settled, "due_step": p("due", due=due) if due else ""}


def _backups_reminder(p: _Parts) -> dict[str, str]:
    p.need("erasures")
    lines, references = [], []
    for item in p.values["erasures"]:
        fill = {
            "reference": item.get("reference", ""),
            "type": item.get("type", ""),
            "completed": format_date(item.get("completed"), p.language),
            "clear_by": format_date(item.get("clear_by"), p.language),
            "datastores": ", ".join(item.get("datastores") or []),
        }
        lines.append(p("backup_line" if fill["datastores"] else "backup_line_none", **fill))
        references.append(fill["reference"])
    shown = ", ".join(references[:5]) + (" …" if len(references) > 5 else "")
    return {"lines": "\n".join(lines), "count": str(len(lines)), "references": shown}


_BUILDERS: dict[str, Callable[[_Parts], dict[str, str]]] = {
    "received": _received,
    "verify": _verify,
    "refused": _refused,
    "extended": _extended,
    "completed": _completed,
    "package_ready": _package_ready,
    "overdue_reminder": _overdue_reminder,
    "fee_due": _fee_due,
    "fee_settled": _fee_settled,
    "backups_reminder": _backups_reminder,
}


def _kind(kind: str) -> str:
    name = ALIASES.get(kind, kind)
    if name not in _BUILDERS:
        raise InvalidInput(f"Unknown message kind {kind!r}", f"use one of {', '.join(KINDS)}")
    return name


def _tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"


def render_message(kind: str, language: str, **values: object) -> tuple[str, str]:
    """The subject line and body of message `kind` in `language`, filled with `values`."""
    kind, language = _kind(kind), language_of(language)
    parts = _Parts(language, values)
    fields = {**_common(parts), **_BUILDERS[kind](parts)}
    template = texts(language)[kind]
    return template["subject"].format(**fields), _tidy(template["body"].format(**fields))


def render_sms(kind: str, language: str, **values: object) -> str:
    """The short SMS text of message `kind` in `language`."""
    kind, language = _kind(kind), language_of(language)
    parts = _Parts(language, {**values, "_sms": True})
    fields = {**_common(parts), **_BUILDERS[kind](parts)}
    return " ".join(texts(language)[kind]["sms"].format(**fields).split())


def send_message(settings: Settings, identity_type: str, to: str, kind: str, language: str, **values: object) -> str:
    """Send message `kind` to `to` by e-mail (identity type email) or SMS (phone); returns the channel used."""
    channel = CHANNELS.get(identity_type)
    if channel is None:
        raise InvalidInput(
            "Messages can only be sent to an e-mail address or a phone number",
            "record an e-mail address or phone number to reach this requester",
        )
    if channel == "sms":
        sms = sender_for("sms", settings)
        assert isinstance(sms, (SmsHttpSender, ConsoleSmsSender))  # the SMS senders `sender_for` makes
        sms.send(to, render_sms(kind, language, **values))
        return channel
    subject, body = render_message(kind, language, **values)
    if settings.mail_sender.strip().lower() == "console":
        print(f"[privet e-mail to {to}] {subject}\n{body}", flush=True)  # noqa: T201 - development: print, never log
        return channel
    sender = sender_for("email", settings)  # validates PRIVET_MAIL_SENDER
    assert isinstance(sender, EmailSender)
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    sender.send(message)
    return channel
