"""Every setting and every CLI command, option and argument explains itself (after datasette's test_docs)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import typer

from privet.settings import Settings


def test_every_setting_has_a_description() -> None:
    missing = [name for name, field in Settings.model_fields.items() if not (field.description or "").strip()]
    assert not missing, f"settings without a description: {missing}"


def _walk(command: Any, path: str) -> Iterator[tuple[str, Any]]:
    # duck-typed: recent Typer ships its own copy of Click, so isinstance(click.Group) is not reliable
    yield path, command
    for name, sub in (getattr(command, "commands", None) or {}).items():
        yield from _walk(sub, f"{path} {name}")


def _cli() -> Any:
    import privet.cli

    privet.cli._mount()
    return typer.main.get_command(privet.cli.app)


def test_every_cli_command_and_parameter_has_help() -> None:
    missing = []
    commands = list(_walk(_cli(), "privet"))
    assert {"privet users create", "privet apikeys create", "privet audit verify"} <= {p for p, _ in commands}
    for path, command in commands:
        if not (command.help or command.short_help or "").strip():
            missing.append(f"{path}: command has no help (a docstring or help=)")
        for param in command.params:
            if not (getattr(param, "help", None) or "").strip():
                missing.append(f"{path}: {'/'.join(param.opts)} has no help text")
    assert not missing, "CLI without help text:\n" + "\n".join(missing)


def test_the_walk_reaches_nested_parameters() -> None:
    app, inner = typer.Typer(), typer.Typer(help="Inner group.")
    app.add_typer(inner, name="inner")

    @inner.command()
    def bare(name: str = typer.Argument(...), loud: bool = typer.Option(False)) -> None:
        pass

    @app.command()
    def other() -> None:
        """Documented."""

    walked = dict(_walk(typer.main.get_command(app), "x"))
    bare_cmd = walked["x inner bare"]
    assert not (bare_cmd.help or "").strip()
    assert sorted(p.name for p in bare_cmd.params if not getattr(p, "help", None)) == ["loud", "name"]
