"""What the ledger may record: the purposes the applied data map declares and the legal bases they rest on.

Built once per applied data map version and kept in a module-level cache (keyed by version number and digest),
so recording a consent costs one small query for the current version instead of re-reading the data map.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from privet.kit.errors import InvalidInput, Problem
from privet.taxonomy.loader import Taxonomy

CONSENT_EVENTS = frozenset({"given", "refused", "withdrawn", "expired", "renewed"})
OBJECTION_EVENTS = frozenset({"objected", "restricted", "lifted"})
EVENTS = CONSENT_EVENTS | OBJECTION_EVENTS
POSITIVE_EVENTS = frozenset({"given", "renewed"})
METHODS = ("banner", "form", "api", "guardian", "import", "staff", "gpc")
SEPARATE_KINDS = ("sensitive", "third_party", "disclosure", "cross_border")
SEPARATE = "separate_consent"


@dataclass(frozen=True)
class PurposeRule:
    """How the data map uses one purpose: its legal bases and what its consent activities involve."""

    key: str
    type: str
    bases: frozenset[str]  # legal bases of the activities using the purpose
    consent_bases: frozenset[str]  # those that are consent (withdrawable)
    sensitive: bool = False  # a consent activity of the purpose names a sensitive category
    cross_border: bool = False  # a consent activity of the purpose transfers data abroad

    @property
    def other_bases(self) -> frozenset[str]:
        """The non-consent bases (contract, legal obligation, ...): objections apply to these."""
        return self.bases - self.consent_bases


@dataclass(frozen=True)
class Policy:
    """The applied data map's purposes and organisation, with the effective taxonomy."""

    version: int
    taxonomy: Taxonomy
    purposes: dict[str, PurposeRule]
    organisation: dict = field(default_factory=dict)  # name, responsible, profile, region, child_age, adults_only

    @property
    def profile(self) -> str:
        """The organisation profile (pipl, gdpr, ccpa)."""
        return self.organisation.get("profile") or "pipl"


_cache: dict[tuple[int, str], Policy] = {}


_latest = None  # the Core statement reading the applied version, built once


def current_policy(session: Session) -> Policy:
    """The policy of the applied data map (cached per version); InvalidInput before any map is applied."""
    global _latest
    if _latest is None:
        from privet.datamap.models import DatamapVersion

        v = DatamapVersion.__table__.c
        _latest = select(v.number, v.sha256).order_by(v.number.desc()).limit(1)
    session.flush()  # a data map applied earlier in this transaction counts (what autoflush did for the ORM query)
    row = session.connection().execute(_latest).first()
    return policy_for(session, tuple(row) if row is not None else None)


def policy_for(session: Session, version: tuple[int, str] | None) -> Policy:
    """The policy of the applied data map version (number, sha256), built once per version."""
    if version is None:
        raise InvalidInput(
            "No data map is applied, so no purpose is declared",
            "apply the company's data map first: privet datamap apply PATH",
        )
    found = _cache.get(version)
    if found is None:
        found = _build(session, version[0])
        if len(_cache) > 8:
            _cache.clear()
        _cache[version] = found
    return found


def _build(session: Session, number: int) -> Policy:
    from privet.datamap import service as datamap
    from privet.taxonomy.service import effective

    taxonomy = effective(session)
    manifest = datamap.current(session)
    activities: dict[str, list] = {}
    for activity in manifest.processing_activities if manifest else []:
        activities.setdefault(activity.purpose, []).append(activity)
    consent_keys = {k for k, b in taxonomy.legal_bases.items() if b.consent}
    purposes = {}
    for key, acts in activities.items():
        bases = frozenset(a.legal_basis for a in acts)
        consenting = [a for a in acts if a.legal_basis in consent_keys]
        entry = taxonomy.purposes.get(key)
        purposes[key] = PurposeRule(
            key=key,
            type=entry.type if entry else "service",
            bases=bases,
            consent_bases=frozenset(a.legal_basis for a in consenting),
            sensitive=any(
                taxonomy.sensitive_kind(c) for a in consenting for c in (*a.required_categories, *a.optional_categories)
            ),
            cross_border=any(a.transfers for a in consenting),
        )
    organisation = manifest.organisation.model_dump(mode="json") if manifest and manifest.organisation else {}
    return Policy(number, taxonomy, purposes, organisation)


def _bad(message: str, hint: str, where: str) -> InvalidInput:
    return InvalidInput(message, hint, [Problem(message, where, hint)])


def purpose_rule(policy: Policy, purpose: str) -> PurposeRule:
    """The rule for a declared purpose; InvalidInput for unknown or undeclared ones (P7)."""
    if purpose not in policy.taxonomy.purposes:
        raise _bad(
            f"Unknown purpose {purpose!r}",
            "use a purpose key of the taxonomy (privet taxonomy list purposes)",
            "purpose",
        )
    rule = policy.purposes.get(purpose)
    if rule is None:
        declared = ", ".join(sorted(policy.purposes)[:12])
        raise _bad(
            f"undeclared purpose {purpose!r}: no processing activity of the applied data map uses it",
            f"declare an activity for it in the data map, or use a declared purpose ({declared}, ...)",
            "purpose",
        )
    return rule


def check_categories(policy: Policy, categories: list[str] | None) -> list[str]:
    """The categories, de-duplicated in order; InvalidInput naming the unknown ones."""
    out: list[str] = []
    for i, category in enumerate(categories or []):
        if not isinstance(category, str) or category not in policy.taxonomy.categories:
            raise _bad(
                f"Unknown data category {category!r}",
                "use category keys of the taxonomy (privet taxonomy list categories)",
                f"categories.{i}",
            )
        if category not in out:
            out.append(category)
    return out


def derived_kind(policy: Policy, rule: PurposeRule, categories: list[str]) -> str | None:
    """The separate-consent kind this consent needs: sensitive data first, then provision, disclosure, transfer."""
    taxonomy = policy.taxonomy
    if any(taxonomy.sensitive_kind(c) for c in categories):
        return "sensitive"
    strict = policy.profile == "pipl" or SEPARATE in rule.consent_bases  # PIPL Art 23, 25, 39 separate consent
    if strict:
        if taxonomy.is_within(rule.key, "sharing.public_disclosure", "purposes"):
            return "disclosure"
        if taxonomy.is_within(rule.key, "transfer.cross_border", "purposes") or rule.cross_border:
            return "cross_border"
        if rule.type in ("sharing", "partner"):
            return "third_party"
    return "sensitive" if rule.sensitive and SEPARATE in rule.consent_bases else None


def legal_basis_for(
    policy: Policy,
    rule: PurposeRule,
    event: str,
    categories: list[str],
    legal_basis: str | None,
    separate_kind: str | None,
) -> tuple[str, str | None]:
    """(legal basis, separate kind) of a record, or InvalidInput when the event does not fit the purpose."""
    if event not in EVENTS:
        raise _bad(f"Unknown event {event!r}", "use one of: " + ", ".join(sorted(EVENTS)), "event")
    bases = policy.taxonomy.legal_bases
    if legal_basis is not None and legal_basis not in bases:
        raise _bad(f"Unknown legal basis {legal_basis!r}", "use a legal basis key of the taxonomy", "legal_basis")
    if event in OBJECTION_EVENTS:
        if not rule.other_bases:
            raise _bad(
                f"{rule.key} relies on consent only; objections are for purposes on another legal basis",
                "record a withdrawal (event withdrawn) instead",
                "event",
            )
        if separate_kind is not None:
            raise _bad("A separate kind applies to consent only", "leave separate_kind out", "separate_kind")
        if legal_basis is not None and legal_basis not in rule.other_bases:
            raise _bad(
                f"{rule.key} does not rest on {legal_basis!r}",
                "use one of: " + ", ".join(sorted(rule.other_bases)),
                "legal_basis",
            )
        return legal_basis or sorted(rule.other_bases)[0], None
    if not rule.consent_bases:
        raise _bad(
            "this purpose does not rely on consent; record an objection instead",
            f"{rule.key} rests on {', '.join(sorted(rule.bases))}: use event objected, restricted or lifted",
            "event",
        )
    if legal_basis is not None and not bases[legal_basis].consent:
        raise _bad(f"A consent event cannot rest on {legal_basis!r}", "use consent or separate_consent", "legal_basis")
    if separate_kind is not None and separate_kind not in SEPARATE_KINDS:
        raise _bad(
            f"Unknown separate kind {separate_kind!r}", "use one of: " + ", ".join(SEPARATE_KINDS), "separate_kind"
        )
    kind = derived_kind(policy, rule, categories)
    if kind == "sensitive" or separate_kind is None:  # sensitive data always forces its own separate consent
        separate_kind = kind or separate_kind
    if separate_kind is not None:
        return SEPARATE, separate_kind
    if legal_basis is None:
        legal_basis = SEPARATE if rule.consent_bases == {SEPARATE} else "consent"
    return legal_basis, None
