"""`privet subjects`: look subjects up by an identity (shown masked), merge them, list those flagged for deletion."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import typer

from privet.kit.cliutil import cli_actor as _actor

if TYPE_CHECKING:
    from privet.kit.crypto import Keyring
    from privet.subjects.schemas import SubjectOut

app = typer.Typer(help="Data subjects, identities and guardians.", no_args_is_help=True)


def _keyring() -> Keyring:
    from privet.kit.crypto import Keyring
    from privet.settings import get_settings

    return Keyring.from_settings(get_settings())


def _print(out: SubjectOut, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(out.model_dump(mode="json"), ensure_ascii=False, indent=2))
        return
    typer.echo(f"subject {out.id}  status {out.status}  type {out.subject_type or '-'}  age {out.age.status}")
    if out.merged_ids:
        typer.echo(f"  merged into it: {', '.join(out.merged_ids)}")
    if out.region or out.jurisdiction:
        typer.echo(
            f"  region {out.region or '-'}  law {out.jurisdiction or 'the organisation profile'}  "
            f"(from {out.jurisdiction_source or '-'})"
        )
    if out.organisation_ref:
        typer.echo(f"  acts for organisation: {out.organisation_ref}")
    for ident in out.identities:
        typer.echo(f"  {ident.type:<14} {ident.masked:<28} {'verified' if ident.verified else 'not verified'}")
    for link in out.guardians:
        state = "verified" if link.verified_at else "not verified"
        typer.echo(f"  guardian {link.guardian_id} ({link.relationship}, {state})")
    for link in out.children:
        typer.echo(f"  guardian of {link.child_id} ({link.relationship})")
    if out.age.flagged_for_deletion_at:
        typer.echo(f"  flagged for deletion: {out.age.deletion_reason}")


@app.command("lookup")
def lookup(
    type_: str = typer.Option(..., "--type", help="Identity type: email, phone, user_id, device_serial, ..."),
    value: str = typer.Option(
        ...,
        prompt="Identity value",
        help="The identity value; leave it out to be prompted (keeps it out of shell history).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of text."),
) -> None:
    """Find the subject holding an identity; identity values are shown masked."""
    from privet.db.store import store_session
    from privet.kit.errors import NotFound
    from privet.subjects import service
    from privet.subjects.schemas import subject_out

    keyring = _keyring()
    with store_session() as session:
        subject = service.find_subject(session, keyring, type_, value)
        if subject is None:
            raise NotFound("No subject has this identity", "check the type and value")
        out = subject_out(session, keyring, subject)
    _print(out, as_json)


@app.command("show")
def show(
    subject_id: str = typer.Argument(..., help="The subject's id."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of text."),
) -> None:
    """Show a subject by id (identities masked)."""
    from privet.db.store import store_session
    from privet.subjects import service
    from privet.subjects.schemas import subject_out

    keyring = _keyring()
    with store_session() as session:
        out = subject_out(session, keyring, service.get_subject(session, subject_id))
    _print(out, as_json)


@app.command("merge")
def merge(
    keep_id: str = typer.Argument(..., help="The subject that survives."),
    absorb_id: str = typer.Argument(..., help="The subject merged into it (kept, marked merged)."),
) -> None:
    """Merge two subjects found to be one person (audited)."""
    from privet.db.store import store_session
    from privet.subjects import service

    with store_session() as session:
        keep = service.get_subject(session, keep_id, follow_merge=False)
        absorb = service.get_subject(session, absorb_id, follow_merge=False)
        service.merge(session, keep, absorb, actor=_actor())
    typer.echo(f"merged {absorb_id} into {keep_id}")


@app.command("flagged")
def flagged(as_json: bool = typer.Option(False, "--json", help="Print JSON lines instead of a table.")) -> None:
    """List subjects flagged for deletion (e.g. minors in adults-only mode)."""
    from privet.db.store import store_session
    from privet.subjects.ages import flagged_for_deletion

    with store_session() as session:
        rows = []
        for s in flagged_for_deletion(session):
            assert s.deletion_flagged_at is not None  # flagged_for_deletion selects the flagged subjects
            rows.append((s.id, s.status, s.deletion_flagged_at, s.deletion_reason))
    if as_json:
        for sid, status, at, reason in rows:
            typer.echo(json.dumps({"id": sid, "status": status, "flagged_at": at.isoformat(), "reason": reason}))
        return
    typer.echo(f"{'SUBJECT':<28} {'STATUS':<8} {'FLAGGED':<21} REASON")
    for sid, status, at, reason in rows:
        typer.echo(f"{sid:<28} {status:<8} {at.strftime('%Y-%m-%d %H:%M UTC'):<21} {reason or '-'}")
    typer.echo(f"{len(rows)} flagged")
