"""A rule finding of `privet datamap evaluate` (the rules are in `evaluate` and `evaluate_requests`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Finding:
    """One rule violation: `error` fails CI, `warning` only fails with --strict."""

    rule: str
    severity: str  # "error" | "warning"
    object: str  # e.g. "processing_activities.marketing_emails"
    message: str
    hint: str

    def as_dict(self) -> dict:
        return asdict(self)
