"""`privet campaigns ...`: material-change campaigns (P30): list, show with counts, retry failed messages."""

from __future__ import annotations

import typer
from rich.table import Table

from privet.kit.cliutil import cli_actor as _actor
from privet.kit.cliutil import console as _console

app = typer.Typer(
    help="Material-change campaigns: who was told of a changed policy, what was sent, failed and re-consented.",
    no_args_is_help=True,
)
_COUNTS = ("people", "sent", "failed", "queued", "no_address", "reconsented")


@app.command("list")
def list_campaigns() -> None:
    """List the campaigns, newest first, with their counts."""
    from privet.consent.campaigns import service
    from privet.db.store import store_session

    with store_session() as session:
        rows = [(c, service.counts(session, c)) for c in service.list_campaigns(session)]
    if not rows:
        typer.echo(
            "no campaigns yet: publishing a material version of a notice starts one "
            "(privet notices publish ... --material PURPOSE)"
        )
        return
    table = Table("id", "notice", "version", "purposes", "moment", *_COUNTS)
    for c, n in rows:
        table.add_row(
            c.id,
            c.notice_key,
            str(c.notice_version),
            ", ".join(c.purposes),
            c.moment.isoformat(),
            *(str(getattr(n, k)) for k in _COUNTS),
        )
    _console().print(table)


@app.command("show")
def show(
    campaign_id: str = typer.Argument(..., help="The campaign id (privet campaigns list)."),
    status: str = typer.Option(
        None, "--status", help="Only messages of this status: queued, sent, failed, no_address."
    ),
    limit: int = typer.Option(50, "--limit", min=1, max=1000, help="How many messages to list."),
) -> None:
    """Show a campaign's counts and its messages (subject ids, channel, status, attempts; never an address)."""
    from privet.consent.campaigns import service
    from privet.db.store import store_session
    from privet.kit.errors import InvalidInput

    if status is not None and status not in service.STATUSES:
        raise InvalidInput(f"--status {status!r} is not a message status", f"use one of {', '.join(service.STATUSES)}")
    with store_session() as session:
        campaign = service.get_campaign(session, campaign_id)
        n = service.counts(session, campaign)
        found = service.messages(session, campaign, status=status, limit=limit)
    typer.echo(
        f"Campaign {campaign.id}: {campaign.notice_key} version {campaign.notice_version}, changed "
        f"{', '.join(campaign.purposes)} from {campaign.moment.isoformat()}"
    )
    typer.echo("  " + "  ".join(f"{k}: {getattr(n, k)}" for k in _COUNTS))
    table = Table("subject", "purposes", "channel", "language", "status", "attempts", "last error")
    for m in found:
        table.add_row(
            m.subject_id,
            ", ".join(m.purposes),
            m.channel or "",
            m.language,
            m.status,
            str(m.attempts),
            m.last_error or "",
        )
    _console().print(table)


@app.command("retry")
def retry(campaign_id: str = typer.Argument(..., help="The campaign id.")) -> None:
    """Queue a campaign's failed messages again (once the mail server or SMS gateway works)."""
    from privet.consent.campaigns import service
    from privet.db.store import store_session

    with store_session() as session:
        queued = service.retry_failed(session, service.get_campaign(session, campaign_id), actor=_actor())
    typer.echo(f"{queued} failed message(s) queued again")
