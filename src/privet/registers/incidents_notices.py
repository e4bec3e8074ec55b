"""Draft incident notices to the people affected and to the regulator, in English and Simplified Chinese.

Texts live in `incidents_notices.<language>.yaml`; the values filled in are the incident's facts (categories
by their taxonomy names, counts, times, the officer's texts) and the organisation's responsible contact from
the data map. Nothing about any individual is read, so no personal data can reach a notice.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from importlib import resources

import yaml
from sqlalchemy.orm import Session

from privet.kit.errors import InvalidInput
from privet.registers.crossborder_rules import CST
from privet.registers.incidents import LANGUAGES, clocks
from privet.registers.incidents_models import Incident

AUDIENCES = ("people", "regulator")


@cache
def texts(language: str) -> dict:
    """The notice texts of one language."""
    raw = resources.files("privet.registers").joinpath(f"incidents_notices.{language}.yaml").read_text("utf-8")
    return yaml.safe_load(raw)


def _when(moment: datetime | None, t: dict) -> str:
    if moment is None:
        return t["missing"]
    return moment.astimezone(CST if t["time_zone"] == "CST" else UTC).strftime(t["time_format"])


def _fact(incident: Incident, key: str, language: str, t: dict, default: str | None = None) -> str:
    given = (incident.facts or {}).get(key) or {}
    if given.get(language):
        return given[language]
    other = next((v for v in given.values() if v), None)
    if other:
        return t["untranslated"] + other
    return default if default is not None else t["missing"]


def _contact(session: Session) -> tuple[str, str]:
    from privet.datamap.service import current

    manifest = current(session)
    org = manifest.organisation if manifest else None
    if org is None:
        return "", ""
    r = org.responsible
    details = ", ".join(v for v in (r.email, r.phone, r.address) if v)
    return r.name, f" ({details})" if details else ""


def draft(session: Session, incident: Incident, audience: str, language: str) -> dict:
    """{"audience", "language", "subject", "body"} of one draft notice."""
    from privet.datamap.service import current
    from privet.taxonomy.service import effective

    if audience not in AUDIENCES:
        raise InvalidInput(f"Unknown audience {audience!r}", "use people or regulator")
    if language not in LANGUAGES:
        raise InvalidInput(f"Unknown language {language!r}", "use en or zh_CN")
    t = texts(language)
    taxonomy = effective(session)
    manifest = current(session)
    organisation = manifest.organisation.name if manifest and manifest.organisation else t["missing"]
    contact_name, contact_details = _contact(session)
    sep = "、" if language == "zh_CN" else ", "
    values = {
        "organisation": organisation,
        "reference": incident.reference,
        "title": incident.title,
        "severity": t["severities"][incident.severity],
        "ciio": t["answer_yes"] if incident.ciio else t["answer_no"],
        "occurred_at": _when(incident.occurred_at, t),
        "discovered_at": _when(incident.discovered_at, t),
        "subjects": f"{incident.subjects_affected:,}",
        "categories": sep.join(taxonomy.label("categories", c, language) for c in incident.categories),
        "sensitive": sep.join(
            taxonomy.label("categories", c, language) for c in incident.categories if taxonomy.sensitive_kind(c)
        )
        or t["none"],
        "what_happened": _fact(incident, "what_happened", language, t),
        "consequences": _fact(incident, "consequences", language, t, t["default_consequences"]),
        "measures": _fact(incident, "measures", language, t),
        "advice": _fact(incident, "advice", language, t, t["default_advice"]),
        "contact_name": contact_name or t["missing"],
        "contact_details": contact_details,
    }
    part = t[audience]
    if audience == "people":
        values["occurred"] = part["occurred"].format(**values) if incident.occurred_at else ""
    else:
        applied = [c for c in clocks(incident) if c.audience == "regulator"]
        prc = part["authority_prc_ciio"] if incident.ciio else part["authority_prc"]
        authorities = [prc if c.key == "prc_regulator" else part["authority_gdpr"] for c in applied]
        values["authority"] = ("；" if language == "zh_CN" else "; ").join(authorities) or prc
        values["people_notice"] = part["people_yes"] if incident.high_risk else part["people_no"]
        values["rules"] = (
            "\n".join("- " + t["rules"][c.key].format(hours=c.hours, due=_when(c.due_at, t)) for c in applied)
            or t["none"]
        )
    return {
        "audience": audience,
        "language": language,
        "subject": part["subject"].format(**values),
        "body": part["body"].format(**values).rstrip() + "\n",
    }


def drafts(
    session: Session,
    incident: Incident,
    *,
    audiences: tuple[str, ...] = AUDIENCES,
    languages: tuple[str, ...] = LANGUAGES,
) -> list[dict]:
    """Every requested draft (people and regulator, English and Chinese by default)."""
    return [draft(session, incident, a, lang) for a in audiences for lang in languages]
