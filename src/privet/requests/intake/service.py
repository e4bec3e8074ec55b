"""Filing a request: every input checked up front (all problems at once), personal values encrypted, nothing
stored when anything is wrong. A filed request waits, unverified, for the requester to prove the identity."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from privet.kit.clock import utcnow
from privet.kit.crypto import Keyring
from privet.kit.errors import InvalidInput, PrivetError, Problem
from privet.kit.ids import new_id
from privet.requests import service
from privet.requests.crypto import details_context, encrypt_json, identity_context
from privet.requests.models import TYPES, DsrRequest
from privet.settings import Settings
from privet.taxonomy.loader import Taxonomy

CHANNELS = (
    "api",
    "privacy_centre",
    "staff_phone",
    "staff_email",
    "staff_letter",
    "agent",
    "system",
)  # system: filed by Privet itself (the children sweep); the APIs cannot send it
PUBLIC_CHANNELS = ("api", "privacy_centre")
RESTRICTION_MODES = ("object", "restrict")
MAX_TEXT = 5000
MAX_VALUE = 500
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_DETAIL_KEYS = {
    "withdrawal": {"purposes"},
    "restriction": {"purposes", "mode"},
    "rectification": {"changes"},
    "complaint": {"text"},
}


def _problem(problems: list[Problem], message: str, where: str, hint: str) -> None:
    problems.append(Problem(message, where, hint))


def _check_type(request_type: str, problems: list[Problem]) -> None:
    if request_type not in TYPES:
        _problem(problems, "unknown request type", "type", "use one of: " + ", ".join(TYPES))


def _check_purposes(session: Session, request_type: str, details: dict, problems: list[Problem]) -> list[str]:
    """Purposes of a withdrawal (consent-based) or a restriction (declared in the data map)."""
    from privet.consent.ledger.rules import current_policy, purpose_rule

    purposes = details.get("purposes")
    if not isinstance(purposes, list) or not purposes or not all(isinstance(p, str) for p in purposes):
        _problem(
            problems,
            "name the purposes",
            "details.purposes",
            'send a list of purpose keys, e.g. ["marketing.communications"]',
        )
        return []
    try:
        policy = current_policy(session)
    except PrivetError as exc:
        _problem(problems, exc.detail, "details.purposes", exc.hint or "apply the data map first")
        return []
    out: list[str] = []
    for i, purpose in enumerate(purposes):
        try:
            rule = purpose_rule(policy, purpose)
        except PrivetError as exc:
            _problem(problems, exc.detail, f"details.purposes.{i}", exc.hint or "")
            continue
        if request_type == "withdrawal" and not rule.consent_bases:
            _problem(
                problems,
                f"{purpose} does not rest on consent, so there is nothing to withdraw",
                f"details.purposes.{i}",
                "file a restriction (objection) for it instead",
            )
            continue
        if purpose not in out:
            out.append(purpose)
    if request_type == "restriction" and details.get("mode", "object") not in RESTRICTION_MODES:
        _problem(problems, "unknown restriction mode", "details.mode", "use object or restrict")
    return out


def _value_rule(session: Session, taxonomy: Taxonomy, category: str) -> str | None:
    """The identity type whose normaliser validates values of `category` (email, phone, ...), if any."""
    from privet.subjects.identities import BUILT_IN

    for key, entry in taxonomy.identity_types.items():
        if key in BUILT_IN and getattr(entry, "category", None) == category:
            return key
    return None


def _check_text(value: object, where: str, problems: list[Problem]) -> str | None:
    if not isinstance(value, str) or not value.strip():
        _problem(problems, "the new value must be non-empty text", where, "send the corrected value as text")
        return None
    text = value.strip()
    if len(text) > MAX_VALUE or _CONTROL.search(text):
        _problem(
            problems,
            "the new value is too long or holds control characters",
            where,
            f"send at most {MAX_VALUE} printable characters",
        )
        return None
    return text


def check_changes(
    session: Session, changes: object, problems: list[Problem], settings: Settings | None = None
) -> dict[str, str | dict[str, str]]:
    """Rectification values {category: new value}, each category held by the data map and each value valid. A value
    may come in parts ({category: {part: value}}, e.g. an address's line1, city, postcode) where the data map says
    which part each column holds. With `settings`, each value is also checked against every column it would be
    written to in the datastores that can be reached now (type, length): a correction that can never be written
    is refused here, not found out when it runs."""
    from privet.datamap.models import DatamapField
    from privet.subjects.service import normalise_for
    from privet.taxonomy.service import effective

    if not isinstance(changes, dict) or not changes:
        _problem(
            problems,
            "name the corrections",
            "details.changes",
            'send {category: new value}, e.g. {"user.contact.email": "new@example.com"}',
        )
        return {}
    taxonomy = effective(session)
    held = set(
        session.execute(
            select(DatamapField.category).where(DatamapField.category.in_(list(changes))).distinct()
        ).scalars()
    )
    out: dict[str, str | dict[str, str]] = {}
    for category, value in changes.items():
        where = f"details.changes.{category}"
        if category not in taxonomy.categories:
            _problem(
                problems,
                "unknown data category",
                where,
                "use a category key of the taxonomy (privet taxonomy list categories)",
            )
            continue
        if category not in held:
            _problem(
                problems,
                "no field of the data map holds this category",
                where,
                "correct a category the company stores (see `privet datamap export`)",
            )
            continue
        identity_type = _value_rule(session, taxonomy, category)
        if isinstance(value, dict) and identity_type is None:
            parts = {part: _check_text(text, f"{where}.{part}", problems) for part, text in value.items()}
            if parts and all(parts.values()):
                out[category] = cast(dict[str, str], parts)  # every part is text (checked just above)
            elif not parts:
                _problem(problems, "name the parts", where, 'send {part: value}, e.g. {"postcode": "100000"}')
            continue
        if identity_type is not None and isinstance(value, str) and value.strip():
            try:
                out[category] = normalise_for(session, identity_type, value, where=where)
            except InvalidInput as exc:
                problems.extend(exc.problems or [Problem(exc.detail, where, exc.hint)])
            continue
        text = _check_text(value, where, problems)
        if text is not None:
            out[category] = text
    if out and not problems and settings is not None:
        _check_columns(session, settings, out, problems)
    return out


def _check_columns(session: Session, settings: Settings, changes: dict, problems: list[Problem]) -> None:
    """Each value against how the data map stores it (parts) and against the columns of every reachable SQL
    datastore holding it; a datastore that cannot be reached now is checked when the correction runs."""
    from privet.connectors.base import ConnectorError
    from privet.connectors.changes import check_parts, parts_of
    from privet.connectors.plan import SQL_KINDS, build_plans
    from privet.connectors.registry import open_connector
    from privet.connectors.sql.connector import SqlConnector

    plans = build_plans(session, settings)
    for category, value in changes.items():
        try:
            check_parts(category, value, parts_of(category, plans))
        except InvalidInput as exc:
            problems.extend(_prefixed(exc))
    if problems:
        return
    for plan in plans:
        held = {f.category for t in plan.tables.values() for f in t.fields}
        mine = {c: v for c, v in changes.items() if c in held}
        if plan.kind not in SQL_KINDS or not mine:
            continue
        try:
            with open_connector(plan, settings) as connector:
                assert isinstance(connector, SqlConnector)  # the class registered for each SQL kind
                connector.check_changes(mine)
        except InvalidInput as exc:
            problems.extend(_prefixed(exc))
        except ConnectorError:
            continue


def _prefixed(exc: InvalidInput) -> list[Problem]:
    """A connector's problems (`changes.x`) as problems of the request's details (`details.changes.x`)."""
    found = exc.problems or [Problem(exc.detail, "changes", exc.hint)]
    return [
        Problem(
            f"{exc.detail}: {p.message}" if p.message != exc.detail else p.message,
            p.where if (p.where or "").startswith("details.") else f"details.{p.where or 'changes'}",
            p.hint,
        )
        for p in found
    ]


def _check_details(
    session: Session, request_type: str, details: dict | None, problems: list[Problem], settings: Settings | None = None
) -> tuple[dict, dict | None]:
    """(plain details kept on the request, secret details to encrypt) for this type."""
    details = dict(details or {})
    allowed = _DETAIL_KEYS.get(request_type, set())
    for key in sorted(set(details) - allowed):
        _problem(
            problems,
            f"{request_type} requests take no {key!r}",
            f"details.{key}",
            ("send only: " + ", ".join(sorted(allowed))) if allowed else "leave details out",
        )
    if request_type in ("withdrawal", "restriction"):
        purposes = _check_purposes(session, request_type, details, problems)
        plain = {"purposes": purposes}
        if request_type == "restriction":
            plain["mode"] = details.get("mode", "object")
        return plain, None
    if request_type == "rectification":
        changes = check_changes(session, details.get("changes"), problems, settings)
        return {"categories": sorted(changes)}, {"changes": changes}
    if request_type == "complaint":
        text = details.get("text")
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
            _problem(problems, "describe the complaint", "details.text", f"send 1 to {MAX_TEXT} characters")
            return {}, None
        return {}, {"text": text.strip()}
    return {}, None


def _check_agent(channel: str, agent: dict | None, problems: list[Problem]) -> dict | None:
    """An authorised agent (P6): who they are and the reference of their authorisation."""
    if agent is None:
        if channel == "agent":
            _problem(
                problems,
                "an agent's request names the agent",
                "agent",
                "send agent: {name, organisation, authorisation}",
            )
        return None
    if not isinstance(agent, dict):
        _problem(problems, "agent must be an object", "agent", "send agent: {name, organisation, authorisation}")
        return None
    out = {}
    for key, required in (("name", True), ("organisation", False), ("authorisation", True)):
        value = agent.get(key)
        if value is None and not required:
            continue
        if not isinstance(value, str) or not value.strip() or len(value) > 200 or _CONTROL.search(value):
            _problem(
                problems,
                f"the agent's {key} is missing or not short text",
                f"agent.{key}",
                "authorisation is the reference of the signed mandate or power of attorney"
                if key == "authorisation"
                else "send 1 to 200 characters",
            )
            continue
        out[key] = value.strip()
    for key in sorted(set(agent) - {"name", "organisation", "authorisation"}):
        _problem(problems, f"agent takes no {key!r}", f"agent.{key}", "send name, organisation, authorisation")
    return out


def _check_about(
    region: str | None, organisation: str | None, problems: list[Problem]
) -> tuple[str | None, str | None]:
    """Where the person says they live (P41) and the organisation they act for (P6), both optional."""
    from privet.subjects.jurisdiction import check_organisation, normalise_region

    out: list[str | None] = []
    for check, value, where in (
        (normalise_region, region, "region"),
        (check_organisation, organisation, "organisation"),
    ):
        try:
            out.append(check(value, where=where))
        except InvalidInput as exc:
            problems.extend(exc.problems or [Problem(exc.detail, where, exc.hint)])
            out.append(None)
    return out[0], out[1]


def file_request(
    session: Session,
    keyring: Keyring,
    settings: Settings,
    *,
    request_type: str,
    identity_type: str,
    identity: str,
    filed_by: str,
    channel: str = "api",
    language: str = "en",
    details: dict | None = None,
    agent: dict | None = None,
    region: str | None = None,
    organisation: str | None = None,
) -> DsrRequest:
    """Check and store a new, unverified request; InvalidInput listing every problem (nothing stored).

    `region`: where the person says they live (ISO 3166, EU or EEA), which selects the law the request is handled
    under; `organisation`: the organisation the person acts for as its representative (P6)."""
    from privet.subjects.jurisdiction import jurisdiction_of
    from privet.subjects.senders import language_of
    from privet.subjects.service import normalise_for

    problems: list[Problem] = []
    _check_type(request_type, problems)
    if channel not in CHANNELS:
        _problem(problems, "unknown channel", "channel", "use one of: " + ", ".join(CHANNELS))
    try:
        language = language_of(language)
    except InvalidInput:
        _problem(problems, "unsupported language", "language", "use en or zh_CN")
    normalised = None
    try:
        normalised = normalise_for(session, identity_type, identity, where="identity")
    except InvalidInput as exc:
        problems.extend(exc.problems or [Problem(exc.detail, "identity", exc.hint)])
    agent_info = _check_agent(channel, agent, problems)
    region, organisation = _check_about(region, organisation, problems)
    plain, secret = (
        _check_details(session, request_type, details, problems, settings) if request_type in TYPES else ({}, None)
    )
    if problems:
        raise InvalidInput(
            "The request cannot be filed", "correct the fields named below; nothing was stored", problems
        )

    assert normalised is not None  # else its problem was raised just above
    now = utcnow()
    request_id = new_id()
    declared = jurisdiction_of(region)  # final once verified (privet.requests.intake.jurisdiction)
    request = DsrRequest(
        id=request_id,
        reference=service.new_reference(),
        type=request_type,
        status="unverified",
        identity_type=identity_type,
        identity_blind_index=keyring.blind_index(identity_type, normalised),
        identity_enc=keyring.encrypt(normalised, context=identity_context(request_id, identity_type)),
        channel=channel,
        filed_by=filed_by[:120],
        agent=agent_info,
        language=language,
        profile=declared or service.organisation_profile(session),
        profile_source="declared" if declared else "organisation",
        declared_region=region,
        organisation_ref=organisation,
        details=plain,
        details_enc=encrypt_json(keyring, secret, context=details_context(request_id)) if secret else None,
        received_at=now,
        verify_by=now + timedelta(days=settings.requests_verify_days),
        result={},
    )
    session.add(request)
    session.flush()
    service.audit(
        session,
        request,
        "filed",
        actor=filed_by,
        type=request_type,
        channel=channel,
        identity_type=identity_type,
        language=language,
        agent=agent_info is not None,
        profile=request.profile,
        region=region,
        organisation=organisation is not None,
        **plain,
    )
    from privet.requests.messages import notify

    notify.queue(session, request, "received")
    return request
