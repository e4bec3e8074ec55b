"""People of a demo company known to Privet in several jurisdictions (P41), so the laws can be seen at work right after
`privet init --demo`: where the company keeps accounts under different laws (ZKTeco: the PRC and the EU), the first
few customers of each regional account store are taken into Privet and located through the same datastore lookup a
request uses (`privet.requests.intake.jurisdiction.locate_unknown`); a few generated Californians, who told the
company where they live, are added with their declared region (CCPA). Identities are generated (reserved domains);
nothing is read but identity columns.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Session

from privet.settings import Settings

if TYPE_CHECKING:
    from privet.datamap.schemas import Manifest

PER_STORE = 3
CALIFORNIANS = 2
LOCATE = 2000  # everyone the demo knows (its opt-ins too): a lookup is a few indexed queries


def _email_columns(manifest: Manifest, datastore: str) -> list[tuple[str, str]]:
    return [(t.name, f.name) for d in manifest.datasets if d.datastore == datastore for t in d.tables
            for f in t.fields if f.identity == "email"]


def _first_addresses(url: str, table: str, column: str, count: int) -> list[str]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            col: sa.ColumnClause[str] = sa.column(column)
            return list(conn.execute(sa.select(col).select_from(sa.table(table)).where(col.like("%@%.%"))
                                     .order_by(col).limit(count)).scalars())
    finally:
        engine.dispose()


def seed_people(session: Session, settings: Settings, manifest: Manifest, urls: dict[str, str], *,
                company_key: str) -> dict[str, int]:
    """Take a few customers of each regional datastore into Privet, locate them, add declared Californians;
    returns {jurisdiction: people} (empty when the company keeps everyone under one law)."""
    from privet.kit.crypto import Keyring
    from privet.requests.intake.jurisdiction import locate_unknown, people_by_law, regional_datastores
    from privet.subjects.jurisdiction import record_region
    from privet.subjects.service import get_or_create_subject

    stores = regional_datastores(session)
    if not stores:
        return {}
    keyring = Keyring.from_settings(settings)
    for key, _region, _profile in stores:
        for table, column in _email_columns(manifest, key)[:1]:
            for address in _first_addresses(urls[key], table, column, PER_STORE):
                get_or_create_subject(session, keyring, "email", address, actor="demo")
    locate_unknown(session, keyring, settings, actor="demo", limit=LOCATE)
    rng = random.Random(f"{company_key}-californians")
    for _ in range(CALIFORNIANS):
        address = f"ca-customer-{rng.randrange(10**6):06d}@example.com"
        subject, _created = get_or_create_subject(session, keyring, "email", address, actor="demo")
        record_region(session, subject, "US-CA", source="declared", actor="demo")
    session.flush()
    out: dict[str, int] = {}
    for jurisdiction, _source, _located, count in people_by_law(session):
        out[jurisdiction or "organisation"] = out.get(jurisdiction or "organisation", 0) + count
    return out
