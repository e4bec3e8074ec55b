"""Placeholder command group: filled in by the registers work."""

from __future__ import annotations

import typer

app = typer.Typer(help="Reports: records of processing, impact assessments.", no_args_is_help=True)
