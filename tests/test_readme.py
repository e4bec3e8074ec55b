"""The README stays true: every setting and every CLI command is documented there."""

from __future__ import annotations

from pathlib import Path

import typer

from privet import cli
from privet.settings import Settings

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_in_the_readme() -> None:
    missing = [f"PRIVET_{name.upper()}" for name in Settings.model_fields if f"PRIVET_{name.upper()}" not in README]
    assert not missing, f"document these settings in README.md: {missing}"


def test_every_cli_command_is_in_the_readme() -> None:
    cli._mount()
    root = typer.main.get_command(cli.app)
    missing = []
    for group_name, group in root.commands.items():
        subs = getattr(group, "commands", None) or {None: group}
        for sub_name in subs:
            words = f"privet {group_name}" + (f" {sub_name}" if sub_name else "")
            mentioned = words in README or (sub_name and f"`{sub_name}" in README and f"privet {group_name}" in README)
            if not mentioned:
                missing.append(words)
    assert not missing, f"document these commands in README.md: {missing}"


def test_readme_first_screen_has_the_two_commands() -> None:
    first_screen = "\n".join(README.splitlines()[:15])
    assert "make run" in first_screen and "make test" in first_screen
