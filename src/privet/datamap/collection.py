"""The collection check (P2, P43): do a form's fields fit what a purpose needs?

Each processing activity lists the categories its purpose requires and those it may use if the person gives them.
A form (or an API, an import) names the category of each field it collects; the check says which required
categories are missing, which fields are optional (the form must say so where it collects them), and which fields
the purpose does not need at all (data minimisation: they should not be collected for it).

A field matches a declared category when one lies within the other (`user.contact.address.province` is within
`user.contact.address`): the taxonomy is a tree, and forms and data maps describe data at different depths.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from privet.kit.errors import InvalidInput, Problem
from privet.taxonomy.loader import Taxonomy

CHILD_TYPES = frozenset({"child", "guardian"})  # activities only for children: their requirements are apart


@dataclass(frozen=True)
class Field:
    """One field of the form: its category and, optionally, its name on the form."""

    category: str
    name: str | None = None


@dataclass
class FieldVerdict:
    """What the purpose makes of one field."""

    category: str
    name: str | None
    status: str  # required | optional | not_needed
    declared: str | None  # the declared category it matched
    sensitive: str | None  # the PIPL sensitive kind: collecting it needs separate consent

    def as_dict(self) -> dict:
        """JSON-ready form."""
        return {
            "name": self.name,
            "category": self.category,
            "status": self.status,
            "declared": self.declared,
            "sensitive": self.sensitive,
        }


@dataclass
class CollectionCheck:
    """The answer: whether the fields fit, and why not."""

    purpose: str
    declared_purpose: str  # the purpose itself, or the declared purpose it is a narrower use of
    activities: list[str]
    required: list[str]
    optional: list[str]
    fields: list[FieldVerdict]
    missing: list[str]  # required categories no field collects
    names: dict[str, str] = field(default_factory=dict)  # category -> its name in the asked language

    @property
    def not_needed(self) -> list[str]:
        """Categories of fields the purpose does not use."""
        return [f.category for f in self.fields if f.status == "not_needed"]

    @property
    def fits(self) -> bool:
        """Every required category is collected and nothing the purpose does not need."""
        return not self.missing and not self.not_needed

    def as_dict(self) -> dict:
        """JSON-ready form."""
        return {
            "purpose": self.purpose,
            "declared_purpose": self.declared_purpose,
            "fits": self.fits,
            "activities": self.activities,
            "required": self.required,
            "optional": self.optional,
            "missing": self.missing,
            "optional_present": [f.category for f in self.fields if f.status == "optional"],
            "not_needed": self.not_needed,
            "fields": [f.as_dict() for f in self.fields],
            "names": self.names,
        }


def _bad(message: str, where: str, hint: str) -> InvalidInput:
    return InvalidInput(message, hint, [Problem(message, where, hint)])


def _declared_purpose(session: Session, taxonomy: Taxonomy, purpose: str, activity: str | None) -> tuple[str, list]:
    from privet.datamap.models import DatamapActivity

    if purpose not in taxonomy.purposes:
        raise _bad(
            f"Unknown purpose {purpose!r}",
            "purpose",
            "use a purpose key of the taxonomy (privet taxonomy list purposes)",
        )
    candidates = [purpose, *taxonomy.ancestors(purpose, "purposes")]
    rows = list(
        session.execute(
            select(DatamapActivity).where(DatamapActivity.purpose.in_(candidates)).order_by(DatamapActivity.key)
        ).scalars()
    )
    for key in candidates:  # the nearest declared purpose: a narrower use of it is collected for the same needs
        found = [r for r in rows if r.purpose == key]
        if found:
            break
    else:
        raise _bad(
            f"undeclared purpose {purpose!r}: no processing activity of the applied data map uses it",
            "purpose",
            "declare an activity for it in the data map; data may be collected only for declared purposes (P7)",
        )
    if activity is not None:
        found = [r for r in found if r.key == activity]
        if not found:
            raise _bad(
                f"No activity {activity!r} serves {key!r}",
                "activity",
                "leave it out, or name an activity of this purpose (privet datamap show)",
            )
    return key, found


def _pick(activities: list, subject_type: str | None) -> list:
    """The activities a form for `subject_type` falls under: those naming it (or naming none); by default those
    not only for children and guardians, whose requirements (guardian consent) apply to their forms alone."""
    if subject_type is not None:
        chosen = [a for a in activities if not a.subject_types or subject_type in a.subject_types]
    else:
        chosen = [a for a in activities if not (a.subject_types and set(a.subject_types) <= CHILD_TYPES)]
    return chosen or activities


def _match(taxonomy: Taxonomy, category: str, declared: list[str]) -> str | None:
    within = taxonomy.is_within
    for d in declared:  # exact or narrower first, then a broader field covering a declared category
        if within(category, d, "categories"):
            return d
    for d in declared:
        if within(d, category, "categories"):
            return d
    return None


def check(
    session: Session,
    purpose: str,
    fields: list[Field],
    *,
    activity: str | None = None,
    subject_type: str | None = None,
    lang: str = "en",
) -> CollectionCheck:
    """Check a form's fields against what `purpose` needs; InvalidInput for unknown purposes or categories."""
    from privet.taxonomy.service import effective

    taxonomy = effective(session)
    if not fields:
        raise _bad("No fields given", "fields", "name the category of each field the form collects")
    problems = [
        Problem(
            f"Unknown data category {f.category!r}",
            f"fields.{i}.category",
            "use category keys of the taxonomy (privet taxonomy list categories)",
        )
        for i, f in enumerate(fields)
        if f.category not in taxonomy.categories
    ]
    if problems:
        raise InvalidInput(f"{len(problems)} field(s) name unknown data categories", problems[0].hint, problems)
    if subject_type is not None and subject_type not in taxonomy.subject_types:
        raise _bad(
            f"Unknown subject type {subject_type!r}",
            "subject_type",
            "use a subject type of the taxonomy (privet taxonomy list subject-types)",
        )
    declared_purpose, activities = _declared_purpose(session, taxonomy, purpose, activity)
    chosen = _pick(activities, subject_type)
    required = list(dict.fromkeys(c for a in chosen for c in a.required_categories))
    optional = [c for c in dict.fromkeys(c for a in chosen for c in a.optional_categories) if c not in required]
    verdicts: list[FieldVerdict] = []
    covered: set[str] = set()
    for f in fields:
        hit = _match(taxonomy, f.category, required)  # a declared category: never empty
        if hit:
            status = "required"
        else:
            hit = _match(taxonomy, f.category, optional)
            status = "optional" if hit else "not_needed"
        if status == "required":  # a broad field (`user.contact`) collects every required category within it
            covered.update(
                d
                for d in required
                if taxonomy.is_within(f.category, d, "categories") or taxonomy.is_within(d, f.category, "categories")
            )
        verdicts.append(FieldVerdict(f.category, f.name, status, hit, taxonomy.sensitive_kind(f.category)))
    missing = [c for c in required if c not in covered]
    shown = dict.fromkeys([*required, *optional, *(f.category for f in fields)])
    return CollectionCheck(
        purpose,
        declared_purpose,
        [a.key for a in chosen],
        required,
        optional,
        verdicts,
        missing,
        {c: taxonomy.label("categories", c, lang) for c in shown},
    )
