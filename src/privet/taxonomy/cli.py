"""`privet taxonomy ...` (being written)."""

import typer

app = typer.Typer(help="taxonomy commands.", no_args_is_help=True)
