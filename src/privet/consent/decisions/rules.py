"""Decisions: may this subject's (or visitor's) data be used for this purpose now, or at an earlier time?

The rules live in `evaluate`, which works on plain tuples so the in-memory `Decider` (`decisions.service`)
answers with dictionary lookups only; `decisions.service.decide(session, ...)` answers one question straight
from the store with the same rules (the CLI, decisions at an earlier time).
"""

from __future__ import annotations

from datetime import datetime
from typing import TypeGuard

from privet.consent.decisions.policy import MANDATORY_BASES, Policy, PurposePolicy

# Reason codes (stable: clients branch on them).
CONSENT_GIVEN = "CONSENT_GIVEN"
NO_CONSENT = "NO_CONSENT"
CONSENT_WITHDRAWN = "CONSENT_WITHDRAWN"
CONSENT_EXPIRED = "CONSENT_EXPIRED"
CONSENT_REFUSED = "CONSENT_REFUSED"
CONSENT_BEFORE_MATERIAL_CHANGE = "CONSENT_BEFORE_MATERIAL_CHANGE"
SEPARATE_CONSENT_REQUIRED = "SEPARATE_CONSENT_REQUIRED"
GUARDIAN_CONSENT_REQUIRED = "GUARDIAN_CONSENT_REQUIRED"
MINOR_REFUSED = "MINOR_REFUSED"
GPC_OPT_OUT = "GPC_OPT_OUT"
OBJECTED = "OBJECTED"
RESTRICTED = "RESTRICTED"
UNDECLARED_PURPOSE = "UNDECLARED_PURPOSE"
UNKNOWN_PURPOSE = "UNKNOWN_PURPOSE"
UNKNOWN_CATEGORY = "UNKNOWN_CATEGORY"
CATEGORY_NOT_DECLARED = "CATEGORY_NOT_DECLARED"
CATEGORY_NOT_CONSENTED = "CATEGORY_NOT_CONSENTED"
CROSS_BORDER_CONSENT_REQUIRED = "CROSS_BORDER_CONSENT_REQUIRED"
UNKNOWN_SUBJECT = "UNKNOWN_SUBJECT"
CHANNEL_OPTED_OUT = "CHANNEL_OPTED_OUT"  # marketing by a channel the person switched off (P44)
UNKNOWN_CHANNEL = "UNKNOWN_CHANNEL"
# Allowed on another legal basis: the basis in upper case (CONTRACT, LEGAL_OBLIGATION, VITAL_INTEREST, ...).
BAD_INPUT = frozenset({UNKNOWN_PURPOSE, UNKNOWN_CATEGORY, UNKNOWN_CHANNEL})  # the API answers these with 422
CHANNELS = ("email", "sms", "push")  # the channels a message may go by (consent.channels keeps preferences)

# Ledger events folded into small ints; an entry is one record reduced to what the rules read.
GIVEN, REFUSED, WITHDRAWN, EXPIRED, OBJ, RESTR, LIFTED = range(1, 8)
EVENT_CODES = {
    "given": GIVEN,
    "renewed": GIVEN,
    "refused": REFUSED,
    "withdrawn": WITHDRAWN,
    "expired": EXPIRED,
    "objected": OBJ,
    "restricted": RESTR,
    "lifted": LIFTED,
}
_DENIED_BY = {
    REFUSED: CONSENT_REFUSED,
    WITHDRAWN: CONSENT_WITHDRAWN,
    EXPIRED: CONSENT_EXPIRED,
    OBJ: OBJECTED,
    RESTR: RESTRICTED,
    LIFTED: NO_CONSENT,
}
CODE, AT, SEQ, EXP, RID, SEP, KIND, GUARD, CATS, GPC = range(10)  # entry fields
INF = float("inf")
UNIX_ORDINAL = 719163  # date(1970, 1, 1).toordinal(): timestamps → day numbers without datetime objects


class Decision:
    """The answer: allowed or not, a stable reason code, the legal basis and the ledger record relied on."""

    __slots__ = ("allowed", "legal_basis", "reason", "record_id")

    def __init__(
        self, allowed: bool, reason: str, legal_basis: str | None = None, record_id: str | None = None
    ) -> None:
        self.allowed, self.reason, self.legal_basis, self.record_id = allowed, reason, legal_basis, record_id

    def as_dict(self) -> dict:
        """JSON-ready form."""
        return {
            "allowed": self.allowed,
            "reason": self.reason,
            "legal_basis": self.legal_basis,
            "record_id": self.record_id,
        }

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Decision) and self.as_dict() == other.as_dict()

    def __repr__(self) -> str:
        return f"Decision({self.allowed}, {self.reason!r}, {self.legal_basis!r}, {self.record_id!r})"


def entry(
    event: str,
    at: float,
    seq: int,
    expires: float | None,
    rid: str,
    legal_basis: str | None,
    kind: str | None,
    guardian: str | None,
    categories: tuple | None,
    gpc: bool,
) -> tuple:
    """One record as the tuple `evaluate` reads."""
    return (
        EVENT_CODES.get(event, LIFTED),
        at,
        seq,
        INF if expires is None else expires,
        rid,
        legal_basis == "separate_consent",
        kind,
        guardian,
        categories or None,
        gpc,
    )


def slot_keys(purpose: str, kind: str | None) -> tuple[str, ...]:
    """Where a record lands: its purpose (latest of any kind, as the projection) and, if separate, its kind."""
    return (purpose, f"{purpose}#{kind}") if kind else (purpose,)


def fold(slots: dict, key: str, new: tuple) -> None:
    """Keep the later of two entries by (at, seq): the projection's rule."""
    old = slots.get(key)
    if old is None or (new[AT], new[SEQ]) > (old[AT], old[SEQ]):
        slots[key] = new


def ts(moment: datetime | None) -> float | None:
    """A timezone-aware datetime as a POSIX timestamp."""
    return None if moment is None else moment.timestamp()


class Checks:
    """Category questions answered once per (purpose, categories) and cached: they depend on the policy only."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self._cats: dict[tuple, tuple[Decision | None, bool]] = {}  # (purpose, categories) -> categories()
        self._covered: dict[tuple, bool] = {}  # (requested, consented) -> covered()
        self.transfer_purposes = policy.transfer_purposes

    def categories(self, pp: PurposePolicy, categories: tuple) -> tuple[Decision | None, bool]:
        """(a denial for unknown or undeclared categories, whether any is sensitive)."""
        key = (pp.key, categories)
        found = self._cats.get(key)
        if found is None:
            taxonomy = self.policy.taxonomy
            found = (None, any(taxonomy.sensitive_kind(c) for c in categories if c in taxonomy.categories))
            for c in categories:
                if c not in taxonomy.categories:
                    found = (Decision(False, UNKNOWN_CATEGORY, pp.basis), False)
                    break
                if not any(taxonomy.is_within(c, d, "categories") for d in pp.categories):
                    found = (Decision(False, CATEGORY_NOT_DECLARED, pp.basis), False)
                    break
            self._cats[key] = found
        return found

    def covered(self, requested: tuple, consented: tuple) -> bool:
        """Whether each requested category lies within a consented one."""
        key = (requested, consented)
        found = self._covered.get(key)
        if found is None:
            within = self.policy.taxonomy.is_within
            found = self._covered[key] = all(any(within(c, d, "categories") for d in consented) for c in requested)
        return found


def guardian_ok(guardians: tuple, e: tuple) -> bool:
    """Whether the record's guardian was linked, attested and verified, and not revoked, when it was given."""
    at, who = e[AT], e[GUARD]
    return any(
        g[0] == who and g[1] <= at and g[2] is not None and g[2] <= at and (g[3] is None or g[3] > at)
        for g in guardians
    )


def _valid(e: tuple | None, now: float, material: float | None, child: bool, guardians: tuple) -> TypeGuard[tuple]:
    return (
        e is not None
        and e[CODE] == GIVEN
        and e[EXP] > now
        and (material is None or e[AT] >= material)
        and (not child or (e[GUARD] is not None and guardian_ok(guardians, e)))
    )


def _abroad_ok(
    checks: Checks, slots: dict, purpose: str, now: float, material: float | None, child: bool, guardians: tuple
) -> bool:
    """A separate cross-border consent for this purpose, or a consent to a declared cross-border transfer purpose."""
    if _valid(slots.get(purpose + "#cross_border"), now, material, child, guardians):
        return True
    return any(
        _valid(slots.get(p), now, ts(checks.policy.purposes[p].material_at), child, guardians)
        for p in checks.transfer_purposes
    )


def evaluate(
    policy: Policy,
    checks: Checks,
    pp: PurposePolicy,
    slots: dict,
    gpc_at: float | None,
    age: tuple[int, int],
    guardians: tuple,
    categories: tuple | None,
    region: str | None,
    now: float,
    material: float | None,
) -> Decision:
    """Apply the rules to one holder's entries. `age` is (child-until, minor-until) day numbers, 0 = unknown."""
    if categories:
        denied, sensitive = checks.categories(pp, categories)
        if denied is not None:
            return denied
    else:
        sensitive = bool(pp.sensitive)
    child = False
    if age[1] or age[0]:  # (0, 0): age unknown, treated as an adult
        day = int(now // 86400) + UNIX_ORDINAL
        if age[1] > day and policy.adults_only and pp.basis not in MANDATORY_BASES:
            return Decision(False, MINOR_REFUSED, pp.basis)
        child = age[0] > day and not policy.adults_only
    purpose = pp.key
    e = slots.get(purpose)
    cross = region is not None and policy.is_cross_border(region) and policy.needs_transfer_consent(pp, region)
    if material is not None and material > now:
        material = None  # announced, not yet in force
    if not pp.consent and not (child and pp.child_consent):
        if pp.gpc and gpc_at is not None:
            return Decision(False, GPC_OPT_OUT, pp.basis, None)
        if e is not None and (e[CODE] == OBJ or e[CODE] == RESTR):
            return Decision(False, _DENIED_BY[e[CODE]], pp.basis, e[RID])
        if cross and not _abroad_ok(checks, slots, purpose, now, material, child, guardians):
            return Decision(False, CROSS_BORDER_CONSENT_REQUIRED, pp.basis)
        return Decision(True, pp.basis.upper(), pp.basis)
    if e is None:
        if pp.gpc and gpc_at is not None:
            return Decision(False, GPC_OPT_OUT, pp.basis)
        return Decision(False, GUARDIAN_CONSENT_REQUIRED if child else NO_CONSENT, pp.basis)
    basis = "separate_consent" if e[SEP] else "consent"
    code = e[CODE]
    if code != GIVEN:
        reason = GPC_OPT_OUT if e[GPC] else _DENIED_BY[code]
        return Decision(False, reason, basis, e[RID])
    if e[EXP] <= now:
        return Decision(False, CONSENT_EXPIRED, basis, e[RID])
    if pp.gpc and gpc_at is not None and e[AT] <= gpc_at:
        return Decision(False, GPC_OPT_OUT, basis, e[RID])
    if material is not None and e[AT] < material:
        return Decision(False, CONSENT_BEFORE_MATERIAL_CHANGE, basis, e[RID])
    if child and (e[GUARD] is None or not guardian_ok(guardians, e)):
        return Decision(False, GUARDIAN_CONSENT_REQUIRED, basis, e[RID])
    if pp.separate and not e[SEP]:
        return Decision(False, SEPARATE_CONSENT_REQUIRED, basis, e[RID])
    if categories and e[CATS] and not checks.covered(categories, e[CATS]):
        extra = slots.get(purpose + "#sensitive")  # a separate consent to sensitive data names its own categories
        if (
            extra is e
            or not _valid(extra, now, material, child, guardians)
            or (extra[CATS] and not checks.covered(categories, e[CATS] + extra[CATS]))
        ):
            return Decision(False, CATEGORY_NOT_CONSENTED, basis, e[RID])
    if (
        sensitive
        and not (e[SEP] and (e[KIND] == "sensitive" or (pp.separate and e[KIND] is None)))
        and not _valid(slots.get(purpose + "#sensitive"), now, material, child, guardians)
    ):
        return Decision(False, SEPARATE_CONSENT_REQUIRED, basis, e[RID])
    if (
        cross
        and not (e[SEP] and e[KIND] == "cross_border")
        and not _abroad_ok(checks, slots, purpose, now, material, child, guardians)
    ):
        return Decision(False, CROSS_BORDER_CONSENT_REQUIRED, basis, e[RID])
    return Decision(True, CONSENT_GIVEN, basis, e[RID])


def by_channel(decision: Decision, keys: tuple[str, ...] | None, prefs: dict | None, channel: str) -> Decision:
    """P44: an allowed decision for a marketing purpose is denied when the person switched `channel` off for it
    (the nearest of the purpose and its broader purposes with a stored choice decides); other channels are
    untouched. `keys` is None for purposes that are not marketing: service notices are never switched off (P35).
    `prefs` maps (purpose, channel) to (opted in, when)."""
    if keys is None or not prefs or not decision.allowed:
        return decision
    for key in keys:
        found = prefs.get((key, channel))
        if found is not None:
            return (
                decision if found[0] else Decision(False, CHANNEL_OPTED_OUT, decision.legal_basis, decision.record_id)
            )
    return decision
