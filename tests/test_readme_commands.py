"""Every `privet ...` command the README shows (its code blocks and the CLI table) is one the CLI accepts: each is
run, placeholders filled, against a fresh SQLite store with the Keptek demo loaded. "Accepted" means the command
and every option exist and the values fit their types; a command may still answer that what it names is not there
(exit 2 with one line, as every user error), which is the store's answer, not the README's mistake."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from click.testing import CliRunner

from privet.settings import REPO_ROOT
from tests.conftest import _entry

README = (REPO_ROOT / "README.md").read_text(encoding="utf-8")

# Shown in the README but not run here, with the reason.
NOT_RUN = {
    "privet serve": "serves until stopped",
    "privet jobs work": "runs workers until stopped (the README's `--once` form is run)",
    "privet jobs celery": "needs a Celery broker",
    "privet webhooks deliver": "delivers until stopped (the README's `--once` form is run)",
    "privet datamap scaffold": "reflects a live database server (tests/datamap/test_scaffold.py runs it)",
    "privet demo": "the fixture loads the demo with `privet init --demo`",
}

# Placeholders by the option they follow, then by their own name.
BY_OPTION = {
    "--type": "email",
    "--value": "someone@example.com",
    "--purpose": "marketing.communications",
    "--category": "user.contact.email",
    "--company": "keptek",
    "--identity-type": "email",
    "--role": "auditor",
    "--scope": "datamap:read",
    "--status": "failed",
    "--kind": "affiliate",
    "--region": "CN",
    "--ground": "law_required",
    "--reference": "REF-1",
    "--method": "call_back",
    "--code": "deceptive",
    "--reason": "busy",
    "--note": "note",
    "--severity": "general",
    "--discovered": "2026-12-01T10:00:00+00:00",
    "--subjects": "10",
    "--days": "30",
    "--year": "2026",
    "--at": "2026-12-01T10:00:00+00:00",
    "--destination": "SG",
    "--mechanism": "standard_contract",
    "--recipient": "keptek_affiliates",
    "--successor": "Keptek Holdings",
    "--date": "2026-12-31",
    "--binding": "Bound by the policy.",
    "--title": "Directory",
    "--name": "Name",
    "--agreement": "DPA-1",
    "--signed": "2025-07-01",
    "--expires": "2027-06-30",
    "--effective": "2026-01-01",
    "--key": "notice-x",
    "--lang": "zh_CN",
    "--language": "en",
    "--to": "people",
    "--clock": "people",
    "--outcome": "acceptable",
    "--conclusion": "Fine.",
    "--retain-years": "3",
    "--channel": "email",
    "--event": "consent.changed",
    "--datastore-key": "shop",
    "--datastore": "sqlite:///nowhere.sqlite",
    "--batch": "100",
    "--threads": "1",
    "--limit": "5",
    "--expect-head": "1:abc",
    "--since": "0",
    "--subject-id": "01JNOSUCHSUBJECT0000000000",
    "--visitor": "visitor-1",
    "--subject-ids": "people.txt",
    "--file": "people.txt",
    "--count": "customers.delete=1",
    "--assignee": "admin",
    "--activity": "newsletter",
    "--product": "keptek-cloud",
    "--material": "marketing.communications",
    "--measure": "encryption",
    "--interval": "1",
    "--concurrency": "1",
    "--customers": "5",
    "--datastore-url": "sqlite:///x.sqlite",
    "--sensitive-subjects": "1",
    "--what": "what",
    "--what-zh": "什么",
    "--version": "1",
    "--endpoint": "1",
    "--recipient-kind": "affiliate",
    "-o": "out.txt",
    "--output": "out.txt",
    "--extension": "company.yaml",
    "--format": None,
}
POSITIONAL = {
    "SECTION": "categories",
    "KEY": "user.contact",
    "FILE": "people.txt",
    "PATH": "examples/keptek/datamap",
    "A": "1",
    "B": "1",
    "REF": "R-NOSUCH",
    "ID": "1",
    "NAME": "carol",
    "USER": "admin",
    "URL": "https://example.com/hook",
    "KEEP_ID": "01JNOSUCH1",
    "ABSORB_ID": "01JNOSUCH2",
    "SUBJECT_ID": "01JNOSUCHSUBJECT0000000000",
    "HOLD_ID": "1",
    "DATASTORE": "crm",
    "TABLE": "customers",
    "RECIPIENT": "keptek_affiliates",
    "KEY=TEXT": "impact=Low",
    "SEQ:HASH": "1:abc",
    "C": "keptek",
}


def _cells(line: str) -> list[str]:
    return [c.replace("\\|", "|").strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]


def readme_commands() -> list[tuple[str, str]]:
    """(where, command) for every command shown: each alternative of the CLI table's first column (an alternative
    without `privet` continues the group of the one before) and every `privet` line of the sh code blocks."""
    out: list[tuple[str, str]] = []
    in_sh, pending = False, ""
    for number, line in enumerate(README.splitlines(), 1):
        if line.startswith("```"):
            in_sh = line.strip() == "```sh"
            continue
        if in_sh:
            text = pending + line.split(" #", 1)[0].strip() if not line.lstrip().startswith("#") else ""
            if text.endswith("\\"):
                pending = text[:-1] + " "
                continue
            pending = ""
            if text.startswith("privet "):
                out.append((f"README.md:{number}", text))
        elif line.startswith("| `privet"):
            group = ""
            for span in re.findall(r"`([^`]+)`", _cells(line)[0]):
                span = span.replace("\\|", "|")
                if span.startswith("privet "):
                    group = " ".join(_command_path(span.split()[1:]).split()[:-1])
                    out.append((f"README.md:{number}", span))
                elif re.match(r"[a-z]", span) and not span.startswith("--") and group:
                    out.append((f"README.md:{number}", f"{group} {span}"))
    return out


def _strip_optional(text: str) -> str:
    while True:
        stripped = re.sub(r"\[[^\[\]]*\]", "", text)
        if stripped == text:
            return re.sub(r"\s+", " ", stripped).strip()
        text = stripped


def fill(command: str) -> list[str]:
    """A runnable argv: optional parts dropped, the first of `a|b` choices taken, placeholders filled."""
    text = _strip_optional(command)
    text = re.sub(r"\(([^()]*)\)", lambda m: m.group(1).split(" | ")[0], text)  # (--a X | --b Y): the first
    text = text.replace("...", "").replace("…", "")
    words = shlex.split(text)[1:]
    argv: list[str] = []
    for _i, word in enumerate(words):
        if "|" in word:  # a choice of values (html|csv) or of options (--paid|--waive): the first
            word = word.split("|")[0]
        previous = argv[-1] if argv else ""
        if word in POSITIONAL or re.fullmatch(r"[A-Z][A-Z0-9_:=-]*", word):
            if previous in BY_OPTION and BY_OPTION[previous] is not None:
                word = BY_OPTION[previous]
            else:
                word = POSITIONAL.get(word, "x")
        argv.append(word)
    return argv


def _root():
    from privet import cli

    cli._mount()
    return typer.main.get_command(cli.app)


def _command_path(argv: list[str]) -> str:
    node, path = _root(), ["privet"]
    for word in argv:
        if word in getattr(node, "commands", {}):
            node, path = node.commands[word], [*path, word]
        else:
            break
    return " ".join(path)


COMMANDS = readme_commands()
REJECTED = (
    "No such option",
    "No such command",
    "Got unexpected extra argument",
    "Invalid value for",
    "Missing option",
    "Missing argument",
    "Traceback",
)


def test_the_readme_shows_commands_in_its_table_and_code_blocks() -> None:
    shown = {c for _w, c in COMMANDS}
    assert len(COMMANDS) > 80
    assert "privet report evidence [--format text|html|json] [--lang en|zh_CN] [-o FILE]" in shown
    assert any(c.startswith("privet registers processor-add sms_gateway") for c in shown)  # a code block


def test_every_readme_command_names_a_command_and_its_options() -> None:
    """Without running anything: the command path exists and every option the README gives it is one of its own."""
    problems = []
    for where, command in COMMANDS:
        words = shlex.split(re.sub(r"[\[\]()]", " ", command.replace("…", "").replace("...", "")))[1:]
        node, path = _root(), ["privet"]
        for word in words:
            if word in getattr(node, "commands", {}):
                node, path = node.commands[word], [*path, word]
            else:
                break
        if hasattr(node, "commands"):
            problems.append(f"{where}: {command!r}: no such command after {' '.join(path)!r}")
            continue
        known = {o for p in node.params for o in (*p.opts, *p.secondary_opts)} | {"--help"}
        for word in words:
            for option in re.findall(r"^(--?[a-z][a-z-]*)", word.split("|")[0]):
                if option not in known:
                    problems.append(f"{where}: {' '.join(path)} has no option {option}")
    assert not problems, "\n".join(problems)


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A folder holding a fresh SQLite store with the Keptek demo (`privet init --demo`), the files the commands
    name, and `examples` (the README's paths are relative to the repository)."""
    from privet.settings import get_settings

    folder = tmp_path_factory.mktemp("readme")
    patch = pytest.MonkeyPatch()
    patch.setenv("PRIVET_DATA_DIR", str(folder / "var"))
    patch.delenv("PRIVET_DATABASE_URL", raising=False)
    patch.setenv("PRIVET_SECRET_KEY", "test-secret-key-0123456789abcdef")
    patch.setenv("PRIVET_MAIL_SENDER", "console")
    patch.setenv("PRIVET_SMS_SENDER", "console")
    patch.chdir(folder)
    get_settings.cache_clear()
    (folder / "examples").symlink_to(REPO_ROOT / "examples")
    (folder / "people.txt").write_text("01JNOSUCHSUBJECT0000000000\n", encoding="utf-8")
    (folder / "partners.txt").write_text("01JNOSUCHSUBJECT0000000000\n", encoding="utf-8")
    loaded = CliRunner().invoke(_entry, ["init", "--demo", "--company", "keptek"], catch_exceptions=False)
    assert loaded.exit_code == 0, loaded.output
    yield folder
    get_settings.cache_clear()
    patch.undo()


def test_every_readme_command_is_accepted_on_the_demo_store(demo_store: Path) -> None:
    runner, refused, ran = CliRunner(), [], 0
    for where, command in COMMANDS:
        argv = fill(command)
        path = _command_path(argv)
        if path in NOT_RUN and "--once" not in argv:
            continue
        rest = _strip_optional(command).split()[len(path.split()) :]
        bare = not rest or rest[0] in ("…", "...")  # `list`, `set-role`, `withdraw ...`: a shorthand
        result = runner.invoke(_entry, argv, input="someone@example.com\n" * 3, catch_exceptions=False)
        ran += 1
        output = result.output + (result.stderr if result.stderr_bytes else "")
        wrong = [r for r in REJECTED if r in output and not (bare and r.startswith("Missing"))]
        if wrong or result.exit_code not in (0, 1, 2):
            refused.append(f"{where}: privet {' '.join(argv)} -> exit {result.exit_code}: {output.strip()[-300:]}")
    assert ran > 60
    assert not refused, "\n".join(refused)


def test_the_commands_not_run_are_still_in_the_readme() -> None:
    shown = {_command_path(fill(c)) for _w, c in COMMANDS}
    assert set(NOT_RUN) <= shown, set(NOT_RUN) - shown
