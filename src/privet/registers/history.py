"""A registers file's `history:` (demo): events replayed once, through the registers' own services, so the sharing
register, public disclosures and a recipient's purpose change with its re-consent can be seen working (P10, P11,
P13, P38, P39).

    history:
      - consent: {people: 6, purpose: sharing.partners}        # the first 6 people consent
      - share: {recipient: certified_partners, people: 8}        # consent-based: 6 shared, 2 filtered out
      - purpose_change: {recipient: certified_partners, before: [sharing.partners], reason: ...}
      - share: {recipient: certified_partners, people: 8}        # nobody: everyone must consent again
      - share: {recipient: courts, people: 2, ground: keptek_b, reference: "(2026) court order (demo)"}
      - disclose: {title: ..., categories: [user.name], ground: keptek_disclosure, reference: ..., people: 1}

`people: N` means the first N people of the history: generated, with e-mail addresses under the reserved
`example.com` (nobody real). A `purpose_change` changes the recipient from its
`before` purposes (what it is first registered with) to the purposes its entry in the file declares, so applying the
file again changes nothing. Replayed only into registers that have no sharing event and no disclosure yet.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from privet.registers import common, disclosures, sharing
from privet.registers.models import Disclosure, SharingEvent

if TYPE_CHECKING:
    from privet.kit.crypto import Keyring

ACTOR = "demo"
MAX_PEOPLE = 1000
KINDS = ("consent", "share", "purpose_change", "disclose")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ConsentStep(_Strict):
    people: int = Field(ge=1, le=MAX_PEOPLE, description="The first N people consent (again) to the purpose.")
    purpose: str = Field(description="The purpose consented to (a recipient's first purpose).")


class ShareStep(_Strict):
    recipient: str
    people: int = Field(ge=1, le=MAX_PEOPLE, description="The first N people are in the bulk share.")
    ground: str | None = Field(None, description="A ground of the policy (none: each person's consent).")
    reference: str | None = None
    categories: list[str] = Field(default_factory=list)
    note: str | None = None


class PurposeChangeStep(_Strict):
    recipient: str
    before: list[str] = Field(min_length=1, description="The purposes the recipient had before the change.")
    reason: str | None = None


class DiscloseStep(_Strict):
    title: str
    categories: list[str] = Field(min_length=1)
    ground: str | None = None
    reference: str | None = None
    people: int = Field(1, ge=1, le=MAX_PEOPLE)


class Step(_Strict):
    """One event of the history: exactly one of its fields is given."""

    consent: ConsentStep | None = None
    share: ShareStep | None = None
    purpose_change: PurposeChangeStep | None = None
    disclose: DiscloseStep | None = None

    @model_validator(mode="after")
    def _one(self) -> Step:
        if sum(getattr(self, k) is not None for k in KINDS) != 1:
            raise ValueError("a history step is exactly one of: " + ", ".join(KINDS))
        return self

    @property
    def kind(self) -> str:
        """Which of `KINDS` this step is."""
        return next(k for k in KINDS if getattr(self, k) is not None)


def is_fresh(session: Session) -> bool:
    """No sharing event and no public disclosure recorded yet: a history may be replayed."""
    return not any(
        session.execute(select(func.count()).select_from(model)).scalar_one() for model in (SharingEvent, Disclosure)
    )


def purposes_before(steps: list[Step]) -> dict[str, list[str]]:
    """Recipient key → the purposes it is first registered with (those before its history's purpose change)."""
    return {s.purpose_change.recipient: s.purpose_change.before for s in steps if s.purpose_change is not None}


def _people(session: Session, keyring: Keyring, count: int) -> list[str]:
    """The ids of the first `count` people of the history, made on first use: generated e-mail addresses under the
    reserved `example.com` (nobody real), so the history never depends on who else is in the store."""
    from privet.subjects.service import get_or_create_subject

    return [
        get_or_create_subject(session, keyring, "email", f"registers-demo-{n:03d}@example.com", actor=ACTOR)[0].id
        for n in range(1, count + 1)
    ]


def replay(session: Session, steps: list[Step], targets: dict[str, list[str]], *, keyring: Keyring) -> list[str]:
    """Run the steps in order (`targets`: recipient key → the purposes its entry declares, those a purpose change
    changes to); one line per step saying what was recorded (counts only)."""
    from privet.consent.ledger import service as ledger

    out = []
    for step in steps:  # exactly one of a step's fields is given (Step._one)
        if (c := step.consent) is not None:
            for subject_id in _people(session, keyring, c.people):
                ledger.record(
                    session, subject_id=subject_id, purpose=c.purpose, event="given", method="import", actor=ACTOR
                )
            out.append(f"* history: {c.people} people consented to {c.purpose}")
        elif (s := step.share) is not None:
            shared = sharing.share(
                session,
                recipient=s.recipient,
                actor=ACTOR,
                keyring=keyring,
                subject_ids=_people(session, keyring, s.people),
                legal_ground=s.ground,
                reference=s.reference,
                categories=s.categories or None,
                note=s.note,
            ).event
            out.append(
                f"* history: shared with {s.recipient}: {shared.shared} of {shared.requested} "
                f"({shared.basis}{', ' + s.ground if s.ground else ''}; filtered out {shared.filtered_out})"
            )
        elif (p := step.purpose_change) is not None:
            if p.recipient not in targets:
                raise common.bad(
                    f"history: recipient {p.recipient!r} is not in the file's recipients",
                    "history",
                    "add the recipient to `recipients:` with its new purposes",
                )
            sharing.change_purposes(session, p.recipient, purposes=targets[p.recipient], actor=ACTOR, reason=p.reason)
            out.append(
                f"* history: {p.recipient} changed purpose ({', '.join(p.before)} → "
                f"{', '.join(targets[p.recipient])}): consent asked again"
            )
        else:
            d = step.disclose
            assert d is not None  # the only field left
            disclosed = disclosures.disclose(
                session,
                title=d.title,
                actor=ACTOR,
                categories=d.categories,
                subject_ids=_people(session, keyring, d.people),
                legal_ground=d.ground,
                reference=d.reference,
                keyring=keyring,
            ).event
            out.append(f"* history: disclosed {d.title!r}: {disclosed.disclosed} of {disclosed.requested}")
    return out
