"""The server side of the cookie banner: anonymous visitors' choices, Global Privacy Control, linking at sign-in.

Each banner category maps to the first purpose of its candidate list that the applied data map declares on a
consent basis (`cookie.<category>` first, so a company can declare its own). Necessary cookies do not rest on
consent: they are always on and appear in each record's evidence, not as records of their own.
`Sec-GPC: 1` opts the visitor out of sale, sharing and targeted advertising whatever the banner says; those
refusals are recorded with `evidence.gpc_honoured = true` (CCPA: show that the signal was honoured).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from privet.audit.service import record as audit
from privet.consent.ledger import projection
from privet.consent.ledger import service as ledger
from privet.consent.ledger.checks import VISITOR_ID
from privet.consent.ledger.recording import Recording
from privet.consent.ledger.rules import Policy, current_policy
from privet.consent.models import VisitorLink
from privet.kit.clock import utcnow
from privet.kit.crypto import Keyring
from privet.kit.errors import Conflict, InvalidInput, NotFound, Problem

CATEGORIES = ("necessary", "preferences", "analytics", "marketing")
COOKIE_PURPOSES: dict[str, tuple[str, ...]] = {
    "preferences": ("cookie.preferences", "service.preferences"),
    "analytics": ("cookie.analytics", "analytics.usage", "analytics"),
    "marketing": ("cookie.marketing", "marketing.advertising", "marketing.personalisation", "marketing"),
}
GPC_TYPES = ("sharing",)  # besides the marketing cookie purpose: provision of data to others ("sale/sharing")


def cookie_purposes(policy: Policy) -> dict[str, str | None]:
    """Banner category → the declared, consent-based purpose it records (None: nothing on this site)."""
    out: dict[str, str | None] = {}
    for category, candidates in COOKIE_PURPOSES.items():
        out[category] = next(
            (
                p
                for p in candidates
                if p in policy.purposes and policy.purposes[p].consent_bases and p not in out.values()
            ),
            None,
        )
    return out


def _shared_purposes(policy: Policy) -> list[str]:
    return [k for k, r in sorted(policy.purposes.items()) if r.type in GPC_TYPES and r.consent_bases]


def record_cookie_choice(
    session: Session,
    *,
    visitor_id: str,
    categories: dict[str, bool],
    gpc: bool,
    notice_version: int | None = None,
    client_ip: str | None = None,
    user_agent: str | None = None,
    actor: str,
    keyring: Keyring | None = None,
    language: str | None = None,
    notice_key: str | None = None,
) -> dict:
    """Record a banner choice (one record per category with a declared purpose) and honour GPC.

    `notice_key`/`notice_version`: the notice the banner showed (default: the main privacy policy, current)."""
    unknown = sorted(set(categories) - set(CATEGORIES))
    if unknown:
        hint = "use: " + ", ".join(CATEGORIES)
        raise InvalidInput(
            "Unknown cookie category",
            hint,
            [Problem(f"unknown category {c!r}", f"categories.{c}", hint) for c in unknown],
        )
    choice = {c: True if c == "necessary" else bool(categories.get(c, False)) for c in CATEGORIES}
    if gpc:
        choice["marketing"] = False
    policy = current_policy(session)
    mapping = cookie_purposes(policy)
    planned: list[tuple[str, str, str, bool]] = []  # (category, purpose, event, decided by GPC)
    for category, purpose in mapping.items():
        if purpose is not None:
            forced = gpc and category == "marketing"
            planned.append((category, purpose, "given" if choice[category] else "refused", forced))
    if gpc:  # "do not sell or share": every consent-based provision to others, refused by the signal
        planned += [("gpc", p, "refused", True) for p in _shared_purposes(policy) if p not in mapping.values()]
    now = utcnow()
    items = [
        Recording(
            visitor_id=visitor_id,
            purpose=purpose,
            event=event,
            method="gpc" if forced else "banner",
            actor=actor,
            notice_key=notice_key,
            notice_version=notice_version,
            language=language,
            at=now,
            evidence={"gpc": bool(gpc), "banner_choice": choice, **({"gpc_honoured": True} if forced else {})},
            client_ip=client_ip,
            user_agent=user_agent,
        )
        for _category, purpose, event, forced in planned
    ]
    entries = ledger.record_all(session, items, keyring=keyring)  # one choice, written together or not at all
    written = [
        {"category": category, "purpose": purpose, "event": event, "record_id": entry.id, "gpc_honoured": forced}
        for (category, purpose, event, forced), entry in zip(planned, entries)
    ]
    return {
        "visitor_id": visitor_id,
        "choice": choice,
        "gpc": bool(gpc),
        "gpc_honoured": bool(gpc),
        "purposes": mapping,
        "records": written,
    }


def link_visitor(session: Session, visitor_id: str, subject_id: str, *, actor: str) -> VisitorLink:
    """Tie a visitor id to the subject who signed in with it; decisions then count the visitor's records."""
    from privet.subjects.models import Subject

    if not VISITOR_ID.match(visitor_id or ""):
        raise InvalidInput("A visitor id is 8 to 64 letters, digits or . _ : -", "send the banner cookie's id")
    if session.get(Subject, subject_id) is None:
        raise NotFound("No subject has this id", "look the subject up by an identity first")
    link = session.get(VisitorLink, visitor_id)
    if link is not None:
        if link.subject_id == subject_id:
            return link
        raise Conflict(
            "This visitor id is linked to another subject",
            "a browser shared by two people keeps its first link; start a new visitor id",
        )
    link = VisitorLink(visitor_id=visitor_id, subject_id=subject_id, linked_at=utcnow())
    session.add(link)
    session.flush()
    audit(
        session,
        actor=actor,
        action="consent.visitor_linked",
        object_type="subject",
        object_id=subject_id,
        details={"visitors_linked": len(visitor_ids(session, subject_id))},
    )
    return link


def visitor_ids(session: Session, subject_id: str) -> list[str]:
    """The visitor ids linked to a subject, oldest link first."""
    return list(
        session.execute(
            select(VisitorLink.visitor_id)
            .where(VisitorLink.subject_id == subject_id)
            .order_by(VisitorLink.linked_at, VisitorLink.visitor_id)
        ).scalars()
    )


BANNER_ID = re.compile(r"^v-[0-9a-f]{24}$")  # the id the banner gives a browser (banner.js newId)


def visitor_view(session: Session, visitor_id: str) -> dict:
    """A banner visitor's current consents and ledger history, and the subject it signed in as (None if never).

    InvalidInput for a malformed id; NotFound when nothing was ever recorded for it."""
    if not VISITOR_ID.match(visitor_id or ""):
        raise InvalidInput(
            "A visitor id is 8 to 64 letters, digits or . _ : -",
            "copy it from the visitor's privet_consent cookie (the banner's ids start with v-)",
        )
    link = session.get(VisitorLink, visitor_id)
    key = [f"v:{visitor_id}"]
    history = ledger.history(session, key)
    if not history and link is None:
        raise NotFound(
            "No banner choice is recorded for this visitor id",
            "check the id in the visitor's privet_consent cookie; it is only known once they chose",
        )
    return {
        "visitor_id": visitor_id,
        "subject_id": link.subject_id if link else None,
        "states": projection.states(session, key),
        "history": history,
    }


def holders(session: Session, subject_ids: list[str]) -> list[str]:
    """Projection holders of these subjects: "s:<id>" for each and "v:<visitor id>" for their linked visitors."""
    linked: Iterable[str] = (
        session.execute(
            select(VisitorLink.visitor_id)
            .where(VisitorLink.subject_id.in_(subject_ids))
            .order_by(VisitorLink.linked_at)
        ).scalars()
        if subject_ids
        else []
    )
    return [f"s:{s}" for s in subject_ids] + [f"v:{v}" for v in linked]


def gpc_document(session: Session) -> dict:
    """The body of /.well-known/gpc.json: GPC is honoured; lastUpdate is when the data map last changed."""
    from privet.datamap.models import DatamapVersion

    applied = session.execute(
        select(DatamapVersion.applied_at).order_by(DatamapVersion.number.desc()).limit(1)
    ).scalar()
    return {"gpc": True, "lastUpdate": (applied or utcnow()).date().isoformat()}
