"""The processor register (P9): who processes personal data for the company, under which agreement, and the
alerts a privacy officer acts on (activities naming unregistered processors, missing, expired or expiring
agreements)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from privet.audit.service import record as audit
from privet.kit.clock import utcnow
from privet.kit.errors import Conflict, NotFound
from privet.registers import common
from privet.registers.common import Alert
from privet.registers.models import Processor

if TYPE_CHECKING:
    from privet.taxonomy.loader import Taxonomy

DEFAULT_ALERT_DAYS = 30


def add_processor(
    session: Session,
    *,
    key: str,
    name: str,
    actor: str,
    agreement_ref: str | None = None,
    signed_on: date | None = None,
    expires_on: date | None = None,
    purposes: list[str] | None = None,
    categories: list[str] | None = None,
    regions: list[str] | None = None,
    security_measures: list[str] | None = None,
    replace: bool = False,
) -> Processor:
    """Register a processor (or, with `replace`, update the registered one, e.g. a renewed agreement; an update
    that changes nothing is not recorded)."""
    key = common.check_key(key)
    values = dict(
        name=common.check_text(name, "name"),
        agreement_ref=common.check_agreement(agreement_ref, signed_on, expires_on),
        signed_on=signed_on,
        expires_on=expires_on,
        purposes=common.check_purposes(session, purposes),
        categories=common.check_categories(session, categories),
        regions=common.check_regions(regions),
        security_measures=[
            m for m in (common.check_text(m, "security_measures", limit=300) for m in security_measures or []) if m
        ],
    )
    existing = find_processor(session, key)
    if existing is not None and not replace:
        raise Conflict(f"Processor {key!r} is already registered", "update it with replace (--replace)")
    if existing is None:
        existing = Processor(key=key, created_by=actor, **values)
        session.add(existing)
        action = "registers.processor.added"
    else:
        if all(getattr(existing, name_) == value for name_, value in values.items()):
            return existing  # nothing changed: nothing to audit
        for name_, value in values.items():
            setattr(existing, name_, value)
        action = "registers.processor.updated"
    session.flush()
    audit(
        session,
        actor=actor,
        action=action,
        object_type="processor",
        object_id=existing.id,
        details={
            "key": key,
            "agreement": bool(values["agreement_ref"]),
            "expiry_recorded": expires_on is not None,
            "purposes": values["purposes"],
            "categories": values["categories"],
            "regions": values["regions"],
        },
    )
    return existing


def find_processor(session: Session, key: str) -> Processor | None:
    """The registered processor with this key, or None."""
    return session.execute(select(Processor).where(Processor.key == key)).scalar_one_or_none()


def get_processor(session: Session, key: str) -> Processor:
    """The registered processor with this key; NotFound otherwise."""
    found = find_processor(session, key)
    if found is None:
        raise NotFound(f"No processor {key!r} is registered", "list them with privet registers processors")
    return found


def list_processors(session: Session) -> list[Processor]:
    """Every registered processor, by key."""
    return list(session.execute(select(Processor).order_by(Processor.key)).scalars())


def activities_by_processor(session: Session) -> dict[str, list[tuple[str, str, list[str]]]]:
    """For each processor key the data map's activities name: (activity key, purpose, categories)."""
    from privet.datamap.models import DatamapActivity

    a = DatamapActivity
    out: dict[str, list[tuple[str, str, list[str]]]] = {}
    for key, purpose, required, optional, names in session.execute(
        select(a.key, a.purpose, a.required_categories, a.optional_categories, a.processors).order_by(a.key)
    ):
        for processor in names or []:
            out.setdefault(processor, []).append((key, purpose, [*(required or []), *(optional or [])]))
    return out


def _out_of_scope(
    taxonomy: Taxonomy,
    p: Processor,
    uses: list[tuple[str, str, list[str]]],
) -> tuple[list[str], list[str]]:
    """Purposes and categories the data map gives the processor beyond what its entry says is entrusted to it."""

    def covered(key: str, entrusted: list[str], section: str) -> bool:
        return any(taxonomy.is_within(key, e, section) for e in entrusted)

    purposes = sorted(
        {purpose for _, purpose, _ in uses if p.purposes and not covered(purpose, p.purposes, "purposes")}
    )
    categories = sorted(
        {c for *_, cats in uses for c in cats if p.categories and not covered(c, p.categories, "categories")}
    )
    return purposes, categories


def alerts(session: Session, *, days: int = DEFAULT_ALERT_DAYS, today: date | None = None) -> list[Alert]:
    """Processors named by the data map but not registered, registered ones without an agreement (reference or
    dates), agreements already expired, agreements expiring within `days`, and processors the data map gives
    purposes or categories beyond those their entry says are entrusted (an entry listing none is not checked)."""
    if days < 0:
        raise common.bad("days cannot be negative", "days", "give the warning window in days, e.g. 30")
    from privet.taxonomy.service import effective

    today = today or utcnow().date()
    uses = activities_by_processor(session)
    used = {k: [u[0] for u in v] for k, v in uses.items()}
    taxonomy = effective(session)
    registered = {p.key: p for p in list_processors(session)}
    out: list[Alert] = []
    for key in sorted(set(used) - set(registered)):
        out.append(
            Alert("unregistered", key, f"activities name processor {key!r} but it is not in the register", used[key])
        )
    for key, p in registered.items():
        acts = used.get(key, [])
        out += common.agreement_alerts("processor", key, acts, p.agreement_ref, p.signed_on, p.expires_on, today, days)
        purposes, categories = _out_of_scope(taxonomy, p, uses.get(key, []))
        if purposes or categories:
            beyond = ", ".join([*purposes, *categories])
            out.append(
                Alert("out_of_scope", key, f"the data map gives {key!r} more than its entry entrusts: {beyond}", acts)
            )
    order = {"unregistered": 0, "expired": 1, "no_agreement": 2, "expiring": 3, "out_of_scope": 4}
    return sorted(out, key=lambda a: (order[a.kind], a.key))
