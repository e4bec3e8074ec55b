"""Registers as code (P9, P38, P39): one YAML file declaring the grounds of the company's policy, its processors and
its recipients with their agreements, applied by `privet registers apply FILE` and by the demo loader.

    policy: {name: Keptek privacy policy (2025-11-28), grounds: [keptek_a, keptek_b, ...]}
    processors:
      - key: sms_gateway
        name: SMS gateway (demo)
        agreement: {reference: DPA-2025-014, signed: 2025-01-10, expires: 2029-01-09}
        purposes: [service.account, notice.updates]
        categories: [user.contact.phone]
        regions: [CN]
    recipients:
      - key: keptek_affiliates
        name: Keptek affiliates
        kind: affiliate
        purposes: [sharing.affiliates]
        grounds: [keptek_d]
        agreement: {reference: IGA-2025-002, signed: 2025-03-01, expires: 2030-02-28}

Applying adds what is new and updates what changed through the registers' own services (audited; a recipient's
change of purpose asks for consent again); entries the file leaves out stay, unless `prune` removes them (a
recipient with sharing events is kept: its events need it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from privet.audit.service import record as audit
from privet.kit.errors import InvalidInput, PrivetError, Problem
from privet.kit.yamlio import line_of, load_file
from privet.registers import history, policy, processors, sharing
from privet.registers.history import Step as HistoryStep
from privet.registers.models import Processor, Recipient, SharingEvent

if TYPE_CHECKING:
    from privet.kit.crypto import Keyring


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class AgreementEntry(_Strict):
    reference: str = Field(min_length=1, max_length=200, description="The signed agreement's reference.")
    signed: date = Field(description="When it was signed.")
    expires: date | None = Field(None, description="When it expires (none: open-ended).")


class PolicyEntry(_Strict):
    name: str = Field(min_length=1, max_length=200, description="The policy (and version) the grounds come from.")
    grounds: list[str] = Field(min_length=1, description="Codes of the grounds it declares.")


class ProcessorEntry(_Strict):
    key: str
    name: str
    agreement: AgreementEntry | None = None
    purposes: list[str] = Field(default_factory=list)
    categories: list[str] = Field(default_factory=list)
    regions: list[str] = Field(default_factory=list)
    security_measures: list[str] = Field(default_factory=list)


class RecipientEntry(_Strict):
    key: str
    name: str
    kind: Literal["affiliate", "partner", "third_party", "authority"] = "third_party"
    purposes: list[str] = Field(min_length=1)
    categories: list[str] = Field(default_factory=list)
    region: str | None = None
    grounds: list[str] = Field(default_factory=list)
    agreement: AgreementEntry | None = None


class RegistersFile(_Strict):
    policy: PolicyEntry | None = None
    processors: list[ProcessorEntry] = Field(default_factory=list)
    recipients: list[RecipientEntry] = Field(default_factory=list)
    history: list[HistoryStep] = Field(
        default_factory=list,
        description="Events replayed once into registers "
        "without sharing events (demo): see privet/registers/history.py.",
    )


@dataclass
class Loaded:
    """A registers file, validated, with its raw YAML (which knows its lines) and its name."""

    document: RegistersFile
    raw: Any
    source: str

    def where(self, *loc: Any) -> str:
        return f"{self.source}:{line_of(self.raw, loc) or 1}"


@dataclass
class Applied:
    """What applying a registers file changed (keys per register)."""

    policy: bool = False
    added: dict[str, list[str]] = field(default_factory=lambda: {"processors": [], "recipients": []})
    updated: dict[str, list[str]] = field(default_factory=lambda: {"processors": [], "recipients": []})
    removed: dict[str, list[str]] = field(default_factory=lambda: {"processors": [], "recipients": []})
    kept: list[str] = field(default_factory=list)  # recipients prune left because sharing events name them
    history: list[str] = field(default_factory=list)  # what replaying the file's history recorded

    def lines(self) -> list[str]:
        """Human lines: `+ processors.sms_gateway`, `~ recipients.courts`, `- processors.old`, `policy declared`."""
        out = ["~ policy grounds declared"] if self.policy else []
        for mark, changes in (("+", self.added), ("~", self.updated), ("-", self.removed)):
            out += [f"{mark} {register}.{key}" for register, keys in changes.items() for key in keys]
        out += [f"= recipients.{key} kept: sharing events name it" for key in self.kept]
        return out + self.history


def load(path: Path) -> Loaded:
    """Read and validate a registers file; one InvalidInput naming `file:line` of every structural problem."""
    raw = load_file(Path(path)) or {}
    try:
        document = RegistersFile.model_validate(raw)
    except ValidationError as exc:
        problems = [
            Problem(
                f"{'.'.join(str(p) for p in e['loc'])}: {e['msg'].removeprefix('Value error, ')}",
                f"{path}:{line_of(raw, e['loc']) or 1}",
                "see the format in privet/registers/config.py",
            )
            for e in exc.errors()
        ]
        raise InvalidInput(f"The registers file has {len(problems)} problem(s)", problems=problems) from None
    return Loaded(document, raw, str(path))


def _at(loaded: Loaded, section: str, index: int, exc: PrivetError) -> InvalidInput:
    """A service's refusal of one entry, pointed at the entry's line."""
    problems = [
        Problem(
            p.message,
            f"{loaded.where(section, index)} ({section}[{index}].{p.where})"
            if p.where
            else loaded.where(section, index),
            p.hint,
        )
        for p in exc.problems
    ] or [Problem(exc.detail, loaded.where(section, index), exc.hint)]
    return InvalidInput(f"{section}[{index}]: {exc.detail}: nothing was applied", exc.hint, problems)


def _agreement(entry: ProcessorEntry | RecipientEntry) -> dict:
    a = entry.agreement
    return {
        "agreement_ref": a.reference if a else None,
        "signed_on": a.signed if a else None,
        "expires_on": a.expires if a else None,
    }


def apply(
    session: Session, loaded: Loaded, *, actor: str, prune: bool = False, keyring: Keyring | None = None
) -> Applied:
    """Apply a registers file: the policy's grounds first (recipients' grounds are checked against them), then
    processors and recipients, then its history when the registers have no sharing event yet (needs `keyring`).
    Raises (the caller's unit of work then changes nothing) on the first refused entry."""
    doc, out = loaded.document, Applied()
    replaying = bool(doc.history) and keyring is not None and history.is_fresh(session)
    first_purposes = history.purposes_before(doc.history) if replaying else {}
    if doc.policy is not None:
        try:
            out.policy = policy.declare(session, name=doc.policy.name, codes=doc.policy.grounds, actor=actor)[1]
        except PrivetError as exc:
            raise InvalidInput(
                f"policy: {exc.detail}: nothing was applied",
                exc.hint,
                [Problem(p.message, loaded.where("policy", "grounds"), p.hint) for p in exc.problems],
            ) from None
    for i, entry in enumerate(doc.processors):
        before = processors.find_processor(session, entry.key)
        stamp = before.updated_at if before is not None else None
        try:
            row = processors.add_processor(
                session,
                key=entry.key,
                name=entry.name,
                actor=actor,
                purposes=entry.purposes,
                categories=entry.categories,
                regions=entry.regions,
                security_measures=entry.security_measures,
                replace=True,
                **_agreement(entry),
            )
        except PrivetError as exc:
            raise _at(loaded, "processors", i, exc) from None
        _note(out, "processors", entry.key, before is None, before is not None and row.updated_at != stamp)
    for i, recipient in enumerate(doc.recipients):
        found = sharing.find_recipient(session, recipient.key)
        state = (found.updated_at, list(found.purposes)) if found is not None else None
        try:
            saved = sharing.add_recipient(
                session,
                key=recipient.key,
                name=recipient.name,
                kind=recipient.kind,
                purposes=first_purposes.get(recipient.key, recipient.purposes) if found is None else recipient.purposes,
                categories=recipient.categories,
                region=recipient.region,
                legal_grounds=recipient.grounds,
                replace=True,
                reason="registers file applied",
                actor=actor,
                **_agreement(recipient),
            )
        except PrivetError as exc:
            raise _at(loaded, "recipients", i, exc) from None
        _note(
            out,
            "recipients",
            recipient.key,
            found is None,
            found is not None and (saved.updated_at, list(saved.purposes)) != state,
        )
    if prune:
        _prune(session, out, {e.key for e in doc.processors}, {e.key for e in doc.recipients}, actor)
    if replaying and keyring is not None:  # replaying needs the keyring (see above)
        try:
            out.history = history.replay(
                session, doc.history, {e.key: e.purposes for e in doc.recipients}, keyring=keyring
            )
        except PrivetError as exc:
            raise InvalidInput(
                f"history: {exc.detail}: nothing was applied",
                exc.hint,
                [Problem(p.message, loaded.where("history"), p.hint) for p in exc.problems],
            ) from None
    return out


def _note(out: Applied, register: str, key: str, added: bool, updated: bool) -> None:
    if added:
        out.added[register].append(key)
    elif updated:
        out.updated[register].append(key)


def _prune(session: Session, out: Applied, processor_keys: set[str], recipient_keys: set[str], actor: str) -> None:
    """Remove the processors and recipients the file leaves out (recipients that sharing events name stay)."""
    for row in session.execute(select(Processor).where(Processor.key.not_in(processor_keys))).scalars().all():
        session.delete(row)
        session.flush()
        audit(
            session,
            actor=actor,
            action="registers.processor.removed",
            object_type="processor",
            object_id=row.id,
            details={"key": row.key},
        )
        out.removed["processors"].append(row.key)
    for recipient in session.execute(select(Recipient).where(Recipient.key.not_in(recipient_keys))).scalars().all():
        used = session.execute(
            select(func.count()).select_from(SharingEvent).where(SharingEvent.recipient_id == recipient.id)
        ).scalar_one()
        if used:
            out.kept.append(recipient.key)
            continue
        session.delete(recipient)
        session.flush()
        audit(
            session,
            actor=actor,
            action="registers.recipient.removed",
            object_type="recipient",
            object_id=recipient.id,
            details={"key": recipient.key},
        )
        out.removed["recipients"].append(recipient.key)


def apply_file(
    session: Session, path: Path, *, actor: str, prune: bool = False, keyring: Keyring | None = None
) -> Applied:
    """Load and apply a registers file (the CLI and the demo loader use this)."""
    return apply(session, load(path), actor=actor, prune=prune, keyring=keyring)
