"""`privet datamap ...` (being written)."""

import typer

app = typer.Typer(help="datamap commands.", no_args_is_help=True)
