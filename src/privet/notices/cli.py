"""Privacy policies and notices: publish, list, show, diff. (being written)."""

import typer

app = typer.Typer(help="Privacy policies and notices: publish, list, show, diff.", no_args_is_help=True)
