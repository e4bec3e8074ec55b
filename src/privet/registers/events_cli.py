"""`privet registers share | shares | disclose | disclosures | corporate-transfer | corporate-transfers |
campaign-sent`: the register's events (part of `privet registers`, added to its commands in `registers.cli`)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import typer

from privet.kit.cliutil import cli_actor
from privet.registers.cli_options import (
    CATEGORIES,
    DATE,
    GROUND,
    OUTPUT,
    REFERENCE,
    SUBJECT_IDS,
    SUBJECTS_FILE,
    load_keyring,
    people_given,
    print_table,
    reason_counts,
    write_allowed,
)

commands = typer.Typer()  # its commands join `privet registers` (registers.cli)


@commands.command("share")
def share(
    recipient: str = typer.Argument(..., help="The registered recipient's key."),
    subject_id: list[str] = SUBJECT_IDS,
    file: Path = SUBJECTS_FILE,
    purpose: str = typer.Option(None, help="One of the recipient's purposes (default: its first)."),
    category: list[str] = CATEGORIES,
    ground: str = GROUND,
    reference: str = REFERENCE,
    note: str = typer.Option(None, help="A note for the register (no personal data)."),
    output: Path = OUTPUT,
) -> None:
    """Share with a registered recipient: subjects without consent are filtered out (or rely on a legal ground
    with --ground and --reference). Prints the counts; --output writes who may be shared."""
    from privet.db.store import store_session
    from privet.registers import sharing

    ids, identities = people_given(subject_id, file)
    with store_session() as session:
        outcome = sharing.share(
            session,
            recipient=recipient,
            subject_ids=ids,
            identities=identities,
            purpose=purpose,
            categories=category,
            legal_ground=ground,
            reference=reference,
            note=note,
            keyring=load_keyring() if identities else None,
            actor=cli_actor(),
        )
        e = outcome.event
        line = (
            f"share {e.id} to {recipient}: requested {e.requested}, shared {e.shared}, filtered out "
            f"{e.filtered_out} ({reason_counts(e.reasons)})"
        )
    write_allowed(output, outcome.allowed)
    typer.echo(line)


@commands.command("shares")
def list_shares(
    recipient: str = typer.Option(None, help="Only this recipient."),
    limit: int = typer.Option(50, min=1, max=1000, help="Show at most this many, newest first."),
) -> None:
    """Sharing events, newest first (counts only)."""
    from privet.db.store import store_session
    from privet.registers import sharing

    with store_session() as session:
        rows = [
            (
                f"{e.at:%Y-%m-%d %H:%M}",
                k,
                e.purpose,
                e.legal_ground or e.basis,
                e.reference,
                e.requested,
                e.shared,
                reason_counts(e.reasons),
            )
            for e, k in sharing.list_shares(session, recipient=recipient, limit=limit)
        ]
    print_table(
        "sharing events",
        ("at", "recipient", "purpose", "basis", "reference", "requested", "shared", "filtered out"),
        rows,
    )


@commands.command("disclose")
def disclose(
    title: str = typer.Option(..., help="What is published (no personal data)."),
    category: list[str] = typer.Option(..., "--category", help="A data category made public (repeat)."),
    subject_id: list[str] = SUBJECT_IDS,
    file: Path = SUBJECTS_FILE,
    ground: str = typer.Option(
        None,
        "--ground",
        help="Ground code (default with --reference: law_required, or the policy's disclosure ground).",
    ),
    reference: str = typer.Option(None, "--reference", help="The law, legal process or authority's requirement."),
    purpose: str = typer.Option(None, help="Default: the data map's public-disclosure purpose."),
    output: Path = OUTPUT,
) -> None:
    """Record a public disclosure: each subject needs a separate consent to it, unless a legal reference is given."""
    from privet.db.store import store_session
    from privet.registers import disclosures

    ids, identities = people_given(subject_id, file)
    with store_session() as session:
        outcome = disclosures.disclose(
            session,
            title=title,
            categories=category,
            subject_ids=ids,
            identities=identities,
            legal_ground=ground,
            reference=reference,
            purpose=purpose,
            keyring=load_keyring() if identities else None,
            actor=cli_actor(),
        )
        d = outcome.event
        line = (
            f"disclosure {d.id} ({d.basis}): requested {d.requested}, disclosed {d.disclosed}, filtered out "
            f"{d.filtered_out} ({reason_counts(d.reasons)})"
        )
    write_allowed(output, outcome.allowed)
    typer.echo(line)


@commands.command("disclosures")
def list_disclosures(
    limit: int = typer.Option(50, min=1, max=1000, help="Show at most this many, newest first."),
) -> None:
    """Public disclosures, newest first (counts only)."""
    from privet.db.store import store_session
    from privet.registers import disclosures

    with store_session() as session:
        rows = [
            (
                f"{d.at:%Y-%m-%d %H:%M}",
                d.title,
                ", ".join(d.categories),
                d.legal_ground or d.basis,
                d.reference,
                d.requested,
                d.disclosed,
                reason_counts(d.reasons),
            )
            for d in disclosures.list_disclosures(session, limit)
        ]
    print_table(
        "public disclosures",
        ("at", "title", "categories", "basis", "reference", "requested", "disclosed", "filtered out"),
        rows,
    )


@commands.command("corporate-transfer")
def corporate_transfer(
    successor: str = typer.Option(..., help="The new holder of the data."),
    kind: str = typer.Option(..., help="merger, acquisition, asset_sale, bankruptcy or other."),
    on: datetime = typer.Option(..., "--date", formats=DATE, help="The date the data passes (YYYY-MM-DD)."),
    binding: str = typer.Option(..., help="How the successor is bound by the privacy policy."),
    not_bound: bool = typer.Option(
        False, "--not-bound", help="The successor is not bound: it must seek consent again (a re-consent campaign)."
    ),
    category: list[str] = CATEGORIES,
    subjects: int = typer.Option(
        None, "--subjects", min=0, help="People whose data passes (default: every active subject)."
    ),
    reference: str = typer.Option(None, help="The deal or contract reference."),
) -> None:
    """Record a corporate transfer and prepare the campaign telling the people concerned."""
    from privet.db.store import store_session
    from privet.registers import corporate

    with store_session() as session:
        row = corporate.record_transfer(
            session,
            successor=successor,
            kind=kind,
            transfer_date=on.date(),
            binding_statement=binding,
            bound=not not_bound,
            categories=category,
            subject_count=subjects,
            reference=reference,
            actor=cli_actor(),
        )
        line = (
            f"corporate transfer {row.id} recorded; {row.campaign_kind} campaign prepared for "
            f"{row.campaign_subjects} subjects"
        )
    typer.echo(line)


@commands.command("corporate-transfers")
def list_transfers() -> None:
    """Corporate transfers with their campaigns."""
    from privet.db.store import store_session
    from privet.registers import corporate

    with store_session() as session:
        rows = [
            (
                t.id,
                t.transfer_date,
                t.successor,
                t.kind,
                "yes" if t.bound else "no",
                t.subject_count,
                f"{t.campaign_kind} {t.campaign_status} ({t.campaign_subjects})",
            )
            for t in corporate.list_transfers(session)
        ]
    print_table("corporate transfers", ("id", "date", "successor", "kind", "bound", "subjects", "campaign"), rows)


@commands.command("campaign-sent")
def campaign_sent(
    transfer_id: str = typer.Argument(
        ..., help="The corporate transfer's id (see `privet registers corporate-transfers`)."
    ),
) -> None:
    """Record that a corporate transfer's prepared campaign was sent to the people concerned."""
    from privet.db.store import store_session
    from privet.registers import corporate

    with store_session() as session:
        row = corporate.mark_campaign_sent(session, transfer_id, actor=cli_actor())
        line = f"{row.campaign_kind} campaign of {transfer_id} recorded as sent ({row.campaign_subjects} subjects)"
    typer.echo(line)
