"""Who is calling: a logged-in user or an API key, with the scopes it holds."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Principal:
    """Who is calling: a logged-in user or an API key, with the scopes it holds."""

    kind: str  # "user" or "apikey"
    id: str
    name: str
    scopes: frozenset[str] = field(default_factory=frozenset)
    session_id: str | None = None  # the browser session, for users who logged in

    @property
    def actor(self) -> str:
        """The audit actor string, e.g. `user:alice` or `apikey:pk_ab12cd34`."""
        return f"{self.kind}:{self.name}"
