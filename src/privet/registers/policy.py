"""Which grounds the company's privacy policy has (P39): the codes of `privet.registers.grounds` it declares, kept
in the registers (one row). Until a company declares its own, only the law's grounds are accepted: a ground written
in a particular policy (Keptek 3(3)2 D, ZKTeco 4 e …) applies only to a company that says it publishes it."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from privet.audit.service import record as audit
from privet.registers import common, grounds
from privet.registers.models import RegisterPolicy


def current(session: Session) -> RegisterPolicy | None:
    """The declared policy row, or None before any declaration."""
    return session.execute(select(RegisterPolicy).order_by(RegisterPolicy.created_at).limit(1)).scalar_one_or_none()


def declared(session: Session) -> list[str] | None:
    """The codes the company's policy declares, or None when it declared none."""
    row = current(session)
    return list(row.grounds) if row is not None else None


def accepted(session: Session) -> list[str]:
    """The codes a share or disclosure may name: the declared ones, or the law's until a policy is declared."""
    found = declared(session)
    return found if found is not None else list(grounds.LAW_GROUNDS)


def check_codes(codes: list[str] | None, where: str = "grounds") -> list[str]:
    """Ground codes, de-duplicated in order; the first unknown one refused."""
    out: list[str] = []
    for i, code in enumerate(codes or []):
        if code not in grounds.CATALOGUE:
            raise grounds.unknown(code, f"{where}.{i}")
        if code not in out:
            out.append(code)
    return out


def declare(session: Session, *, name: str, codes: list[str], actor: str) -> tuple[RegisterPolicy, bool]:
    """Declare (or replace) the grounds of the company's policy; returns (row, changed). Audited when changed."""
    name = common.check_text(name, "name")
    codes = check_codes(codes)
    if not codes:
        raise common.bad(
            "A policy declares at least one ground",
            "grounds",
            "give the codes of its grounds (privet registers grounds lists them)",
        )
    row = current(session)
    if row is not None and row.name == name and list(row.grounds) == codes:
        return row, False
    old = list(row.grounds) if row is not None else None
    if row is None:
        row = RegisterPolicy(name=name, grounds=codes, declared_by=actor)
        session.add(row)
    else:
        row.name, row.grounds, row.declared_by = name, codes, actor
    session.flush()
    audit(
        session,
        actor=actor,
        action="registers.policy.declared",
        object_type="register_policy",
        object_id=row.id,
        details={"name": name, "grounds": codes, "previous": old},
    )
    return row, True


def catalogue_view(session: Session, lang: str = "en") -> list[dict]:
    """Every ground with its policy reference and text, and whether the company's policy has it."""
    have = set(accepted(session))
    return [
        {**g.as_dict(), "reference": grounds.reference_of(g.code), "text": g.label(lang), "declared": g.code in have}
        for g in grounds.CATALOGUE.values()
    ]
