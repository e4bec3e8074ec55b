"""Incident register (P26; PIPL Art 57): record an incident, the notification clocks it starts, what is due.

The clocks, computed from the discovery time (the moment the organisation became aware):
- PRC, regulator: National Cybersecurity Incident Reporting Management Measures (国家网络安全事件报告管理办法,
  CAC, in force 1 November 2025): an incident rated relatively major (较大) or above is reported to the
  local (provincial) cyberspace administration within 4 hours; a critical information infrastructure operator
  reports to its protection department and the public security organ within 1 hour (applied here to any
  incident of a critical operator).
- GDPR, supervisory authority: Art 33(1), without undue delay and where feasible within 72 hours after
  becoming aware, unless the breach is unlikely to result in a risk.
- People: GDPR Art 34(1) and PIPL Art 57: when the incident is likely to result in a high risk to people, tell
  them without undue delay (no fixed number of hours; shown as due from discovery until done).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from privet.audit.service import record as audit
from privet.kit.clock import utcnow
from privet.kit.errors import Conflict, InvalidInput, NotFound, Problem
from privet.registers.incidents_models import SEVERITIES, Incident

REGIMES = ("prc", "gdpr")
FACTS = ("what_happened", "consequences", "measures", "advice")
LANGUAGES = ("en", "zh_CN")
PRC_RULE = (
    "National Cybersecurity Incident Reporting Management Measures (CAC, in force 1 November 2025): "
    "relatively major (较大) or above within 4 hours; critical information infrastructure operators "
    "within 1 hour"
)
PRC_HOURS, PRC_CIIO_HOURS, GDPR_HOURS = 4, 1, 72
_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
# Free text must not carry personal data: these shapes are refused (an e-mail address, a phone number, a PRC
# resident identity card number). The organisation's own contact comes from the data map, not from free text.
_PERSONAL = (
    ("an e-mail address", re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")),
    ("an identity card number", re.compile(r"\b\d{17}[\dXx]\b")),
    ("a phone number", re.compile(r"\+\d[\d\s-]{6,}\d|\b1[3-9]\d{9}\b")),
)


@dataclass(frozen=True)
class Clock:
    """One notification duty of an incident."""

    key: str  # prc_regulator | gdpr_authority | people
    audience: str  # regulator | people
    rule: str
    hours: int | None  # None: without undue delay
    due_at: datetime | None
    done_at: datetime | None

    def state(self, now: datetime) -> str:
        """done, overdue, due (a fixed deadline not yet reached) or asap (without undue delay)."""
        if self.done_at is not None:
            return "done"
        if self.due_at is None:
            return "asap"
        return "overdue" if now > self.due_at else "due"

    def as_dict(self, now: datetime) -> dict:
        return {
            "key": self.key,
            "audience": self.audience,
            "rule": self.rule,
            "hours": self.hours,
            "due_at": self.due_at.isoformat() if self.due_at else None,
            "done_at": self.done_at.isoformat() if self.done_at else None,
            "state": self.state(now),
        }


def _bad(message: str, hint: str, where: str) -> InvalidInput:
    return InvalidInput(message, hint, [Problem(message, where, hint)])


def _check_text(text: str | None, where: str) -> None:
    for name, pattern in _PERSONAL:
        if text and pattern.search(text):
            raise _bad(
                f"The {where.replace('_', ' ')} text contains what looks like {name}; incident records and "
                "notices carry no personal data",
                "describe people by category and number only",
                where,
            )


def clocks(incident: Incident) -> list[Clock]:
    """The notification clocks that apply to `incident`, computed from its discovery time."""
    out = []
    found = incident.discovered_at
    done = {k: datetime.fromisoformat(v) for k, v in (incident.notified or {}).items()}
    larger = SEVERITIES.index(incident.severity) >= SEVERITIES.index("relatively_major")
    # A critical operator's clock runs for any incident it suffers (the conservative reading of the Measures: the
    # 1-hour duty is stated for critical operators without a severity floor); others only from relatively major.
    if "prc" in incident.regimes and (larger or incident.ciio):
        hours = PRC_CIIO_HOURS if incident.ciio else PRC_HOURS
        who = (
            "protection department and public security organ"
            if incident.ciio
            else "local (provincial) cyberspace administration"
        )
        out.append(
            Clock(
                "prc_regulator",
                "regulator",
                f"PRC: report to the {who} within {hours} h — {PRC_RULE}",
                hours,
                found + timedelta(hours=hours),
                done.get("prc_regulator"),
            )
        )
    if "gdpr" in incident.regimes:
        out.append(
            Clock(
                "gdpr_authority",
                "regulator",
                "GDPR Art 33(1): notify the supervisory authority within 72 h after becoming aware",
                GDPR_HOURS,
                found + timedelta(hours=GDPR_HOURS),
                done.get("gdpr_authority"),
            )
        )
    if incident.high_risk:
        out.append(
            Clock(
                "people",
                "people",
                "GDPR Art 34(1) / PIPL Art 57: tell the people affected without undue delay (likely high risk)",
                None,
                None,
                done.get("people"),
            )
        )
    return out


def _default_regimes(session: Session) -> list[str]:
    from privet.datamap.models import DatamapOrganisation

    org = session.execute(select(DatamapOrganisation).limit(1)).scalar()
    if org is None:
        return ["prc"]
    out = ["prc"] if org.profile == "pipl" or org.region == "CN" else []
    return out + (["gdpr"] if org.profile == "gdpr" or org.region in ("EU", "EEA") else [])


def record_incident(
    session: Session,
    *,
    actor: str,
    title: str,
    severity: str,
    discovered_at: datetime,
    categories: list[str],
    subjects_affected: int,
    occurred_at: datetime | None = None,
    ciio: bool = False,
    high_risk: bool = False,
    regimes: Sequence[str] | None = None,
    facts: dict[str, dict[str, str]] | None = None,
) -> Incident:
    """Check and record an incident; its clocks start at `discovered_at`."""
    from privet.taxonomy.service import effective

    if severity not in SEVERITIES:
        raise _bad(
            f"Unknown severity {severity!r}",
            "use one of: " + ", ".join(SEVERITIES) + " (PRC levels 一般, 较大, 重大, 特别重大)",
            "severity",
        )
    if not (title or "").strip():
        raise _bad("An incident needs a short title", "say what happened in a few words", "title")
    _check_text(title, "title")
    for where, moment in (("discovered_at", discovered_at), ("occurred_at", occurred_at)):
        if moment is not None and moment.tzinfo is None:
            raise _bad("A time needs its time zone", "write e.g. 2026-03-01T10:00:00+08:00", where)
    if discovered_at > utcnow() + timedelta(minutes=5):
        raise _bad("The discovery time is in the future", "give when the incident was discovered", "discovered_at")
    if occurred_at is not None and occurred_at > discovered_at:
        raise _bad("The incident cannot have occurred after it was discovered", "check both times", "occurred_at")
    if subjects_affected is None or subjects_affected < 0:
        raise _bad("The number of people affected must be 0 or more", "give an estimate if unknown", "subjects")
    taxonomy = effective(session)
    if not categories:
        raise _bad("Name the affected data categories", "give --category KEY (repeatable)", "categories")
    for i, c in enumerate(categories):
        if c not in taxonomy.categories:
            raise _bad(
                f"Unknown data category {c!r}",
                "use category keys of the taxonomy (privet taxonomy list categories)",
                f"categories.{i}",
            )
    regimes = list(dict.fromkeys(regimes)) if regimes else _default_regimes(session)
    for r in regimes:
        if r not in REGIMES:
            raise _bad(f"Unknown regime {r!r}", "use prc or gdpr", "regimes")
    clean: dict[str, dict[str, str]] = {}
    for key, texts in (facts or {}).items():
        if key not in FACTS:
            raise _bad(f"Unknown fact {key!r}", "use one of: " + ", ".join(FACTS), "facts")
        for lang, text in (texts or {}).items():
            if lang not in LANGUAGES:
                raise _bad(f"Unknown language {lang!r}", "use en or zh_CN", f"facts.{key}")
            _check_text(text, key)
            if text and text.strip():
                clean.setdefault(key, {})[lang] = text.strip()
    if "what_happened" not in clean:
        raise _bad(
            "Say what happened (in English, Chinese or both)",
            "give --what TEXT and/or --what-zh TEXT",
            "facts.what_happened",
        )
    incident = Incident(
        reference="I-" + "".join(secrets.choice(_ALPHABET) for _ in range(8)),
        title=title.strip(),
        severity=severity,
        occurred_at=occurred_at,
        discovered_at=discovered_at,
        categories=list(dict.fromkeys(categories)),
        subjects_affected=subjects_affected,
        ciio=ciio,
        high_risk=high_risk,
        regimes=regimes,
        facts=clean,
        notified={},
        status="open",
        recorded_by=actor,
    )
    session.add(incident)
    session.flush()
    audit(
        session,
        actor=actor,
        action="incident.recorded",
        object_type="incident",
        object_id=incident.reference,
        details={
            "severity": severity,
            "subjects": subjects_affected,
            "categories": incident.categories,
            "ciio": ciio,
            "high_risk": high_risk,
            "regimes": regimes,
            "clocks": [c.key for c in clocks(incident)],
        },
    )
    return incident


def get_incident(session: Session, reference: str) -> Incident:
    """One incident by reference (I-…)."""
    ref = reference.strip().upper()
    found = session.execute(select(Incident).where(Incident.reference == ref)).scalar()
    if found is None:
        raise NotFound(f"No incident {reference}", "list them with `privet incidents list`")
    return found


def mark_notified(session: Session, reference: str, clock: str, *, actor: str, at: datetime | None = None) -> Incident:
    """Record that the notice of one clock went out."""
    incident = get_incident(session, reference)
    keys = [c.key for c in clocks(incident)]
    if clock not in keys:
        raise _bad(
            f"No {clock!r} clock applies to {incident.reference}",
            "use one of: " + (", ".join(keys) or "none apply"),
            "clock",
        )
    if clock in incident.notified:
        raise Conflict(f"{clock} of {incident.reference} was already recorded as notified", "nothing to do")
    at = at or utcnow()
    if at.tzinfo is None:
        raise _bad("The time needs its time zone", "write e.g. 2026-03-01T10:00:00+08:00", "at")
    incident.notified = {**incident.notified, clock: at.isoformat()}
    session.flush()
    audit(
        session,
        actor=actor,
        action="incident.notified",
        object_type="incident",
        object_id=incident.reference,
        details={"clock": clock},
    )
    return incident


def close_incident(session: Session, reference: str, *, actor: str) -> Incident:
    """Close an incident (its remaining clocks stop showing as due)."""
    incident = get_incident(session, reference)
    if incident.status == "closed":
        raise Conflict(f"{incident.reference} is already closed", "nothing to do")
    incident.status = "closed"
    session.flush()
    audit(
        session, actor=actor, action="incident.closed", object_type="incident", object_id=incident.reference, details={}
    )
    return incident


def list_incidents(session: Session, *, status: str | None = None, limit: int = 200) -> list[Incident]:
    """Incidents, newest discovery first."""
    stmt = select(Incident).order_by(Incident.discovered_at.desc()).limit(limit)
    if status:
        stmt = stmt.where(Incident.status == status)
    return list(session.execute(stmt).scalars())


def due(session: Session, *, now: datetime | None = None) -> list[tuple[Incident, Clock, str]]:
    """Open incidents' clocks not yet done, overdue first, then by deadline ("asap" ones last)."""
    now = now or utcnow()
    out = [
        (i, c, c.state(now))
        for i in list_incidents(session, status="open", limit=10_000)
        for c in clocks(i)
        if c.done_at is None
    ]
    order = {"overdue": 0, "due": 1, "asap": 2}
    return sorted(out, key=lambda x: (order[x[2]], x[1].due_at or x[0].discovered_at))


def as_dict(incident: Incident, now: datetime | None = None) -> dict:
    """The incident as plain JSON, with its clocks."""
    now = now or utcnow()
    return {
        "reference": incident.reference,
        "title": incident.title,
        "severity": incident.severity,
        "occurred_at": incident.occurred_at.isoformat() if incident.occurred_at else None,
        "discovered_at": incident.discovered_at.isoformat(),
        "categories": incident.categories,
        "subjects_affected": incident.subjects_affected,
        "ciio": incident.ciio,
        "high_risk": incident.high_risk,
        "regimes": incident.regimes,
        "facts": incident.facts,
        "status": incident.status,
        "recorded_by": incident.recorded_by,
        "clocks": [c.as_dict(now) for c in clocks(incident)],
    }
