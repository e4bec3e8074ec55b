"""The datastores a request reaches and how: those holding personal fields (per applied data map version), each
one's connector plan (cached per version), and the person's identities as connectors look them up."""

from __future__ import annotations

import threading
from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from privet.connectors.base import DatastorePlan
from privet.kit.crypto import Keyring
from privet.requests.models import DsrRequest
from privet.settings import Settings

_targets: dict[tuple, list[tuple[str, str, str]]] = {}


def _personal_fields(session: Session) -> list[tuple[str, str, str]]:
    """(datastore key, kind, category) of every personal field, cached per applied data map version."""
    from privet.datamap.models import DatamapDataset, DatamapDatastore, DatamapField
    from privet.datamap.service import version_key

    key = version_key(session)
    found = _targets.get(key) if key is not None else None
    if found is None:
        found = [
            (store, kind, category)
            for store, kind, category in session.execute(
                select(DatamapDatastore.key, DatamapDatastore.kind, DatamapField.category)
                .join(DatamapDataset, DatamapDataset.datastore_key == DatamapDatastore.key)
                .join(DatamapField, DatamapField.dataset_key == DatamapDataset.key)
                .where(DatamapField.category.is_not(None))
                .distinct()
                .order_by(DatamapDatastore.key)
            )
            if category is not None  # the query's own condition, for the type checker
        ]
        if key is not None:  # an unversioned (empty) map may be applied any moment: do not remember it
            if len(_targets) > 64:
                _targets.clear()
            _targets[key] = found
    return found


def targets(session: Session, request: DsrRequest) -> list[tuple[str, str]]:
    """(datastore key, kind) of each datastore holding personal fields, by key; for a rectification only those
    holding a corrected category."""
    wanted = set(request.details.get("categories", [])) if request.type == "rectification" else None
    out: dict[str, str] = {}
    for key, kind, category in _personal_fields(session):
        if wanted is None or category in wanted:
            out.setdefault(key, kind)
    return list(out.items())


_plans: dict[tuple, DatastorePlan] = {}
_plans_lock = threading.Lock()


def plan_for(session: Session, settings: Settings, key: str) -> DatastorePlan:
    """The datastore's plan, cached per applied data map version (building it reads the whole map)."""
    from privet.connectors.plan import build_plan
    from privet.datamap.service import version_key

    cache_key = (version_key(session), key, settings.database_url)
    plan = _plans.get(cache_key)
    if plan is None:
        plan = build_plan(session, settings, key)
        with _plans_lock:
            if len(_plans) > 256:
                _plans.clear()
            _plans[cache_key] = plan
    return plan


def identities_by_type(session: Session, keyring: Keyring, subject_id: str) -> dict[str, list[str]]:
    """The subject's identity values, {type: [values]}: connectors look the person up by each of them."""
    from privet.subjects.service import get_subject, identities_of

    out: dict[str, list[str]] = defaultdict(list)
    for view in identities_of(session, keyring, get_subject(session, subject_id)):
        if view.value not in out[view.type]:
            out[view.type].append(view.value)
    return dict(out)
