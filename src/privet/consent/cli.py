"""The consent ledger: show, grant, withdraw, decide, import, rebuild. (being written)."""

import typer

app = typer.Typer(help="The consent ledger: show, grant, withdraw, decide, import, rebuild.", no_args_is_help=True)
