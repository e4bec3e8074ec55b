"""Data subjects, identities and guardians. (being written)."""

import typer

app = typer.Typer(help="Data subjects, identities and guardians.", no_args_is_help=True)
