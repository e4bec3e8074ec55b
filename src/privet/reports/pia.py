"""Personal information protection impact assessments (PIPL Art 55, 56).

Art 55 asks for an assessment before processing sensitive personal information, entrusting processing to a
processor, providing data to another controller (sharing), disclosing it publicly, or transferring it abroad
(and for automated decision-making). `sync_drafts` reads the applied data map and opens a draft for every
activity with one of those triggers; an officer answers the fixed questionnaire and concludes. Art 56: the
report is kept at least three years, so a concluded assessment cannot be deleted before `retain_until`.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from privet.audit.service import record as audit
from privet.kit.clock import utcnow
from privet.kit.errors import Conflict, InvalidInput, NotFound, Problem
from privet.reports.models import ImpactAssessment

if TYPE_CHECKING:
    from privet.datamap.schemas import ProcessingActivity
    from privet.taxonomy.loader import Taxonomy

TRIGGERS = ("sensitive_data", "processor", "sharing", "public_disclosure", "cross_border")
OUTCOMES = ("acceptable", "acceptable_with_measures", "not_acceptable")
MIN_RETENTION_YEARS = 3  # PIPL Art 56
_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"

# The questionnaire: (key, question, the trigger it belongs to or None for every assessment). PIPL Art 56(1)-(3).
QUESTIONS: tuple[tuple[str, str, str | None], ...] = (
    ("lawful_purpose", "Are the purpose and the method of processing lawful, legitimate and necessary?", None),
    ("minimal", "Is the data collected the minimum the purpose needs, and kept no longer than necessary?", None),
    ("impact", "What is the impact on the people's rights and interests, and what are the security risks?", None),
    ("measures", "Are the protection measures lawful, effective and proportionate to the risk? Which are they?", None),
    (
        "sensitive_data",
        "Why is the sensitive personal information strictly necessary, how is separate consent "
        "obtained, and how are people told of the necessity and impact (PIPL Art 28-30)?",
        "sensitive_data",
    ),
    (
        "processor",
        "Does the entrustment agreement fix purpose, duration, method, categories, protection measures "
        "and both sides' duties, and how is the processor supervised (PIPL Art 21)?",
        "processor",
    ),
    (
        "sharing",
        "Which recipients receive the data, on what consent or legal ground, and are they bound to the "
        "same purpose and method (PIPL Art 23)?",
        "sharing",
    ),
    (
        "public_disclosure",
        "Is there a separate consent or a legal requirement for the disclosure, and is what is "
        "disclosed minimised (PIPL Art 25)?",
        "public_disclosure",
    ),
    (
        "cross_border",
        "Which mechanism covers the transfer (security assessment, certification, standard "
        "contract), do people give separate consent, and can the recipient meet PIPL's standard "
        "(PIPL Art 38-39)?",
        "cross_border",
    ),
)


def _bad(message: str, hint: str, where: str) -> InvalidInput:
    return InvalidInput(message, hint, [Problem(message, where, hint)])


def triggers_of(activity: ProcessingActivity, taxonomy: Taxonomy, home: str | None = None) -> list[str]:
    """The Art 55 triggers a data map activity has (`home`: the organisation's region)."""
    found = []
    categories = [*activity.required_categories, *activity.optional_categories]
    # all information of a child under 14 is sensitive (PIPL Art 28)
    if any(taxonomy.sensitive_kind(c) for c in categories) or "child" in activity.subject_types:
        found.append("sensitive_data")
    if activity.processors:
        found.append("processor")
    if activity.recipients:
        found.append("sharing")
    if taxonomy.is_within(activity.purpose, "sharing.public_disclosure", "purposes"):
        found.append("public_disclosure")
    abroad = home and home != "GLOBAL" and any(r not in (home, "GLOBAL") for r in activity.storage_locations)
    if activity.transfers or abroad:
        found.append("cross_border")
    return found


def questions_for(triggers: list[str]) -> list[tuple[str, str]]:
    """The questions an assessment with these triggers must answer, in order."""
    return [(k, q) for k, q, t in QUESTIONS if t is None or t in triggers]


def sync_drafts(session: Session, *, actor: str) -> list[ImpactAssessment]:
    """Open a draft for each activity of the applied data map that needs an assessment and has no current one
    (a concluded assessment whose triggers still cover the activity's counts as current). Returns the new ones."""
    from privet.datamap.service import current, latest_version
    from privet.taxonomy.service import effective

    manifest = current(session)
    if manifest is None:
        return []
    taxonomy = effective(session)
    version = latest_version(session)
    existing: dict[str, list[ImpactAssessment]] = {}
    for row in session.execute(
        select(ImpactAssessment).where(ImpactAssessment.status != "superseded").order_by(ImpactAssessment.created_at)
    ).scalars():
        existing.setdefault(row.activity_key, []).append(row)
    created = []
    home = manifest.organisation.region if manifest.organisation else None
    for activity in manifest.processing_activities:
        triggers = triggers_of(activity, taxonomy, home)
        if not triggers:
            continue
        rows = existing.get(activity.key, [])
        draft = next((r for r in rows if r.status == "draft"), None)
        if draft is not None:
            if draft.triggers != triggers or draft.activity_name != activity.name:
                draft.triggers, draft.activity_name = triggers, activity.name
                draft.datamap_version = version.number if version else None
                audit(
                    session,
                    actor=actor,
                    action="pia.redrafted",
                    object_type="impact_assessment",
                    object_id=draft.reference,
                    details={"activity": activity.key, "triggers": triggers},
                )
            continue
        if any(r.status == "concluded" and set(triggers) <= set(r.triggers) for r in rows):
            continue
        row = ImpactAssessment(
            reference="A-" + "".join(secrets.choice(_ALPHABET) for _ in range(8)),
            activity_key=activity.key,
            activity_name=activity.name,
            triggers=triggers,
            datamap_version=version.number if version else None,
            status="draft",
            answers={},
        )
        session.add(row)
        created.append(row)
    session.flush()
    for row in created:
        audit(
            session,
            actor=actor,
            action="pia.drafted",
            object_type="impact_assessment",
            object_id=row.reference,
            details={"activity": row.activity_key, "triggers": row.triggers},
        )
    return created


def list_assessments(session: Session, *, status: str | None = None) -> list[ImpactAssessment]:
    """Assessments by activity, newest first within each."""
    stmt = select(ImpactAssessment).order_by(ImpactAssessment.activity_key, ImpactAssessment.created_at.desc())
    if status:
        stmt = stmt.where(ImpactAssessment.status == status)
    return list(session.execute(stmt).scalars())


def get_assessment(session: Session, reference: str) -> ImpactAssessment:
    """One assessment by reference (A-…)."""
    found = session.execute(
        select(ImpactAssessment).where(ImpactAssessment.reference == reference.strip().upper())
    ).scalar()
    if found is None:
        raise NotFound(f"No impact assessment {reference}", "list them with `privet report pia list`")
    return found


def answer(session: Session, reference: str, answers: dict[str, str], *, actor: str) -> ImpactAssessment:
    """Store answers to questions of a draft (other answers are kept)."""
    row = get_assessment(session, reference)
    if row.status != "draft":
        raise Conflict(
            f"{row.reference} is {row.status}; only drafts take answers",
            "a changed activity gets a new draft: privet report pia list",
        )
    allowed = dict(questions_for(row.triggers))
    for key, text in answers.items():
        if key not in allowed:
            raise _bad(f"{key!r} is not a question of {row.reference}", "use one of: " + ", ".join(allowed), "answers")
        if not (text or "").strip():
            raise _bad(f"The answer to {key!r} is empty", "write the answer", f"answers.{key}")
    if not answers:
        raise _bad("No answers given", "give QUESTION=ANSWER pairs", "answers")
    row.answers = {**row.answers, **{k: v.strip() for k, v in answers.items()}}
    session.flush()
    audit(
        session,
        actor=actor,
        action="pia.answered",
        object_type="impact_assessment",
        object_id=row.reference,
        details={"questions": sorted(answers)},
    )
    return row


def _plus_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February: the 1 March after
        return date(day.year + years, 3, 1)


def conclude(
    session: Session,
    reference: str,
    *,
    outcome: str,
    conclusion: str,
    actor: str,
    at: datetime | None = None,
    retain_years: int = MIN_RETENTION_YEARS,
) -> ImpactAssessment:
    """Conclude a draft whose questions are all answered; it is then kept at least three years."""
    row = get_assessment(session, reference)
    if row.status != "draft":
        raise Conflict(f"{row.reference} is already {row.status}", "nothing to do")
    if outcome not in OUTCOMES:
        raise _bad(f"Unknown outcome {outcome!r}", "use one of: " + ", ".join(OUTCOMES), "outcome")
    if not (conclusion or "").strip():
        raise _bad("The conclusion is empty", "write the assessment's conclusion", "conclusion")
    if retain_years < MIN_RETENTION_YEARS:
        raise _bad("PIPL Art 56 keeps an assessment at least three years", "give 3 or more years", "retain_years")
    missing = [k for k, _ in questions_for(row.triggers) if k not in row.answers]
    if missing:
        raise _bad(
            f"{len(missing)} question(s) are unanswered: {', '.join(missing)}",
            f"answer them first: privet report pia answer {row.reference} KEY=TEXT",
            "answers",
        )
    at = at or utcnow()
    row.status, row.outcome, row.conclusion = "concluded", outcome, conclusion.strip()
    row.concluded_at, row.concluded_by = at, actor
    row.retain_until = _plus_years(at.date(), retain_years)
    for other in session.execute(
        select(ImpactAssessment).where(
            ImpactAssessment.activity_key == row.activity_key,
            ImpactAssessment.status == "concluded",
            ImpactAssessment.id != row.id,
        )
    ).scalars():
        other.status = "superseded"  # still kept until its own retain_until
    session.flush()
    audit(
        session,
        actor=actor,
        action="pia.concluded",
        object_type="impact_assessment",
        object_id=row.reference,
        details={"activity": row.activity_key, "outcome": outcome, "retain_years": retain_years},
    )
    return row


def delete(session: Session, reference: str, *, actor: str, today: date | None = None) -> None:
    """Delete an assessment; refused for a concluded one before its retention date (PIPL Art 56)."""
    row = get_assessment(session, reference)
    today = today or utcnow().date()
    if row.retain_until is not None and today < row.retain_until:
        raise Conflict(
            f"{row.reference} must be kept until {row.retain_until.isoformat()} (PIPL Art 56: at least "
            "three years); nothing was deleted",
            "wait until the retention date has passed",
        )
    session.delete(row)
    session.flush()
    audit(
        session,
        actor=actor,
        action="pia.deleted",
        object_type="impact_assessment",
        object_id=row.reference,
        details={"activity": row.activity_key, "status": row.status},
    )


def as_dict(row: ImpactAssessment) -> dict:
    """An assessment with its questionnaire as plain JSON."""
    return {
        "reference": row.reference,
        "activity": row.activity_key,
        "activity_name": row.activity_name,
        "triggers": row.triggers,
        "status": row.status,
        "datamap_version": row.datamap_version,
        "questions": [{"key": k, "question": q, "answer": row.answers.get(k)} for k, q in questions_for(row.triggers)],
        "outcome": row.outcome,
        "conclusion": row.conclusion,
        "concluded_at": row.concluded_at.isoformat() if row.concluded_at else None,
        "concluded_by": row.concluded_by,
        "retain_until": row.retain_until.isoformat() if row.retain_until else None,
        "created_at": row.created_at.isoformat() if row.created_at else None,
    }
