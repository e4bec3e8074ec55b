"""Job handlers by kind, recurring jobs, and the modules that register them.

Handlers register themselves with `@handler("kind")` when their module is imported; the job runtime imports
`HANDLER_MODULES` (never at Privet's import time) before it runs anything.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from privet.jobs.context import JobContext

Handler = Callable[["JobContext", dict], Any]

# Modules holding handlers. A module that is not there yet (a feature not installed) is skipped.
HANDLER_MODULES: tuple[str, ...] = (
    "privet.jobs.housekeeping",
    "privet.requests.tasks",
    "privet.retention.tasks",
    "privet.reports.tasks",
    "privet.consent.campaigns.tasks",
)

_handlers: dict[str, Handler] = {}
_periodic: dict[str, Periodic] = {}
_loaded: set[str] = set()
_lock = threading.Lock()


@dataclass(frozen=True)
class Periodic:
    """A job kind enqueued once per period of `every_seconds` (periods are aligned on the Unix epoch)."""

    kind: str
    every_seconds: int


class UnknownJobKind(LookupError):
    """No handler is registered for a job's kind (its module is missing from HANDLER_MODULES or not deployed)."""


def _register(kind: str, fn: Handler) -> None:
    if not kind or len(kind) > 80:
        raise ValueError("a job kind is 1 to 80 characters")
    known = _handlers.get(kind)
    # Re-importing a module registers the same function again; two different functions for one kind is a bug.
    if known is not None and (known.__module__, known.__qualname__) != (fn.__module__, fn.__qualname__):
        raise ValueError(f"job kind {kind!r} already has a handler ({known.__module__}.{known.__qualname__})")
    _handlers[kind] = fn


def handler(kind: str) -> Callable[[Handler], Handler]:
    """Register `fn(ctx, payload)` as the handler of jobs of `kind`."""

    def decorate(fn: Handler) -> Handler:
        _register(kind, fn)
        return fn

    return decorate


def periodic(kind: str, every_seconds: int) -> Callable[[Handler], Handler]:
    """Register `fn(ctx, payload)` for `kind` and enqueue it once every `every_seconds` (payload: `period`)."""
    if every_seconds < 1:
        raise ValueError("every_seconds must be at least 1")

    def decorate(fn: Handler) -> Handler:
        _register(kind, fn)
        _periodic[kind] = Periodic(kind, int(every_seconds))
        return fn

    return decorate


def load_handlers(modules: tuple[str, ...] | None = None) -> None:
    """Import the handler modules once; a module that does not exist (yet) is skipped."""
    for name in HANDLER_MODULES if modules is None else modules:
        if name in _loaded:
            continue
        with _lock:
            try:
                importlib.import_module(name)
            except ModuleNotFoundError as exc:
                # only the module itself missing is tolerated; a missing import inside it is a real error
                if exc.name != name:
                    raise
            _loaded.add(name)


def get_handler(kind: str) -> Handler:
    """The handler for `kind`, or UnknownJobKind."""
    try:
        return _handlers[kind]
    except KeyError:
        raise UnknownJobKind(f"no handler is registered for job kind {kind!r}") from None


def kinds() -> list[str]:
    """Registered job kinds, sorted."""
    return sorted(_handlers)


def periodic_jobs() -> list[Periodic]:
    """Registered recurring jobs."""
    return list(_periodic.values())
