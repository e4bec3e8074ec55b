"""The catalogue of promises (P1-P45) Privet keeps, read from `promises.yaml`: each promise's policy sections, title
and mechanism in English and Chinese, the checks that say whether a company configures it, and where the evidence of
its latest run is found. The evidence report and the test that every promise names a test both read it."""

from __future__ import annotations

from functools import cache
from importlib import resources

from privet.kit import yamlio


@cache
def catalogue() -> tuple[dict, ...]:
    """The promises in order, as written in `promises.yaml`."""
    text = (resources.files("privet.reports") / "promises.yaml").read_text(encoding="utf-8")
    return tuple(yamlio.load_text(text, "promises.yaml")["promises"])


def promise_ids() -> list[str]:
    """P1 ... P45, in order."""
    return [p["id"] for p in catalogue()]


def refusal_codes_named() -> list[str]:
    """The refusal reason codes the catalogue's evidence names (`refusal: a, b`)."""
    out: list[str] = []
    for p in catalogue():
        for spec in p["evidence"]:
            kind, _, arg = spec.partition(":")
            if kind.strip() == "refusal":
                out += [c.strip() for c in arg.split(",") if c.strip() and c.strip() != "*"]
    return out
