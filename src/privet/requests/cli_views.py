"""How `privet requests` prints requests: a Rich table of many, or one in detail."""

from __future__ import annotations

import json
from datetime import date
from typing import TYPE_CHECKING

from privet.kit.cliutil import console

if TYPE_CHECKING:
    from privet.requests.schemas import RequestDetailOut, RequestOut


def _day(value: date | None) -> str:
    return value.strftime("%Y-%m-%d") if value else "-"


def print_table(rows: list[RequestOut], title: str) -> None:
    """A table of requests (RequestOut rows): reference, type, status, channel, dates, assignee."""
    from rich.table import Table

    table = Table(title=title)
    for column in ("reference", "type", "status", "law", "channel", "received", "due", "assignee", "organisation"):
        table.add_column(column)
    for r in rows:
        table.add_row(
            r.reference,
            r.type,
            r.status,
            f"{r.profile} ({r.profile_source or 'organisation'})",
            r.channel,
            _day(r.received_at),
            _day(r.extended_to or r.due_on),
            r.assignee or "-",
            r.organisation_ref or "-",
        )
    console().print(table)


def print_detail(detail: RequestDetailOut) -> None:
    """One request as text: deadlines, agent and fee, steps with counts, tasks, package, result, audit trail."""
    from rich.table import Table

    out = console()
    out.print(
        f"[bold]{detail.reference}[/bold]  {detail.type}  [bold]{detail.status}[/bold]  "
        f"profile {detail.profile} ({detail.profile_source or 'organisation'})  channel {detail.channel}  "
        f"language {detail.language}"
    )
    out.print(f"  identity {detail.identity_type} {detail.identity or '(purged)'}   subject {detail.subject_id or '-'}")
    out.print(
        f"  received {detail.received_at:%Y-%m-%d %H:%M}  verified "
        f"{detail.verified_at.strftime('%Y-%m-%d %H:%M') if detail.verified_at else '-'}  due "
        f"{_day(detail.due_on)}{f' → extended to {_day(detail.extended_to)}' if detail.extended_to else ''}"
    )
    for label, value in (
        ("agent", detail.agent),
        ("acting for organisation", detail.organisation_ref),
        ("declared region", detail.declared_region),
        ("fee", detail.fee),
        ("backups gone by", detail.backups_clear_by and _day(detail.backups_clear_by)),
        ("repeat of", detail.repeat_of),
        ("refused", detail.refusal_code and f"{detail.refusal_code} {detail.refusal_note or ''}"),
        ("assignee", detail.assignee),
    ):
        if value:
            out.print(f"  {label}: {value}")
    if detail.steps:
        table = Table(title="steps")
        for column in ("datastore", "action", "status", "attempts", "counts", "last error"):
            table.add_column(column)
        for s in detail.steps:
            counts = ", ".join(f"{t}: {' '.join(f'{k}={v}' for k, v in c.items())}" for t, c in s.counts.items())
            table.add_row(s.datastore, s.action, s.status, str(s.attempts), counts or "-", s.last_error or "")
        out.print(table)
    for task in detail.tasks:
        out.print(f"  task {task.id}: {task.status} (assignee {task.assignee or '-'}, due {_day(task.due_on)})")
    if detail.package:
        p = detail.package
        out.print(
            f"  package {p.id}: {p.size} bytes, {p.downloads}/{p.max_downloads} downloads, expires "
            f"{p.expires_at:%Y-%m-%d %H:%M}{' (purged)' if p.purged else ''}"
        )
    if detail.result:
        out.print("  result: " + json.dumps(detail.result, ensure_ascii=False, default=str))
    for event in detail.trail:
        out.print(f"  #{event.seq} {event.at:%Y-%m-%d %H:%M:%S} {event.actor} {event.action}")
