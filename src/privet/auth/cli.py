"""`privet users` and `privet apikeys` (being written)."""

import typer

users_app = typer.Typer(help="Admin console users.", no_args_is_help=True)
apikeys_app = typer.Typer(help="API keys for services.", no_args_is_help=True)
