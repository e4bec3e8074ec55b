"""`privet consent decide`: may this subject's data be used for a purpose? Exit 0 allowed, 1 denied, 2 bad input."""

from __future__ import annotations

import json
from datetime import datetime

import typer

from privet.kit.errors import InvalidInput, Problem


def _moment(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        hint = "give ISO 8601 with an offset, e.g. 2024-05-01T08:00:00Z"
        raise InvalidInput("--at needs a date and time with a timezone", hint, [Problem("not a time", "--at", hint)])
    return moment


def _holder(subject_id: str | None, identity_type: str | None, value: str | None, visitor: str | None) -> dict:
    if (identity_type is None) != (value is None):
        raise InvalidInput("--type and --value go together", "give both to find the subject by an identity")
    chosen = [x for x in (subject_id, identity_type, visitor) if x is not None]
    if len(chosen) != 1:
        raise InvalidInput(
            "Name exactly one subject or visitor", "use --subject-id ID, or --type TYPE --value VALUE, or --visitor ID"
        )
    if identity_type is not None:
        return {"identity": (identity_type, value)}
    return {"subject_id": subject_id} if subject_id is not None else {"visitor_id": visitor}


def decide_command(
    purpose: str = typer.Argument(..., help="Purpose key, e.g. marketing.communications."),
    subject_id: str = typer.Option(None, "--subject-id", help="The subject's Privet id."),
    identity_type: str = typer.Option(None, "--type", help="Identity type to find the subject by (email, phone, ...)."),
    value: str = typer.Option(None, "--value", help="The identity value (only used to find the subject)."),
    visitor: str = typer.Option(None, "--visitor", help="An anonymous visitor id (the banner cookie)."),
    category: list[str] = typer.Option(
        None, "--category", help="A data category to use (repeat for several; default: the purpose's own)."
    ),
    region: str = typer.Option(None, "--region", help="Where the data would be used (CN, US, EU, ...)."),
    at: str = typer.Option(None, "--at", help="Decide as the ledger stood then (ISO 8601 with offset)."),
    channel: str = typer.Option(
        None,
        "--channel",
        help="The channel a message would go by (email, sms, push): marketing switched off on it is denied.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the decision as JSON."),
) -> None:
    """Decide whether a subject's data may be used for a purpose: exit 0 allowed, 1 denied."""
    from privet.consent.decisions.rules import BAD_INPUT
    from privet.consent.decisions.service import decide
    from privet.db.store import store_session
    from privet.kit.crypto import Keyring
    from privet.settings import get_settings

    who = _holder(subject_id, identity_type, value, visitor)
    moment = _moment(at)
    with store_session() as session:
        decision = decide(
            session,
            purpose=purpose,
            categories=category or None,
            region=region,
            at=moment,
            keyring=Keyring.from_settings(get_settings()),
            channel=channel,
            **who,
        )
    if decision.reason == "UNKNOWN_CHANNEL":
        raise InvalidInput(f"Unknown channel {channel!r}", "use --channel email, sms or push")
    if decision.reason in BAD_INPUT:
        section = "purposes" if decision.reason == "UNKNOWN_PURPOSE" else "categories"
        raise InvalidInput(
            f"Unknown {'purpose' if section == 'purposes' else 'data category'}",
            f"list them with `privet taxonomy list {section}`",
        )
    if as_json:
        typer.echo(json.dumps({"purpose": purpose, **({"channel": channel} if channel else {}), **decision.as_dict()}))
    else:
        typer.echo(f"{'allowed' if decision.allowed else 'denied'}: {decision.reason}")
        typer.echo(f"legal basis: {decision.legal_basis or '-'}")
        typer.echo(f"record: {decision.record_id or '-'}")
    raise typer.Exit(0 if decision.allowed else 1)
