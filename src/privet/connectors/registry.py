"""Opening the connector of a datastore's kind, with its connection secret resolved.

Connector modules are imported on first use (nothing is loaded at import time). A connector class that needs
more than the plan and the secret (e.g. the SQL connector's key for hashing erased values) offers a
`for_settings(plan, secret, settings)` class method, which is preferred over the plain constructor.
"""

from __future__ import annotations

import importlib

from privet.connectors.base import REGISTRY, Connector, ConnectorError, DatastorePlan
from privet.kit.errors import PrivetError
from privet.settings import Settings

MODULES = {
    "sqlite": "privet.connectors.sql",
    "postgresql": "privet.connectors.sql",
    "mysql": "privet.connectors.sql",
    "http": "privet.connectors.http",
    "manual": "privet.connectors.manual",
}


def connector_class(kind: str) -> type[Connector]:
    """The class registered for `kind`, importing its module first; ConnectorError for unknown kinds."""
    if kind not in REGISTRY:
        module = MODULES.get(kind, f"privet.connectors.{kind}")
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name and not module.startswith(exc.name):
                raise  # the module exists but needs a missing library: say that, not "unknown kind"
    if kind not in REGISTRY:
        known = ", ".join(sorted(set(MODULES) | set(REGISTRY)))
        raise ConnectorError(f"No connector for datastore kind `{kind}` (known kinds: {known})")
    return REGISTRY[kind]


def _secret(plan: DatastorePlan, settings: Settings, name: str | None) -> str | None:
    if not name:
        return None
    from privet.datamap.secrets import resolve_secret

    try:
        return resolve_secret(settings, name)
    except PrivetError:
        raise ConnectorError(
            f"Datastore `{plan.datastore}`: its connection secret `{name}` is not configured "
            "(add it to PRIVET_SECRETS or the secrets file)"
        ) from None


def open_connector(plan: DatastorePlan, settings: Settings, *, secret: str | None = None) -> Connector:
    """The connector for `plan`, ready to use as a context manager (`with open_connector(...) as c:`).

    The connection URL comes from the secret the data map names: plans from `build_plan(s)` carry its name
    (`plan.secret`); `secret` overrides it."""
    cls = connector_class(plan.kind)
    url = _secret(plan, settings, secret or getattr(plan, "secret", None))
    make = getattr(cls, "for_settings", None)
    return make(plan, url, settings) if make else cls(plan, url)
