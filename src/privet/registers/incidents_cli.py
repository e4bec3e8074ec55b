"""Placeholder command group: filled in by the registers work."""

from __future__ import annotations

import typer

app = typer.Typer(help="Incidents: record, clocks, draft notices to people and the regulator.", no_args_is_help=True)
