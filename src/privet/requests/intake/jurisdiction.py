"""The law a request is handled under (P41): its deadline, whether and how far it may be extended, the refusal
grounds open to it and where the person may complain all follow `DsrRequest.profile` (pipl | gdpr | ccpa).

Within one company the profile is the person's, not only the organisation's: ZKTeco's customers in the EU get the
GDPR's month, those in the PRC PIPL's 15 working days. At verification it is, in this order:
1. the jurisdiction recorded on the subject (`privet.subjects.jurisdiction`: a trusted token's `region` claim, or
   the region the person declared, with this request or an earlier one);
2. the organisation's profile, when the person's recorded region falls under none of the three laws;
3. the law of the datastores the person's identity is found in, when the data map's datastores fall under more
   than one law: each such SQL datastore is asked whether its identity columns name the person (no rows are
   read). Found under exactly one law, that region is recorded on the subject (so the
   lookup happens once per person); found under several, or nowhere, the organisation's profile applies;
4. the organisation's profile.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from privet.kit.crypto import Keyring
from privet.requests import service
from privet.requests.models import DsrRequest
from privet.settings import Settings
from privet.subjects.jurisdiction import jurisdiction_of, record_region
from privet.subjects.models import Subject

SQL_KINDS = ("sqlite", "postgresql", "mysql")


@dataclass
class Resolution:
    """The profile a request gets, where it came from, and what a data map lookup found (datastore keys)."""

    profile: str
    source: str  # token | declared | datastore | organisation
    found_in: list[str] = field(default_factory=list)
    unreachable: list[str] = field(default_factory=list)

    def details(self) -> dict:
        """For the request's audit event (keys and codes only)."""
        out: dict = {"profile": self.profile, "profile_source": self.source}
        if self.found_in:
            out["found_in"] = self.found_in
        if self.unreachable:
            out["datastores_unreachable"] = self.unreachable
        return out


def regional_datastores(session: Session) -> list[tuple[str, str, str]]:
    """(key, region, profile) of the data map's SQL datastores whose region falls under one of the laws, when the
    laws differ between them (regional account stores, as ZKTeco's CN and EU ones); else empty: a company keeping
    everyone's data under one law learns nothing from where it is, and its organisation profile stands."""
    from privet.datamap.models import DatamapDatastore

    stores = [
        (key, region, profile)
        for key, kind, region in session.execute(
            select(DatamapDatastore.key, DatamapDatastore.kind, DatamapDatastore.region).order_by(DatamapDatastore.key)
        )
        if kind in SQL_KINDS and (profile := jurisdiction_of(region))
    ]
    if len({profile for *_, profile in stores}) < 2:
        return []
    return stores


def locate(
    session: Session, keyring: Keyring, settings: Settings, subject: Subject, stores: list[tuple[str, str, str]]
) -> tuple[list[tuple[str, str, str]], list[str]]:
    """(the datastores of `stores` whose identity columns name the subject, those that could not be asked)."""
    from privet.connectors.base import ConnectorError
    from privet.connectors.registry import open_connector
    from privet.connectors.sql.connector import SqlConnector
    from privet.kit.errors import PrivetError
    from privet.requests.execution.plans import identities_by_type, plan_for

    identities = identities_by_type(session, keyring, subject.id)
    found, unreachable = [], []
    for key, region, profile in stores:
        try:
            plan = plan_for(session, settings, key)
            if not plan.entries:
                continue
            with open_connector(plan, settings) as connector:
                assert isinstance(connector, SqlConnector)  # `stores` holds SQL datastores only
                if connector.holds(identities):
                    found.append((key, region, profile))
        except (ConnectorError, PrivetError):
            unreachable.append(key)
    return found, unreachable


def resolve(
    session: Session, keyring: Keyring, settings: Settings, request: DsrRequest, subject: Subject, *, actor: str
) -> Resolution:
    """The profile of a request being verified for `subject` (see the module's order); records on the subject the
    region declared with the request, or the one its datastores show."""
    if request.declared_region:
        record_region(session, subject, request.declared_region, source="declared", actor=actor)
    if subject.jurisdiction:
        return Resolution(subject.jurisdiction, subject.jurisdiction_source or "declared")
    home = service.organisation_profile(session)
    if subject.region:
        return Resolution(home, "organisation")
    stores = regional_datastores(session)
    if not stores:
        return Resolution(home, "organisation")
    found, unreachable = locate(session, keyring, settings, subject, stores)
    keys = [key for key, *_ in found]
    profiles = {profile for *_, profile in found}
    if len(profiles) == 1 and not unreachable:
        key, region, profile = found[0]
        record_region(session, subject, region, source="datastore", actor=actor, datastore=key)
        return Resolution(profile, "datastore", keys)
    return Resolution(home, "organisation", keys, unreachable)


def locate_unknown(
    session: Session, keyring: Keyring, settings: Settings, *, actor: str, limit: int = 200
) -> dict[str, int]:
    """Record where active people without a region are, from the regional datastore holding them (the same
    lookup as at verification, done ahead of any request): `located` under one law, `several` found under more
    than one (left unknown: their requests get the organisation's profile), `nowhere`, `unreachable` (a datastore
    could not be asked; left for the next run). Nothing is done when the datastores are all under one law."""
    counts = {"located": 0, "several": 0, "nowhere": 0, "unreachable": 0}
    stores = regional_datastores(session)
    if not stores:
        return counts
    people = session.scalars(
        select(Subject)
        .where(Subject.region.is_(None), Subject.status == "active")
        .order_by(Subject.created_at, Subject.id)
        .limit(max(1, min(limit, 10_000)))
    )
    for subject in list(people):
        found, unreachable = locate(session, keyring, settings, subject, stores)
        if unreachable:
            counts["unreachable"] += 1
        elif len({profile for *_, profile in found}) > 1:
            counts["several"] += 1
        elif not found:
            counts["nowhere"] += 1
        else:
            key, region, _profile = found[0]
            record_region(session, subject, region, source="datastore", actor=actor, datastore=key)
            counts["located"] += 1
    session.flush()
    return counts


def people_by_law(session: Session) -> list[tuple[str | None, str | None, str | None, int]]:
    """(jurisdiction, source, region, number of active people), most first: where a company's people are (P41);
    jurisdiction None: the organisation's profile applies (region unknown or under none of the three laws)."""
    from sqlalchemy import func

    rows = session.execute(
        select(Subject.jurisdiction, Subject.jurisdiction_source, Subject.region, func.count())
        .where(Subject.status == "active")
        .group_by(Subject.jurisdiction, Subject.jurisdiction_source, Subject.region)
    ).all()
    return sorted(((j, s, r, int(n)) for j, s, r, n in rows), key=lambda row: (-row[3], row[0] or "", row[2] or ""))
