"""What each request type asks in the centre, and only that: the uses a person may withdraw consent from (the
ones they consented to), the uses they may object to, the fields they may correct grouped as people know them,
the complaint text. The form's answers are read back against exactly what was offered: anything else is a clear
error and nothing is filed."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from privet.kit.errors import InvalidInput, PrivetError
from privet.web.centre.common import N_

if TYPE_CHECKING:
    from starlette.datastructures import FormData

    from privet.consent.ledger.rules import Policy

MODES = {"object": N_("Object: stop this use"), "restrict": N_("Restrict: keep the data but do not use it")}
# Where the person says they live (optional): it selects the law the request is handled under (P41).
REGIONS = (
    ("", N_("Not said")),
    ("CN", N_("Mainland China")),
    ("EU", N_("European Union or EEA")),
    ("US-CA", N_("California, United States")),
)
# Bases a use cannot be objected to under (the law requires it, or someone's life depends on it).
NOT_OBJECTABLE = frozenset({"legal_obligation", "vital_interest"})
# Groups of correctable information, most specific first (an address is contact details, shown apart); each is a
# taxonomy category whose name (in the person's language) names the group.
GROUPS = (
    "user.name",
    "user.contact.address",
    "user.contact",
    "user.demographic",
    "user.professional",
    "user.organisation",
    "user.government_id",
    "user.account",
)
# Kept by the company's systems, not told by the person: ids, consent records, settings the person changes in the app.
NOT_CORRECTABLE = (
    "user.account.user_id",
    "user.account.third_party_id",
    "user.account.guardian_consent",
    "user.account.settings",
)
CHANGE = "change:"  # form field name prefix of a correction: change:<category>


@dataclass
class Offer:
    """What the form for one type offers: uses (withdrawal, restriction), groups of fields (rectification)."""

    type: str
    purposes: list[dict] = field(default_factory=list)
    groups: list[dict] = field(default_factory=list)
    signed_in: bool = False

    @property
    def purpose_keys(self) -> set[str]:
        return {p["key"] for p in self.purposes}

    @property
    def field_keys(self) -> set[str]:
        return {f["key"] for g in self.groups for f in g["fields"]}


def _policy(session: Session) -> Policy | None:
    """The consent policy of the applied data map; None before one is applied."""
    from privet.consent.ledger.rules import current_policy

    try:
        return current_policy(session)
    except PrivetError:
        return None


def _named(policy: Policy, keys: Iterable[str], lang: str) -> list[dict]:
    names = policy.taxonomy.purposes
    return sorted(
        ({"key": k, "name": names[k].label(lang) if k in names else k} for k in keys), key=lambda p: p["name"]
    )


def consented(session: Session, subject_id: str) -> set[str]:
    """Purposes this subject holds consent for now (the current-state projection)."""
    from privet.consent.ledger.projection import states
    from privet.consent.ledger.rules import POSITIVE_EVENTS

    return {s.purpose for s in states(session, [f"s:{subject_id}"]) if s.event in POSITIVE_EVENTS}


def correctable(session: Session, lang: str) -> list[dict]:
    """The categories the data map holds that a person can tell the company, grouped: [{key, name, fields}]."""
    from privet.datamap.models import DatamapField
    from privet.taxonomy.service import effective

    taxonomy = effective(session)
    held = {c for c in session.execute(select(DatamapField.category).distinct()).scalars() if c is not None}
    groups: dict[str, list[dict]] = {g: [] for g in GROUPS}
    for key in sorted(held):
        if key not in taxonomy.categories or any(taxonomy.is_within(key, x, "categories") for x in NOT_CORRECTABLE):
            continue
        group = next((g for g in GROUPS if taxonomy.is_within(key, g, "categories")), None)
        if group is not None:
            groups[group].append(
                {
                    "key": key,
                    "name": taxonomy.categories[key].label(lang),
                    "id": "fix-" + key.replace(".", "-").replace("_", "-"),
                }
            )
    return [
        {
            "key": g,
            "name": taxonomy.categories[g].label(lang) if g in taxonomy.categories else g,
            "fields": sorted(fields, key=lambda f: (f["key"] != g, f["name"])),
        }
        for g, fields in groups.items()
        if fields
    ]


def offer(session: Session, request_type: str, subject_id: str | None, lang: str) -> Offer:
    """What the form asks for `request_type`; `subject_id` is the person (or child) signed in, if any."""
    out = Offer(request_type, signed_in=subject_id is not None)
    if request_type in ("withdrawal", "restriction"):
        policy = _policy(session)
        if policy is None:
            return out
        if request_type == "withdrawal":
            keys = {k for k, r in policy.purposes.items() if r.consent_bases}
            if subject_id is not None:
                keys &= consented(session, subject_id)
        else:
            keys = {k for k, r in policy.purposes.items() if r.other_bases - NOT_OBJECTABLE}
        out.purposes = _named(policy, keys, lang)
    elif request_type == "rectification":
        out.groups = correctable(session, lang)
    return out


def read_details(form: FormData, offered: Offer) -> dict:
    """The details of the request from the form, only what was offered; InvalidInput (nothing filed) otherwise."""
    kind = offered.type
    if kind in ("withdrawal", "restriction"):
        chosen = list(dict.fromkeys(str(p)[:160] for p in form.getlist("purposes")))[:50]
        if not chosen:
            raise InvalidInput(N_("Choose at least one use"), N_("Tick the uses this request is about."))
        if set(chosen) - offered.purpose_keys:
            if kind == "withdrawal":
                raise InvalidInput(
                    N_("You have not given consent to one of the uses chosen, so there is nothing to withdraw"),
                    N_("Choose from the uses listed. Nothing was sent."),
                )
            raise InvalidInput(
                N_("One of the uses chosen cannot be objected to here"),
                N_("Choose from the uses listed. Nothing was sent."),
            )
        details: dict = {"purposes": chosen}
        if kind == "restriction":
            mode = str(form.get("mode") or "object")[:20]
            if mode not in MODES:
                raise InvalidInput(N_("Choose to object or to restrict"), N_("Nothing was sent."))
            details["mode"] = mode
        return details
    if kind == "rectification":
        changes = {}
        for name in form:
            if not name.startswith(CHANGE):
                continue
            category, value = name[len(CHANGE) :][:160], str(form.get(name) or "").strip()[:500]
            if category not in offered.field_keys:
                raise InvalidInput(
                    N_("This information cannot be corrected here"),
                    N_("Correct the fields shown on the form. Nothing was sent."),
                )
            if value:
                changes[category] = value
        if not changes:
            raise InvalidInput(
                N_("Enter the correct value of at least one field"),
                N_("Leave the fields that are right empty. Nothing was sent."),
            )
        return {"changes": changes}
    if kind == "complaint":
        return {"text": str(form.get("text") or "")[:5000]}
    return {}
