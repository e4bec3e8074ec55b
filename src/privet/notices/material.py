"""Which purposes a new notice version changes materially, judged from the data map (P30).

A purpose is material when it is newly present, or when its processing activities gained data categories,
recipients, processors or transfers since the data map version recorded with the previous notice version.
A right reduced cannot be read reliably from text: the publisher marks it (`material=`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

WIDENED = (
    ("categories", "categories_widened"),
    ("recipients", "recipients_widened"),
    ("processors", "processors_widened"),
    ("transfers", "transfers_widened"),
)


def _state(manifest: Any) -> dict[str, dict[str, set[str]]]:
    """purpose → what its activities together process: categories, recipients, processors, transfers."""
    out: dict[str, dict[str, set[str]]] = {}
    for activity in manifest.processing_activities if manifest is not None else []:
        state = out.setdefault(activity.purpose, {name: set() for name, _ in WIDENED})
        state["categories"] |= {*activity.required_categories, *activity.optional_categories}
        state["recipients"] |= set(activity.recipients)
        state["processors"] |= set(activity.processors)
        state["transfers"] |= {t.destination + (f":{t.recipient}" if t.recipient else "") for t in activity.transfers}
    return out


def _covers(purposes: list[str], kind: str, purpose: str) -> bool:
    """A notice covers the purposes it lists (and their sub-purposes); a main policy listing none covers all."""
    if not purposes:
        return kind == "policy"
    return any(purpose == p or purpose.startswith(p + ".") for p in purposes)


def datamap_now(session: Session) -> tuple[int | None, Any]:
    """The applied data map's version number and manifest (None, None before the first apply)."""
    from privet.datamap.service import current, latest_version

    latest = latest_version(session)
    return (latest.number, current(session)) if latest is not None else (None, None)


def detect(session: Session, kind: str, purposes: list[str], previous: Any) -> tuple[dict[str, list[dict]], int | None]:
    """Material purposes with their reasons, and the data map version this publication is judged against.

    The first version of a notice is the baseline: nothing earlier to compare with, so nothing is detected.
    """
    number, manifest = datamap_now(session)
    if previous is None:
        return {}, number
    reasons: dict[str, list[dict]] = {}
    old_purposes = list(previous.purposes or [])
    for purpose in purposes:
        if not _covers(old_purposes, kind, purpose):
            reasons.setdefault(purpose, []).append({"code": "purpose_added_to_notice"})
    old_number = (previous.change_summary or {}).get("datamap_version")
    if old_number == number:
        return reasons, number
    old_state = _state(_manifest_of(session, old_number))
    for purpose, state in sorted(_state(manifest).items()):
        if not _covers(purposes, kind, purpose):
            continue
        before = old_state.get(purpose)
        if before is None:
            reasons.setdefault(purpose, []).append({"code": "purpose_added", "datamap_version": number})
            continue
        for name, code in WIDENED:
            added = sorted(state[name] - before[name])
            if added:
                reasons.setdefault(purpose, []).append({"code": code, "added": added, "datamap_version": number})
    return reasons, number


def _manifest_of(session: Session, number: int | None) -> Any:
    from privet.datamap.service import manifest_of, version

    return manifest_of(version(session, number)) if number else None
