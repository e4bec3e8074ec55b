"""Which consent choices the privacy centre shows a person, and what it says about each.

Consent is recorded per purpose, but a purpose can be used on several legal bases (account registration runs on
a contract for everybody; only children's accounts need a guardian's separate consent). So a card is built from
the data map's *consent* activities of a purpose that concern the person, and the activities on other bases are
listed apart as needed for the service, with no consent asked.

Who an activity concerns (the rule the page states): an activity about a child (a child's information, or the
subject type `child`) only on a child's page: a guardian acting for the child, or a person whose recorded age is
under the child age. An activity for some subject types (device owners, say) only to people of those types; when
Privet does not know the person's type, it is shown with whom it is for. A consent the person holds now is always
shown, so it can be withdrawn.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from privet.consent.ledger.rules import SEPARATE, Policy, derived_kind
from privet.web.centre.common import N_

CHILD_CATEGORY = "user.minor"
CHILD_TYPES = frozenset({"child"})
KINDS = {
    "third_party": N_("Sharing with another company"),
    "disclosure": N_("Public disclosure"),
    "cross_border": N_("Transfer outside the country"),
}


@dataclass(frozen=True)
class Viewer:
    """Whom the consent page is about, as far as Privet can tell."""

    subject_type: str | None  # None: Privet does not know which of the company's services the person uses
    child: bool  # a guardian acts for a child, or the person's recorded age is under the child age
    child_age: int
    needs_guardian: bool = False  # a child on their own page: a consent must come from a guardian (PIPL Art 31)


@dataclass(frozen=True)
class Use:
    """One processing activity of the applied data map, as the centre needs it."""

    purpose: str
    legal_basis: str
    categories: tuple[str, ...]
    subject_types: tuple[str, ...]


def viewer_for(session: Session, policy: Policy, subject_id: str, acting_as_guardian: bool) -> Viewer:
    """The viewer of the consent page of `subject_id` (a child when a guardian acts for one)."""
    from privet.subjects.ages import age_policy, is_child
    from privet.subjects.service import get_subject

    subject = get_subject(session, subject_id)
    child_age = policy.organisation.get("child_age") or age_policy(session).child_age
    child = is_child(subject)
    return Viewer(
        subject.subject_type,
        acting_as_guardian or child,
        int(child_age),
        needs_guardian=child and not acting_as_guardian,
    )


def uses(session: Session) -> list[Use]:
    """The applied data map's processing activities (purpose, basis, categories, subject types)."""
    from privet.datamap.models import DatamapActivity as A

    rows = session.execute(
        select(A.purpose, A.legal_basis, A.required_categories, A.optional_categories, A.subject_types).order_by(A.key)
    )
    return [Use(p, b, tuple((req or []) + (opt or [])), tuple(types or [])) for p, b, req, opt, types in rows]


def about_child(policy: Policy, use: Use) -> bool:
    """Whether the use is about children: a child's information, or people of the subject type `child`."""
    return bool(CHILD_TYPES & set(use.subject_types)) or any(
        policy.taxonomy.is_within(c, CHILD_CATEGORY, "categories") for c in use.categories
    )


def concerns(policy: Policy, use: Use, viewer: Viewer) -> bool:
    """Whether the use concerns the viewer (the module's rule)."""
    if about_child(policy, use):
        return viewer.child
    types = set(use.subject_types) - {"guardian"}
    return not types or viewer.subject_type is None or viewer.subject_type in types


@dataclass
class Card:
    """What a consent card says about its purpose beyond name and state."""

    separate: bool
    reasons: list[str]  # what makes it separate, in the page's language
    for_whom: list[str]  # subject type names, when the use is for some people only and Privet cannot tell


def describe(
    policy: Policy, purpose: str, found: list[Use], viewer: Viewer, lang: str, translate: Callable[[str], str]
) -> Card:
    """The card of a purpose from its consent uses shown to the viewer."""
    taxonomy, rule = policy.taxonomy, policy.purposes[purpose]
    reasons: list[str] = []
    sensitive = [
        c
        for u in found
        for c in u.categories
        if taxonomy.sensitive_kind(c) and not taxonomy.is_within(c, CHILD_CATEGORY, "categories")
    ]
    if any(about_child(policy, u) for u in found):
        reasons.append(
            translate(
                N_(
                    "About a child: the law asks a guardian's separate consent for the personal "
                    "information of a child under %(age)s."
                )
            )
            % {"age": viewer.child_age}
        )
    if sensitive:
        names = ", ".join(dict.fromkeys(taxonomy.label("categories", c, lang) for c in sensitive))
        reasons.append(translate(N_("Sensitive personal information")) + ": " + names)
    kind = derived_kind(policy, rule, [])
    if kind in KINDS:
        reasons.append(translate(KINDS[kind]))
    separate = bool(reasons) or any(u.legal_basis == SEPARATE for u in found)
    if separate and not reasons:
        reasons.append(translate(N_("Separate consent")))
    for_whom: list[str] = []
    if viewer.subject_type is None and not any(about_child(policy, u) for u in found):
        types = {t for u in found for t in u.subject_types if t != "guardian"}
        if types and all(u.subject_types for u in found):
            for_whom = sorted(taxonomy.label("subject_types", t, lang) for t in types)
    return Card(separate, reasons, for_whom)


def needed_for_service(policy: Policy, found: list[Use], viewer: Viewer, lang: str) -> list[dict]:
    """Purposes used on a basis other than consent that concern the viewer: name and bases, in the page's language."""
    taxonomy = policy.taxonomy
    consent_bases = {k for k, b in taxonomy.legal_bases.items() if b.consent}
    bases: dict[str, dict[str, None]] = {}
    for use in found:
        if use.legal_basis not in consent_bases and concerns(policy, use, viewer):
            bases.setdefault(use.purpose, {})[use.legal_basis] = None
    out = [
        {
            "name": taxonomy.label("purposes", p, lang),
            "bases": ", ".join(taxonomy.label("legal_bases", b, lang) for b in found_bases),
        }
        for p, found_bases in bases.items()
    ]
    return sorted(out, key=lambda item: item["name"])
