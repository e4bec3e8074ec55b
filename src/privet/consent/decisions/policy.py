"""What each declared purpose needs before data may be used for it, built from the data map and notices."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from privet.taxonomy.loader import Taxonomy

if TYPE_CHECKING:
    from privet.datamap.schemas import Manifest

# Purpose types a Global Privacy Control signal opts out of (sale, sharing, targeted advertising).
GPC_TYPES = frozenset({"marketing", "sharing"})
# Bases that no opt-out signal overrides: the law, or someone's life, requires the processing.
MANDATORY_BASES = frozenset({"legal_obligation", "vital_interest", "public_interest"})
CROSS_BORDER_PURPOSE = "transfer.cross_border"


@dataclass(frozen=True)
class PurposePolicy:
    """The rules for one declared purpose."""

    key: str
    type: str | None
    basis: str  # "consent", "separate_consent", or the non-consent basis (contract, legal_obligation, ...)
    consent: bool  # consent-based: needs a given, unexpired, current consent
    separate: bool  # the consent must be a separate consent
    child_consent: bool  # a child needs guardian consent even where adults rely on another basis
    categories: frozenset[str]
    sensitive: frozenset[str]  # the purpose's own categories that are sensitive
    gpc: bool  # a GPC signal opts the holder out of this purpose
    transfers: dict[str, str | None] = field(default_factory=dict)  # destination region -> mechanism
    material_at: datetime | None = None  # the latest material change of the notice covering this purpose


@dataclass(frozen=True)
class Policy:
    """Every declared purpose's rules plus the organisation profile; immutable once built."""

    key: tuple
    profile: str | None
    region: str | None
    child_age: int
    adults_only: bool
    purposes: dict[str, PurposePolicy]  # declared purposes
    taxonomy: Taxonomy
    material_history: dict[str, list[datetime]] = field(default_factory=dict)  # purpose -> ascending moments

    @property
    def transfer_purposes(self) -> tuple[str, ...]:
        """Declared cross-border transfer purposes: a consent to one of them covers transfers abroad."""
        return tuple(k for k in self.purposes if self.taxonomy.is_within(k, CROSS_BORDER_PURPOSE, "purposes"))

    def resolve(self, purpose: str) -> PurposePolicy | None:
        """The policy for `purpose`, or for its nearest declared ancestor (a narrower use of a declared purpose)."""
        found = self.purposes.get(purpose)
        if found is not None or purpose not in self.taxonomy.purposes:
            return found
        for ancestor in self.taxonomy.ancestors(purpose, "purposes"):
            if ancestor in self.purposes:
                return self.purposes[ancestor]
        return None

    def material_before(self, purpose: str, moment: datetime) -> datetime | None:
        """The latest material change of `purpose` in force at `moment` (None when there was none)."""
        earlier = [m for m in self.material_history.get(purpose, ()) if m <= moment]
        return earlier[-1] if earlier else None

    def is_cross_border(self, region: str | None) -> bool:
        """Whether using data in `region` leaves the organisation's region."""
        return bool(region) and bool(self.region) and self.region != "GLOBAL" and region != self.region

    def needs_transfer_consent(self, pp: PurposePolicy, region: str) -> bool:
        """PIPL always asks for separate consent abroad; elsewhere a declared mechanism suffices."""
        if self.profile == "pipl":
            return True
        mechanism = pp.transfers.get(region, pp.transfers.get("GLOBAL", "separate_consent"))
        return mechanism in (None, "separate_consent")


_cache: dict[tuple, tuple[dict, Policy]] = {}  # datamap key -> (material changes, policy)


def _purpose_type(taxonomy: Taxonomy, key: str) -> str | None:
    for candidate in (key, *taxonomy.ancestors(key, "purposes")):
        entry = taxonomy.purposes.get(candidate)
        if entry is not None and entry.type:
            return entry.type
    return None


def build_purposes(manifest: Manifest | None, taxonomy: Taxonomy) -> dict[str, PurposePolicy]:
    """One PurposePolicy per purpose named by a processing activity."""
    by_purpose: dict[str, list] = {}
    for activity in manifest.processing_activities if manifest else []:
        by_purpose.setdefault(activity.purpose, []).append(activity)
    out = {}
    for purpose, activities in by_purpose.items():

        def is_consent(basis: str) -> bool:
            entry = taxonomy.legal_bases.get(basis)
            return bool(entry and entry.consent) or basis in ("consent", "separate_consent")

        # Activities only for children (guardian consent) do not turn an adult's contract purpose into consent.
        child_only = [a for a in activities if a.subject_types and set(a.subject_types) <= {"child", "guardian"}]
        general = [a for a in activities if a not in child_only] or activities
        consent_bases = [a.legal_basis for a in general if is_consent(a.legal_basis)]
        other = [a.legal_basis for a in general if not is_consent(a.legal_basis)]
        if consent_bases:
            basis = "separate_consent" if "separate_consent" in consent_bases else consent_bases[0]
        else:
            basis = other[0]
        categories = frozenset(c for a in activities for c in (*a.required_categories, *a.optional_categories))
        ptype = _purpose_type(taxonomy, purpose)
        has_recipients = any(a.recipients for a in activities)
        gpc = basis not in MANDATORY_BASES and (ptype == "marketing" or (ptype in GPC_TYPES and has_recipients))
        out[purpose] = PurposePolicy(
            key=purpose,
            type=ptype,
            basis=basis,
            consent=bool(consent_bases),
            separate=basis == "separate_consent",
            child_consent=bool(consent_bases) or any(is_consent(a.legal_basis) for a in child_only),
            categories=categories,
            sensitive=frozenset(c for c in categories if taxonomy.sensitive_kind(c)),
            gpc=gpc,
            transfers={t.destination: t.mechanism for a in activities for t in a.transfers},
        )
    return out


def _datamap_key(session: Session) -> tuple:
    from privet.datamap.models import DatamapVersion
    from privet.taxonomy.models import TaxonomyExtension

    latest = session.execute(
        select(DatamapVersion.number, DatamapVersion.sha256).order_by(DatamapVersion.number.desc()).limit(1)
    ).first()
    digest = session.scalar(select(TaxonomyExtension.digest).limit(1))
    return (tuple(latest) if latest else None, digest)


def material_history(session: Session) -> dict[str, list[datetime]]:
    """Every material change moment per named purpose, ascending (the same moments as notices' material_changes)."""
    from privet.notices.models import NoticeVersion

    out: dict[str, set[datetime]] = {}
    rows = session.execute(
        select(NoticeVersion.material_purposes, NoticeVersion.published_at, NoticeVersion.effective_date)
    )
    for purposes, published_at, effective_date in rows:
        # notices.service.material_moment: publication, or the effective date if later
        moment = max(published_at, datetime.combine(effective_date, time(0), tzinfo=UTC))
        for purpose in purposes or ():
            out.setdefault(purpose, set()).add(moment)
    return {k: sorted(v) for k, v in out.items()}


def _for_purpose(taxonomy: Taxonomy, purpose: str, history: dict[str, list[datetime]]) -> list[datetime]:
    """A change named for the purpose or for a broader purpose containing it affects it."""
    keys = (purpose, *taxonomy.ancestors(purpose, "purposes"))
    return sorted({m for k in keys for m in history.get(k, ())})


def load_policy(session: Session) -> Policy:
    """The policy in force: cached per data map version and notice material changes."""
    from privet.datamap.service import current
    from privet.taxonomy.service import effective

    dm_key = _datamap_key(session)
    named = material_history(session)
    cached = _cache.get(dm_key)
    if cached is not None and cached[0] == named:
        return cached[1]
    taxonomy = effective(session)
    manifest = current(session)
    purposes = build_purposes(manifest, taxonomy)
    history = {k: _for_purpose(taxonomy, k, named) for k in purposes}
    purposes = {k: _with_material(p, history[k]) for k, p in purposes.items()}
    org = manifest.organisation if manifest else None
    policy = Policy(
        key=(dm_key, _history_key(history)),
        profile=org.profile.value if org else None,
        region=org.region if org else None,
        child_age=org.child_age if org else 14,
        adults_only=bool(org and org.adults_only),
        purposes=purposes,
        taxonomy=taxonomy,
        material_history=history,
    )
    if len(_cache) > 32:
        _cache.clear()
    _cache[dm_key] = (named, policy)
    return policy


def _with_material(pp: PurposePolicy, moments: list[datetime] | None) -> PurposePolicy:
    if not moments:
        return pp
    from dataclasses import replace

    return replace(pp, material_at=moments[-1])


def _history_key(history: dict[str, list[datetime]]) -> tuple:
    return tuple(sorted((k, tuple(m.isoformat() for m in v)) for k, v in history.items()))
