"""`privet requests`: list, show, file for someone, approve, refuse, extend, assign, run, package, legal holds."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING

import typer

from privet.kit.cliutil import cli_actor
from privet.requests.cli_views import print_detail, print_table

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from privet.kit.crypto import Keyring
    from privet.requests.models import DsrRequest
    from privet.settings import Settings

app = typer.Typer(
    help="Data-subject requests: list, show, approve, refuse, extend, run, package, legal holds.", no_args_is_help=True
)
REF = typer.Argument(..., help="The request's reference (R-7K3M9Q2P) or id.")


def _runtime() -> tuple[Settings, Keyring]:
    from privet.kit.crypto import Keyring
    from privet.settings import get_settings

    settings = get_settings()
    return settings, Keyring.from_settings(settings)


@app.command("list")
def list_requests(
    status: str = typer.Option(None, help="Only this status (unverified, running, completed, ...)."),
    type_: str = typer.Option(None, "--type", help="Only this request type (access, erasure, ...)."),
    law: str = typer.Option(None, help="Only requests handled under this law: pipl, gdpr or ccpa."),
    organisation: str = typer.Option(
        None, help="Only requests of people acting for this organisation (its name or account reference, as filed)."
    ),
    limit: int = typer.Option(50, min=1, max=500, help="Show at most this many, newest first."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """List requests, newest first, with the law each is handled under and the organisation acted for."""
    from privet.db.store import store_session
    from privet.requests.queries import list_requests as query
    from privet.requests.schemas import request_out

    _settings, keyring = _runtime()
    with store_session() as session:
        rows, total = query(
            session, status=status, request_type=type_, limit=limit, profile=law, organisation=organisation
        )
        out = [request_out(keyring, r) for r in rows]
    if as_json:
        typer.echo(json.dumps([r.model_dump(mode="json") for r in out], ensure_ascii=False, indent=2))
        return
    print_table(out, f"requests ({len(out)} of {total})")


@app.command("show")
def show(
    reference: str = REF, as_json: bool = typer.Option(False, "--json", help="Print JSON instead of text.")
) -> None:
    """One request: deadlines, steps with counts, tasks, package and audit trail (identities masked)."""
    from privet.db.store import store_session
    from privet.requests import queries, service
    from privet.requests.schemas import EventOut, RequestDetailOut, package_out, request_out, step_out, task_out

    _settings, keyring = _runtime()
    with store_session() as session:
        found = service.by_reference(session, reference)
        detail = RequestDetailOut(
            **request_out(keyring, found).model_dump(),
            steps=[step_out(s) for s in queries.steps_of(session, found)],
            tasks=[task_out(t) for t in queries.tasks_of(session, found)],
            package=package_out(queries.package_of(session, found)),
            trail=[
                EventOut(seq=e.seq, at=e.at, actor=e.actor, action=e.action, details=e.details)
                for e in queries.trail(session, found)
            ],
        )
    if as_json:
        typer.echo(detail.model_dump_json(indent=2))
        return
    print_detail(detail)


def _changes(pairs: list[str]) -> dict[str, str]:
    from privet.kit.errors import InvalidInput

    out = {}
    for pair in pairs:
        category, sep, value = pair.partition("=")
        if not sep:
            raise InvalidInput("A change is CATEGORY=VALUE", "e.g. --change user.contact.email=new@example.com")
        out[category.strip()] = value
    return out


@app.command("file")
def file(
    type_: str = typer.Option(
        ...,
        "--type",
        help="access, portability, rectification, erasure, closure, withdrawal, restriction, explanation or complaint.",
    ),
    identity_type: str = typer.Option("email", help="Identity type: email, phone, user_id, device_serial, ..."),
    identity: str = typer.Option(
        ...,
        prompt="Identity value",
        help="The identity value; leave it out to be prompted (keeps it out of shell history).",
    ),
    channel: str = typer.Option("staff_phone", help="staff_phone, staff_email, staff_letter or agent."),
    language: str = typer.Option("en", help="en or zh_CN: the language of messages to the person."),
    purpose: list[str] = typer.Option(None, help="A purpose to withdraw consent for or object to (repeatable)."),
    change: list[str] = typer.Option(None, help="A correction CATEGORY=VALUE for rectification (repeatable)."),
    text: str = typer.Option(None, help="The complaint's text."),
    agent_name: str = typer.Option(None, help="The authorised agent's name (channel agent)."),
    agent_organisation: str = typer.Option(None, help="The agent's organisation."),
    agent_authorisation: str = typer.Option(None, help="Reference of the agent's mandate."),
    region: str = typer.Option(
        None,
        help="Where the person says they live: ISO 3166 code (CN, DE, US-CA), EU or "
        "EEA; selects the law the request is handled under (PIPL, GDPR, CCPA).",
    ),
    organisation: str = typer.Option(
        None, help="The organisation the person acts for as its representative (name or account reference)."
    ),
    checked: str = typer.Option(
        None,
        help="Identity checked now by: id_document, call_back, known_contact, "
        "signed_letter, agent_mandate or in_person; else a code is sent.",
    ),
    note: str = typer.Option(None, help="What was checked (no personal data)."),
) -> None:
    """File a request for someone (phone, e-mail, letter, agent); prints its reference."""
    from privet.db.store import store_session
    from privet.requests.intake import service as intake
    from privet.requests.intake import verify

    settings, keyring = _runtime()
    details: dict = {}
    if purpose:
        details["purposes"] = list(purpose)
    if change:
        details["changes"] = _changes(change)
    if text:
        details["text"] = text
    agent = (
        {"name": agent_name, "organisation": agent_organisation, "authorisation": agent_authorisation}
        if agent_name or agent_authorisation
        else None
    )
    if agent and agent["organisation"] is None:
        agent.pop("organisation")
    actor = cli_actor()
    with store_session(settings) as session:
        filed = intake.file_request(
            session,
            keyring,
            settings,
            request_type=type_,
            identity_type=identity_type,
            identity=identity,
            filed_by=actor,
            channel=channel,
            language=language,
            details=details,
            agent=agent,
            region=region,
            organisation=organisation,
        )
        if checked:
            verify.record_identity_check(session, keyring, settings, filed, method=checked, note=note, actor=actor)
            how = "identity checked"
        elif identity_type in ("email", "phone"):
            how = "code sent" if verify.offer_code(session, keyring, settings, filed) else "code NOT sent (retry)"
        else:
            how = "waiting for an identity check (privet requests check REF --method ...)"
        reference, state = filed.reference, filed.status
    typer.echo(f"{reference}  {state}  ({how})")


def _act(reference: str, action: Callable[[Session, Settings, Keyring, DsrRequest], object], done: str) -> None:
    from privet.db.store import store_session
    from privet.requests import service

    settings, keyring = _runtime()
    with store_session(settings) as session:
        found = service.by_reference(session, reference, lock=True)
        action(session, settings, keyring, found)
        line = f"{found.reference}  {found.status}  {done}"
    typer.echo(line)


@app.command("check")
def check(
    reference: str = REF,
    method: str = typer.Option(
        ..., help="id_document, call_back, known_contact, signed_letter, agent_mandate or in_person."
    ),
    note: str = typer.Option(None, help="What was checked (no personal data)."),
) -> None:
    """Record that you checked the requester's identity; the request then proceeds."""
    from privet.requests.intake.verify import record_identity_check

    _act(
        reference,
        lambda s, st, k, r: record_identity_check(s, k, st, r, method=method, note=note, actor=cli_actor()),
        "identity checked",
    )


@app.command("approve")
def approve(reference: str = REF) -> None:
    """Approve a request waiting for an officer; its work starts."""
    from privet.requests.workflow.service import approve as approve_request

    _act(reference, lambda s, st, k, r: approve_request(s, k, st, r, actor=cli_actor()), "approved")


@app.command("refuse")
def refuse(
    reference: str = REF,
    code: str = typer.Option(..., help="Reason code (`privet requests codes` lists them)."),
    note: str = typer.Option(None, help="Added to the message to the person (no personal data)."),
) -> None:
    """Refuse with a reason code; the person is told why and where to complain."""
    from privet.requests.workflow.service import refuse as refuse_request

    _act(
        reference,
        lambda s, st, k, r: refuse_request(s, r, code=code, note=note, actor=cli_actor()),
        f"refused ({code})",
    )


@app.command("extend")
def extend(
    reference: str = REF, reason: str = typer.Option(..., help="Why more time is needed (sent to the person).")
) -> None:
    """Extend the deadline once (GDPR, CCPA); the person is told the reason and the new date."""
    from privet.requests.workflow.service import extend as extend_request

    _act(reference, lambda s, st, k, r: extend_request(s, r, reason=reason, actor=cli_actor()), "extended")


@app.command("fee")
def fee(
    reference: str = REF,
    paid: bool = typer.Option(None, "--paid/--waive", help="--paid: the fee was received; --waive: it is not charged."),
    reason: str = typer.Option(
        None, help="Why it is waived (required then), or the payment's reference (no personal data)."
    ),
) -> None:
    """Record the fee of a request waiting for it as paid, or waive it; the request then goes ahead."""
    from privet.kit.errors import InvalidInput
    from privet.requests.workflow.fees import settle

    if paid is None:
        raise InvalidInput("Say whether the fee was paid or is waived", "add --paid or --waive (with --reason)")
    outcome = "paid" if paid else "waived"
    _act(
        reference,
        lambda s, st, k, r: settle(s, k, st, r, outcome=outcome, note=reason, actor=cli_actor()),
        f"fee {outcome}",
    )


@app.command("backups")
def backups(
    told: bool = typer.Option(False, "--all", help="Also erasures whose reminder was already sent."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Completed erasures and the day their erased data must be gone from backups (P22), soonest first."""
    from rich.table import Table

    from privet.db.store import store_session
    from privet.kit.cliutil import console
    from privet.requests.schemas import backup_out
    from privet.requests.workflow.backups import erasures, today

    with store_session() as session:
        on = today(session)
        rows = [backup_out(item, on) for item in erasures(session, include_told=told)]
    if as_json:
        typer.echo(json.dumps([r.model_dump(mode="json") for r in rows], ensure_ascii=False, indent=2))
        return
    table = Table(title=f"erasures and their backups ({len(rows)})")
    for column in ("reference", "type", "completed", "backups gone by", "state", "datastores"):
        table.add_column(column)
    for r in rows:
        table.add_row(
            r.reference,
            r.type,
            f"{r.completed_at:%Y-%m-%d}" if r.completed_at else "-",
            f"{r.clear_by:%Y-%m-%d}",
            r.state,
            ", ".join(r.datastores) or "(nothing changed)",
        )
    console().print(table)


@app.command("jurisdictions")
def jurisdictions(
    locate: bool = typer.Option(
        False,
        "--locate",
        help="First record where people without a region are, from "
        "the regional datastore holding them (identity columns "
        "only; no rows are read).",
    ),
    limit: int = typer.Option(200, min=1, max=10_000, help="With --locate: look up at most this many people."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """People by the law their requests get (P41: PIPL, GDPR, CCPA, else the organisation's profile), where their
    region came from (token, declared, datastore), and with --locate how many were found."""
    from rich.table import Table

    from privet.db.store import store_session
    from privet.kit.cliutil import console
    from privet.requests.intake.jurisdiction import locate_unknown, people_by_law
    from privet.requests.service import organisation_profile

    settings, keyring = _runtime()
    with store_session(settings) as session:
        located = locate_unknown(session, keyring, settings, actor=cli_actor(), limit=limit) if locate else None
        home = organisation_profile(session)
        rows: list[dict] = [
            {"law": law or home, "from": source or "organisation", "region": region, "people": count}
            for law, source, region, count in people_by_law(session)
        ]
    if as_json:
        typer.echo(json.dumps({"located": located, "people": rows}, ensure_ascii=False, indent=2))
        return
    if located is not None:
        typer.echo("located: " + ", ".join(f"{k} {v}" for k, v in located.items()))
    table = Table(title=f"people by the law their requests get (organisation's profile: {home})")
    for column in ("law", "from", "region", "people"):
        table.add_column(column)
    for row in rows:
        table.add_row(row["law"], row["from"], row["region"] or "-", str(row["people"]))
    console().print(table)


@app.command("assign")
def assign(
    reference: str = REF, to: str = typer.Option(None, help="User name of the officer; leave out to unassign.")
) -> None:
    """Assign a request to an officer."""
    from privet.requests.workflow.service import assign as assign_request

    _act(
        reference,
        lambda s, st, k, r: assign_request(s, r, assignee=to, actor=cli_actor()),
        f"assigned to {to or 'nobody'}",
    )


@app.command("complete")
def complete(
    reference: str = REF, note: str = typer.Option(..., help="The outcome, sent to the person (no personal data).")
) -> None:
    """Complete a complaint with its outcome."""
    from privet.requests.workflow.service import complete as complete_request

    _act(reference, lambda s, st, k, r: complete_request(s, k, st, r, note=note, actor=cli_actor()), "completed")


@app.command("run")
def run(
    reference: str = REF,
    now: bool = typer.Option(
        False, "--now", help="Also run the queued jobs in this process (no worker needed) and show the outcome."
    ),
) -> None:
    """Run again the steps that failed (or were left without a job)."""
    from privet.requests.workflow.service import run as run_request

    _act(reference, lambda s, st, k, r: run_request(s, k, st, r, actor=cli_actor()), "queued")
    if now:
        _run_jobs()
        show(reference, as_json=False)


def _run_jobs() -> None:
    from privet.db.engine import make_sessionmaker
    from privet.db.store import open_engine
    from privet.jobs import dispatch
    from privet.jobs.service import run_until_idle

    settings, keyring = _runtime()
    engine = open_engine(settings)
    previous = dispatch.configure(settings)
    try:
        ran = run_until_idle(make_sessionmaker(engine), settings, keyring)
    finally:
        dispatch.configure(previous)
        engine.dispose()
    typer.echo(f"ran {ran} job(s)")


@app.command("package")
def package(
    reference: str = REF,
    send: bool = typer.Option(True, "--send/--no-send", help="Also send the new link to the person."),
) -> None:
    """Build an answered request's package again with a fresh link, print the link (and send it)."""
    from privet.db.store import store_session
    from privet.requests import service
    from privet.requests.execution import packaging
    from privet.requests.packages.service import download_url

    settings, keyring = _runtime()
    with store_session(settings) as session:
        found = service.by_reference(session, reference, lock=True)
        built = packaging.rebuild(session, keyring, settings, found, actor=cli_actor())
        if built is not None and send:
            packaging.send_link(session, keyring, found, *built)
    if built is None:
        typer.echo(
            f"{reference}: the rows are gone; the fetch steps are queued again and the person gets a new "
            "link when they finish"
        )
        return
    typer.echo(download_url(settings, built[1]))


@app.command("due")
def due(days: int = typer.Option(3, min=0, max=90, help="Also list requests due within this many days.")) -> None:
    """Overdue requests and those due soon."""
    from privet.db.store import store_session
    from privet.requests.schemas import request_out
    from privet.requests.workflow.service import deadline_lists

    _settings, keyring = _runtime()
    with store_session() as session:
        soon_found, late_found = deadline_lists(session, days=days)
        soon, late = [request_out(keyring, r) for r in soon_found], [request_out(keyring, r) for r in late_found]
    print_table(late, f"overdue ({len(late)})")
    print_table(soon, f"due within {days} days ({len(soon)})")


@app.command("codes")
def codes() -> None:
    """The refusal reason codes with the law each rests on."""
    from privet.requests.law.triage import REFUSAL_CODES

    for reason in REFUSAL_CODES.values():
        typer.echo(f"{reason.code:<26} {reason.en}  [{reason.law}]")


def _register_holds() -> None:
    from privet.requests.holds.cli import register

    register(app)


_register_holds()
