"""The in-memory Decider: decisions for "now" from a snapshot (`decisions.snapshot`), kept current by the
ledger's change feed (records with a higher `seq`) and by the audit chain (subjects whose age, merges, visitor
links or guardians changed). A decision is a handful of dictionary lookups and one call of the rules.
"""

from __future__ import annotations

import enum
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from privet.consent.decisions import rules
from privet.consent.decisions.policy import load_policy
from privet.consent.decisions.rules import CHANNELS, Decision, by_channel, evaluate, fold, ts
from privet.consent.decisions.snapshot import _R, NOAGE, Snapshot, generation, subjects_changed
from privet.consent.models import VisitorLink
from privet.kit import clock
from privet.subjects.models import Subject

if TYPE_CHECKING:
    from privet.kit.crypto import Keyring


class _Missing(enum.Enum):
    MISSING = 0  # an enum member, so that `is _MISSING` narrows a lookup's type


_EMPTY: dict = {}
_MISSING: Final = _Missing.MISSING
_CHANNELS = frozenset(CHANNELS)


def _now() -> float:
    frozen = clock._frozen.get()
    return time.time() if frozen is None else frozen.timestamp()


class Decider(Snapshot):
    """Decisions from memory. `load` once, then `sync` before deciding to stay correct."""

    @classmethod
    def load(cls, session: Session) -> Decider:
        """Read the whole projection, the separate-consent and GPC records, and every subject's age dates."""
        decider = cls(load_policy(session))
        decider.generation = generation(session)  # read first: later changes are re-applied by refresh (idempotent)
        decider.seq = decider.generation[1] or 0
        decider._load_subjects(session, None)
        decider._load_links(session, None, None)
        decider._load_channels(session, None)
        decider._load_states(session, None)
        decider._load_records(session, or_(_R.separate_kind.is_not(None), _R.method == "gpc"), kinds_only=True)
        return decider

    @classmethod
    def for_holder(
        cls,
        session: Session,
        *,
        subject_id: str | None = None,
        identity: tuple[str, str] | None = None,
        visitor_id: str | None = None,
        keyring: Keyring | None = None,
        at: datetime | None = None,
    ) -> Decider:
        """A snapshot of one holder only: its projection rows, or its ledger as it stood at `at`."""
        from privet.subjects.service import find_subject, holder_ids, resolve

        decider = cls(load_policy(session))
        decider.as_of = ts(at)
        subject = None
        if identity is not None:
            if keyring is None:
                raise ValueError("finding a subject by identity needs the keyring")
            subject = find_subject(session, keyring, identity[0], identity[1])
            decider.subject_for_request = subject.id if subject is not None else ""
        elif subject_id is not None:
            subject = session.get(Subject, subject_id)
            decider.subject_for_request = subject_id
        elif visitor_id is not None:
            link = session.get(VisitorLink, visitor_id)
            subject = session.get(Subject, link.subject_id) if link is not None else None
        ids = holder_ids(session, resolve(session, subject)) if subject is not None else []
        if subject is not None and subject.id not in ids:
            ids.append(subject.id)
        decider._load_subjects(session, ids)
        decider._load_links(session, ids, [visitor_id] if visitor_id else [])
        guardians = {g[0] for links in decider._guardians.values() for g in links}
        if guardians:  # guardians merged since they consented: their ids
            c = Subject.__table__.c
            decider._load_subjects(
                session,
                list(
                    session.execute(
                        select(c.id).where(or_(c.id.in_(guardians), c.merged_into_id.in_(guardians)))
                    ).scalars()
                ),
            )
        if at is None:
            decider._load_channels(session, ids)
        else:
            decider._load_channels_at(session, ids, at)
        visitors = sorted(
            v for v in {visitor_id, *(v for s in ids for v in decider._visitors.get(s, ()))} if v is not None
        )
        holders = [f"s:{i}" for i in ids] + [f"v:{v}" for v in visitors]
        where = or_(_R.subject_id.in_(ids), _R.visitor_id.in_(visitors))
        if at is None:
            decider._load_states(session, holders)
            decider._load_records(
                session, where & or_(_R.separate_kind.is_not(None), _R.method == "gpc"), kinds_only=True
            )
        else:
            decider._load_records(session, where & (_R.at <= at), kinds_only=False)
        return decider

    # ---- staying current -------------------------------------------------------------------------------------
    def sync(self, session: Session) -> bool:
        """Refresh when anything moved since the last look (one cheap query). True if it did."""
        now = generation(session)
        if now == self.generation:
            return False
        self.refresh(session, now)
        return True

    def refresh(self, session: Session, gen: tuple | None = None) -> int:
        """Apply the ledger records after the last seen seq (the change feed), re-read the subjects the audit chain
        says changed (ages, merges, links), and reload the policy if the data map or notices changed."""
        with self._lock:
            gen = gen or generation(session)
            old = self.generation or (0, 0, None, None, None)
            if gen[2:] != old[2:]:
                policy = load_policy(session)
                if policy is not self.policy:
                    self._set_policy(policy)
            touched = self._load_records(session, _R.seq > self.seq, kinds_only=False)
            changed = subjects_changed(session, old[0] or 0) if gen[0] != old[0] else []
            ids = sorted({k for k in touched + changed if not k.startswith("v:")})
            visitors = sorted({k[2:] for k in touched if k.startswith("v:")})
            if ids or visitors:
                self._load_subjects(session, ids)
                self._load_links(session, ids, visitors)
            if changed:  # channel choices are audited as subject events, never ledger records
                self._load_channels(session, sorted(set(changed)))
            self.generation = gen
            return len(touched) + len(changed)

    # ---- deciding ------------------------------------------------------------------------------------------
    def holder_view(
        self, subject_id: str | None, visitor_id: str | None, session: Session | None = None
    ) -> tuple | None:
        """(subject id, slots, GPC time, age) for a subject or visitor; None for an unknown subject."""
        sid = subject_id
        if sid is None and visitor_id is not None:
            sid = self._visitor_of.get(visitor_id)
            if sid is None:
                key = "v:" + visitor_id
                return None, self._slots.get(key, _EMPTY), self._gpc.get(key), NOAGE
        # sid is None when neither a subject nor a visitor is named: no age is found, and the answer is None
        sid = self._survivor(sid)  # type: ignore[arg-type]  # (no check added: this runs once per decision)
        age = self._subjects.get(sid)
        if age is None:
            if session is None or self.as_of is not None or not sid:
                return None
            self._load_subjects(session, [sid])  # created after the snapshot was taken
            age = self._subjects.get(sid)
            if age is None:
                return None
            sid = self._survivor(sid)
        group = self._groups.get(sid)
        if group is None:
            return sid, self._slots.get(sid, _EMPTY), self._gpc.get(sid), age
        slots: dict = {}
        gpc = None
        for key in group:
            for slot, e in tuple(self._slots.get(key, _EMPTY).items()):
                fold(slots, slot, e)
            moment = self._gpc.get(key)
            if moment is not None and (gpc is None or moment > gpc):
                gpc = moment
        return sid, slots, gpc, age

    def holder_keys(self, subject_id: str | None, visitor_id: str | None) -> list[str]:
        """The ledger holders ("s:<id>", "v:<id>") a decision for this subject or visitor draws on."""
        sid = subject_id
        if sid is None and visitor_id is not None:
            sid = self._visitor_of.get(visitor_id)
            if sid is None:
                return ["v:" + visitor_id]
        if not sid:
            return []
        sid = self._survivor(sid)
        group = self._groups.get(sid)
        return [k if k.startswith("v:") else "s:" + k for k in group] if group else ["s:" + sid]

    def decide(
        self,
        purpose: str,
        subject_id: str | None = None,
        visitor_id: str | None = None,
        categories: list[str] | tuple | None = None,
        region: str | None = None,
        at: datetime | None = None,
        *,
        identity: tuple[str, str] | None = None,
        session: Session | None = None,
        keyring: Keyring | None = None,
        channel: str | None = None,
    ) -> Decision:
        """Decide for a subject (id or identity) or a visitor; an earlier `at` or an identity needs a session.
        With a `channel` (email, sms, push), marketing the person switched off on it is denied (P44)."""
        if (at is not None and self.as_of is None) or identity is not None:
            if session is None:
                raise ValueError("an identity or an earlier time is looked up in the store: pass session=")
            if at is not None:
                return decide(
                    session,
                    purpose=purpose,
                    subject_id=subject_id,
                    identity=identity,
                    visitor_id=visitor_id,
                    categories=categories,
                    region=region,
                    at=at,
                    keyring=keyring,
                    channel=channel,
                )
            from privet.subjects.service import find_subject

            assert identity is not None and keyring is not None  # no earlier `at`: an identity brought us here
            found = find_subject(session, keyring, identity[0], identity[1])
            subject_id = found.id if found is not None else ""  # "": no such subject
        pp = self._pp.get(purpose, _MISSING)
        if pp is None or pp is _MISSING:
            return Decision(False, rules.UNDECLARED_PURPOSE if pp is None else rules.UNKNOWN_PURPOSE)
        if channel is not None and channel not in _CHANNELS:
            return Decision(False, rules.UNKNOWN_CHANNEL, pp.basis)
        cats: tuple | None = None  # the categories as a tuple (the rules' cache key), None for none
        if categories:
            cats = tuple(categories)
            denied = self.checks.categories(pp, cats)[0]
            if denied is not None:
                return denied  # bad input before any lookup
        if subject_id is not None and self.as_of is None and subject_id not in self._special:
            # the common case, inlined: a known subject without merges, linked visitors or guardians
            age = self._subjects.get(subject_id)
            if age is not None:
                decision = evaluate(
                    self.policy,
                    self.checks,
                    pp,
                    self._slots.get(subject_id, _EMPTY),
                    self._gpc.get(subject_id),
                    age,
                    (),
                    cats,
                    region,
                    _now(),
                    self._material[pp.key],
                )
                if channel is None:
                    return decision
                return by_channel(decision, self._channel_keys.get(purpose), self._prefs.get(subject_id), channel)
        if subject_id is None and visitor_id is None:
            raise ValueError("name a subject, an identity or a visitor")
        view = self.holder_view(subject_id, visitor_id, session)
        if view is None:
            return Decision(False, rules.UNKNOWN_SUBJECT, pp.basis)
        sid, slots, gpc, age = view
        if self.as_of is None:
            now, material = _now(), self._material[pp.key]
        else:
            moment = at or datetime.fromtimestamp(self.as_of, UTC)
            now, material = self.as_of, ts(self.policy.material_before(pp.key, moment))
        links = self._guardians.get(sid, ()) if sid else ()
        decision = evaluate(
            self.policy,
            self.checks,
            pp,
            slots,
            gpc,
            age,
            self._expand(links) if links else (),
            cats,
            region,
            now,
            material,
        )
        if channel is None or not sid:
            return decision
        return by_channel(decision, self._channel_keys.get(purpose), self.channel_prefs(sid), channel)


def decide(
    session: Session,
    *,
    purpose: str,
    subject_id: str | None = None,
    identity: tuple[str, str] | None = None,
    visitor_id: str | None = None,
    categories: list[str] | tuple | None = None,
    region: str | None = None,
    at: datetime | None = None,
    keyring: Keyring | None = None,
    channel: str | None = None,
) -> Decision:
    """One decision straight from the store: the projection for now, the ledger as it stood for an earlier `at`
    (channel preferences too: as the audit chain says they stood then)."""
    decider = Decider.for_holder(
        session, subject_id=subject_id, identity=identity, visitor_id=visitor_id, keyring=keyring, at=at
    )
    return decider.decide(
        purpose,
        subject_id=decider.subject_for_request,
        visitor_id=visitor_id,
        categories=categories,
        region=region,
        at=at,
        channel=channel,
    )
