"""Cross-border alerts (P29): the year's counts past a PIPL threshold, transfers on a weaker mechanism than the
counts require, and what the data map shows stored abroad without a registered transfer or processor."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from privet.kit.clock import utcnow
from privet.registers import crossborder_rules as rules
from privet.registers.crossborder import PIPL_ORIGIN, threshold_alert, weaker_alert, year_counts
from privet.registers.crossborder_models import CrossBorderTransfer as Transfer

if TYPE_CHECKING:
    from privet.datamap.schemas import Manifest


def alerts(session: Session, *, at: datetime | None = None, ciio: bool = False) -> list[dict]:
    """What needs attention now: this year's volume above the exemption, transfers whose mechanism is weaker
    than the volume requires, data map transfers without a mechanism, PRC datastores' data kept abroad."""
    counts = year_counts(session, at=at, ciio=ciio)
    out = [threshold_alert(counts, crossed=False)] if counts.level != rules.EXEMPT else []
    start, end = rules.year_window(at or utcnow())
    for row in session.execute(
        select(Transfer)
        .where(Transfer.origin == PIPL_ORIGIN, Transfer.transferred_at >= start, Transfer.transferred_at < end)
        .order_by(Transfer.transferred_at)
    ).scalars():
        if rules.weaker(row.mechanism, counts.level):
            out.append(weaker_alert(row, counts.level))
    out += datamap_alerts(session)
    return out


def datamap_alerts(session: Session) -> list[dict]:
    """Declared transfers without a mechanism, and datastores outside the organisation's region that no
    declared transfer covers (P29: data collected in the PRC is stored in the PRC)."""
    from privet.datamap.service import current

    manifest = current(session)
    if manifest is None or manifest.organisation is None:
        return []
    home = manifest.organisation.region
    out = []
    covered: dict[str, set[str]] = {}
    for a in manifest.processing_activities:
        for t in a.transfers:
            if not t.mechanism:
                out.append(
                    {
                        "kind": "datamap_transfer_without_mechanism",
                        "activity": a.key,
                        "message": f"Activity {a.key} declares a transfer to {t.destination} without a "
                        "mechanism (add `mechanism:` in the data map)",
                    }
                )
            for d in a.datasets:
                covered.setdefault(d, set()).add(t.destination)
    out += _register_alerts(session, manifest, home)
    stores = {d.key: d for d in manifest.datastores}
    for ds in manifest.datasets:
        store = stores.get(ds.datastore)
        if store is None or store.region in (home, "GLOBAL") or home == "GLOBAL":
            continue
        if store.region not in covered.get(ds.key, set()) and "GLOBAL" not in covered.get(ds.key, set()):
            out.append(
                {
                    "kind": "datastore_outside_region",
                    "datastore": store.key,
                    "message": f"Datastore {store.key} ({store.region}) holds dataset {ds.key} outside "
                    f"{home} and no activity using it declares a transfer there",
                }
            )
    return out


def _register_alerts(session: Session, manifest: Manifest, home: str) -> list[dict]:
    """Registered processors and recipients of an activity located outside `home` without a declared transfer
    there (the processor and recipient registers hold their regions)."""
    from privet.registers.models import Processor, Recipient

    if home == "GLOBAL":
        return []
    processors: dict[str, list[str]] = dict(session.execute(select(Processor.key, Processor.regions)).all())
    recipients = dict(session.execute(select(Recipient.key, Recipient.region)).all())
    out = []
    for a in manifest.processing_activities:
        declared = {t.destination for t in a.transfers}
        if "GLOBAL" in declared:
            continue
        places: list[tuple[str, str, str | None]] = [
            ("processor", k, r) for k in a.processors for r in processors.get(k) or ()
        ]
        places += [("recipient", k, recipients[k]) for k in a.recipients if recipients.get(k)]
        for kind, key, region in places:
            if region not in (home, "GLOBAL") and region not in declared:
                out.append(
                    {
                        "kind": f"{kind}_outside_region",
                        kind: key,
                        "activity": a.key,
                        "message": f"The {kind} {key} of activity {a.key} is registered in {region}, outside "
                        f"{home}, and the activity declares no transfer there",
                    }
                )
    return out
