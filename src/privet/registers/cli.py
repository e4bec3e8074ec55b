"""Placeholder command group: filled in by the registers work."""

from __future__ import annotations

import typer

app = typer.Typer(help="Registers: processors, recipients and sharing, disclosures, corporate and cross-border transfers.", no_args_is_help=True)
