"""Small helpers shared by every domain's CLI."""

from __future__ import annotations

import getpass
import sys

from rich.console import Console


def cli_actor() -> str:
    """The audit actor for a CLI command: `cli:<os user>` (`cli:unknown` where there is no passwd entry)."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # containers without a passwd entry
        return "cli:unknown"


def console() -> Console:
    """Rich output; wide when piped (CI logs) so tables are not wrapped into unreadable columns."""
    return Console() if sys.stdout.isatty() else Console(width=200)
