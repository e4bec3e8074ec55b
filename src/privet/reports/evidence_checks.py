"""How the evidence report's configuration checks are registered (`check`, `CHECKS`, `NOW`) and what they read
(`Context`); the checks are in `evidence_datamap`, `evidence_operations` and `evidence_registers`. A check is one
function per name `promises.yaml` uses, each saying what
this company has configured for a mechanism and what is missing (`Found`). Checks read the applied data map, the
registers, the notices, the settings and the store; they change nothing and never open the company's databases.
`NOW` holds the checks the report runs as evidence ("checked now: no alerts")."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from privet.settings import Settings

NO_MAP = "no data map is applied (privet datamap apply PATH)"
LIFECYCLE_TRIGGERS = ("account_closure", "contract_end", "last_activity", "accounting_period_end")


@dataclass
class Found:
    """What a check found: a summary of what is configured, and what is missing (nothing missing: configured)."""

    summary: str
    missing: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.missing


@dataclass
class Context:
    """What the checks read, loaded once per report."""

    session: Session
    settings: Settings
    manifest: Any  # datamap.schemas.Manifest | None
    taxonomy: Any  # taxonomy.loader.Taxonomy
    memo: dict = field(default_factory=dict)

    def once(self, key: str, make: Callable[[], Any]) -> Any:
        """`make()`, computed once per report."""
        if key not in self.memo:
            self.memo[key] = make()
        return self.memo[key]

    @property
    def activities(self) -> list:
        return list(self.manifest.processing_activities) if self.manifest else []

    def fields(self) -> list[tuple[str, str, Any]]:
        """(dataset, table, field) of every field in the data map."""
        if not self.manifest:
            return []
        return [(d.key, t.name, f) for d in self.manifest.datasets for t in d.tables for f in t.fields]

    def purpose_type(self, key: str) -> str | None:
        """The taxonomy type of a purpose (marketing, notice, service...), inherited from its parents."""
        for k in [key, *self.taxonomy.ancestors(key, "purposes")] if self.taxonomy.find(key) else []:
            found = self.taxonomy.find(k)
            if found and found[0] == "purposes":
                return getattr(found[1], "type", None)
        return None

    def consent_based(self, basis: str) -> bool:
        found = self.taxonomy.find(basis)
        return bool(found and getattr(found[1], "consent", False))


def under(key: str | None, root: str) -> bool:
    """`key` is `root` or one of its sub-keys."""
    return bool(key and (key == root or key.startswith(root + ".")))


CHECKS: dict[str, Callable[[Context], Found]] = {}
NOW: dict[str, Callable[[Context], str]] = {}


def check(name: str, *, needs_map: bool = True) -> Callable:
    """Register a configuration check under `name`; most need an applied data map and say so without one."""

    def register(fn: Callable[[Context], Found]) -> Callable[[Context], Found]:
        def run(ctx: Context) -> Found:
            return fn(ctx) if ctx.manifest is not None or not needs_map else Found("", [NO_MAP])

        run.__doc__ = fn.__doc__
        CHECKS[name] = run
        return fn

    return register


def _plural(n: int, noun: str) -> str:
    if n == 1:
        return f"{n} {noun}"
    return f"{n} {noun[:-1]}ies" if noun.endswith("y") and noun[-2:] not in ("ay", "ey", "oy") else f"{n} {noun}s"
