"""Recipients (other controllers) with their agreements, and sharing events (P10, P11, P37, P38, P39).

A share names a registered recipient and rests either on each subject's consent to the recipient's purpose (the
decision engine decides; subjects without consent are filtered out) or on a ground of the company's policy with a
reference (a ground the policy does not have is refused). Only counts are recorded. A recipient that changes purpose
needs everyone's consent again: consents given before the change no longer let its shares through.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Generic, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from privet.audit.service import record as audit
from privet.kit.clock import utcnow
from privet.kit.errors import Conflict, InvalidInput, NotFound, Problem
from privet.registers import common, grounds, policy
from privet.registers import screening as screen
from privet.registers.models import Disclosure, Recipient, SharingEvent

if TYPE_CHECKING:
    from privet.kit.crypto import Keyring

KINDS = ("affiliate", "partner", "third_party", "authority")


AGREEMENT_KINDS = ("affiliate", "partner", "third_party")  # bound by a confidentiality agreement (P38)


def add_recipient(
    session: Session,
    *,
    key: str,
    name: str,
    actor: str,
    kind: str = "third_party",
    purposes: list[str] | None = None,
    categories: list[str] | None = None,
    region: str | None = None,
    legal_grounds: list[str] | None = None,
    agreement_ref: str | None = None,
    signed_on: date | None = None,
    expires_on: date | None = None,
    replace: bool = False,
    reason: str | None = None,
) -> Recipient:
    """Register a recipient with the purposes it uses data for, the most it may receive, the grounds of the
    company's policy its shares may rest on and the agreement binding it. With `replace`, update the registered
    one: a change of purposes is recorded as a purpose change (re-consent, P10); an update changing nothing is not
    recorded."""
    key = common.check_key(key)
    if kind not in KINDS:
        raise common.bad(f"Unknown recipient kind {kind!r}", "kind", "use one of: " + ", ".join(KINDS))
    purposes = common.check_purposes(session, purposes)
    if not purposes:
        raise common.bad(
            "A recipient needs at least one purpose", "purposes", "give the purposes it uses the data for (--purpose)"
        )
    codes = policy.check_codes(legal_grounds, "legal_grounds")
    accepted = policy.accepted(session)
    for i, code in enumerate(codes):
        if code not in accepted:
            raise common.bad(
                f"The company's privacy policy has no ground {code!r} ({grounds.reference_of(code)})",
                f"legal_grounds.{i}",
                "use grounds the policy declares (" + ", ".join(accepted) + ")",
            )
    values = dict(
        name=common.check_text(name, "name"),
        kind=kind,
        categories=common.check_categories(session, categories),
        region=common.check_region(region),
        legal_grounds=codes,
        agreement_ref=common.check_agreement(agreement_ref, signed_on, expires_on),
        signed_on=signed_on,
        expires_on=expires_on,
    )
    existing = find_recipient(session, key)
    if existing is not None and not replace:
        raise Conflict(
            f"Recipient {key!r} is already registered",
            "update it with replace (--replace), or change its purposes with recipient-purpose",
        )
    if existing is not None:
        return _update(session, existing, values, purposes, actor=actor, reason=reason)
    recipient = Recipient(key=key, purposes=purposes, purpose_changes=[], created_by=actor, **values)
    session.add(recipient)
    session.flush()
    audit(
        session,
        actor=actor,
        action="registers.recipient.added",
        object_type="recipient",
        object_id=recipient.id,
        details=_details(recipient),
    )
    return recipient


def _details(r: Recipient) -> dict:
    """What the audit trail keeps of a recipient's entry (keys, codes and whether an agreement is on record)."""
    return {
        "key": r.key,
        "kind": r.kind,
        "purposes": list(r.purposes),
        "categories": list(r.categories),
        "region": r.region,
        "legal_grounds": list(r.legal_grounds),
        "agreement": bool(r.agreement_ref),
        "signed_on": r.signed_on.isoformat() if r.signed_on else None,
        "expires_on": r.expires_on.isoformat() if r.expires_on else None,
    }


def _update(
    session: Session, recipient: Recipient, values: dict, purposes: list[str], *, actor: str, reason: str | None
) -> Recipient:
    if purposes != list(recipient.purposes):
        change_purposes(session, recipient.key, purposes=purposes, actor=actor, reason=reason)
    if all(getattr(recipient, k) == v for k, v in values.items()):
        return recipient
    for name_, value in values.items():
        setattr(recipient, name_, value)
    session.flush()
    audit(
        session,
        actor=actor,
        action="registers.recipient.updated",
        object_type="recipient",
        object_id=recipient.id,
        details=_details(recipient),
    )
    return recipient


def needs_agreement(recipient: Recipient) -> bool:
    """Affiliates, partners and other third parties are bound by an agreement; authorities act under the law."""
    return recipient.kind in AGREEMENT_KINDS


def find_recipient(session: Session, key: str) -> Recipient | None:
    """The registered recipient with this key, or None."""
    return session.execute(select(Recipient).where(Recipient.key == key)).scalar_one_or_none()


def get_recipient(session: Session, key: str) -> Recipient:
    """The registered recipient; NotFound otherwise."""
    found = find_recipient(session, key)
    if found is None:
        raise NotFound(f"No recipient {key!r} is registered", "list them with privet registers recipients")
    return found


def list_recipients(session: Session) -> list[Recipient]:
    """Every registered recipient, by key."""
    return list(session.execute(select(Recipient).order_by(Recipient.key)).scalars())


def change_purposes(
    session: Session, key: str, *, purposes: list[str], actor: str, reason: str | None = None
) -> Recipient:
    """Record that a recipient now uses the data for other purposes (P10): from now on its consent-based shares
    let through only subjects whose consent was given after this change (re-consent)."""
    recipient = get_recipient(session, key)
    purposes = common.check_purposes(session, purposes)
    if not purposes:
        raise common.bad("A recipient needs at least one purpose", "purposes", "give its new purposes")
    if purposes == recipient.purposes:
        raise common.bad("The purposes did not change", "purposes", "give the recipient's new purposes")
    now = utcnow()
    change = {
        "at": now.isoformat(),
        "actor": actor,
        "old": list(recipient.purposes),
        "new": purposes,
        "reason": common.check_text(reason, "reason", required=False, limit=500),
    }
    recipient.purpose_changes = [*recipient.purpose_changes, change]
    recipient.purposes = purposes
    recipient.reconsent_since = now
    session.flush()
    audit(
        session,
        actor=actor,
        action="registers.recipient.purpose_changed",
        object_type="recipient",
        object_id=recipient.id,
        details={"key": key, "old": change["old"], "new": purposes, "reconsent_required": True},
    )
    return recipient


Event = TypeVar("Event", SharingEvent, Disclosure)


@dataclass
class ShareOutcome(Generic[Event]):
    """The recorded event and who may be shared (subject ids and their positions in the input)."""

    event: Event  # a disclosure for `privet.registers.disclosures`
    allowed: list[str]
    positions: list[int]


def _unregistered(key: str) -> InvalidInput:
    return InvalidInput(
        f"Recipient {key!r} is not registered: nothing was shared or recorded",
        "register it first: privet registers recipient-add",
        [Problem("not registered", "recipient")],
    )


def share(
    session: Session,
    *,
    recipient: str,
    actor: str,
    subject_ids: list[str] | None = None,
    identities: list[tuple[str, str]] | None = None,
    purpose: str | None = None,
    categories: list[str] | None = None,
    legal_ground: str | None = None,
    reference: str | None = None,
    note: str | None = None,
    keyring: Keyring | None = None,
    at: datetime | None = None,
) -> ShareOutcome[SharingEvent]:
    """Record a (bulk) provision to a registered recipient; with consent as the basis, subjects without it are
    filtered out. Returns who may be shared; the event keeps counts only."""
    found_recipient = find_recipient(session, recipient) if isinstance(recipient, str) else None
    if found_recipient is None:
        raise _unregistered(str(recipient))
    r = found_recipient
    purpose = purpose or r.purposes[0]
    if purpose not in r.purposes:
        raise common.bad(
            f"Recipient {r.key!r} is not registered for purpose {purpose!r}",
            "purpose",
            "use one of its purposes (" + ", ".join(r.purposes) + ") or record its purpose change",
        )
    categories = common.check_categories(session, categories) or list(r.categories)
    beyond = [c for c in categories if r.categories and c not in r.categories]
    if beyond:
        raise common.bad(
            "More data than the recipient is registered for: " + ", ".join(beyond),
            "categories",
            "share only what is necessary (its categories: " + ", ".join(r.categories) + ")",
        )
    if legal_ground is None and reference:
        raise common.bad(
            "A reference without a legal ground",
            "legal_ground",
            "name the legal ground (--ground) or leave the reference out for a consent-based share",
        )
    if legal_ground is not None:
        legal_ground, reference = grounds.check_ground(
            legal_ground, reference, r.legal_grounds, policy=policy.accepted(session), use=grounds.SHARE
        )
    found, screening = screen.resolve(session, keyring, subject_ids, identities)
    if legal_ground is None:
        screen.screen_consent(
            session,
            found,
            screening,
            purpose=purpose,
            categories=categories,
            region=r.region,
            reconsent_since=r.reconsent_since,
        )
    else:
        screen.accept_all(found, screening)
    event = SharingEvent(
        recipient_id=r.id,
        purpose=purpose,
        categories=categories,
        basis="consent" if legal_ground is None else "legal_ground",
        legal_ground=legal_ground,
        reference=reference,
        requested=screening.requested,
        shared=len(screening.allowed),
        filtered_out=screening.filtered_out,
        reasons=dict(sorted(screening.reasons.items())),
        note=common.check_text(note, "note", required=False, limit=1000),
        at=at or utcnow(),
        actor=actor,
    )
    session.add(event)
    session.flush()
    audit(
        session,
        actor=actor,
        action="registers.shared",
        object_type="sharing_event",
        object_id=event.id,
        details={
            "recipient": r.key,
            "purpose": purpose,
            "categories": categories,
            "basis": event.basis,
            "legal_ground": legal_ground,
            "requested": event.requested,
            "shared": event.shared,
            "filtered_out": event.filtered_out,
            "reasons": event.reasons,
        },
    )
    return ShareOutcome(event, screening.allowed, screening.positions)


def list_shares(session: Session, *, recipient: str | None = None, limit: int = 100) -> list[tuple[SharingEvent, str]]:
    """Sharing events newest first, with their recipient's key."""
    query = select(SharingEvent, Recipient.key).join(Recipient, Recipient.id == SharingEvent.recipient_id)
    if recipient:
        query = query.where(Recipient.key == recipient)
    return [(e, k) for e, k in session.execute(query.order_by(SharingEvent.at.desc()).limit(limit))]
