"""Webhooks for consent changes: add, list, deliver. (being written)."""

import typer

app = typer.Typer(help="Webhooks for consent changes: add, list, deliver.", no_args_is_help=True)
