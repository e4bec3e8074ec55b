"""`privet notices ...`: publish policy versions from files, list notices, show sections, diff versions."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import typer
from rich.table import Table

from privet.kit.cliutil import cli_actor as _actor
from privet.kit.cliutil import console as _console
from privet.kit.errors import InvalidInput

app = typer.Typer(help="Privacy policies and notices: publish, list, show, diff.", no_args_is_help=True)
_LANG = re.compile(r"^[a-z]{2,3}(_[A-Z][A-Za-z]{1,3})?$")
_FORMATS = {".md": "markdown", ".markdown": "markdown", ".txt": "text", ".text": "text"}


def _read(path: Path) -> str:
    """The file's text; a missing, unreadable or non-UTF-8 file is a user error."""
    if not path.is_file():
        raise InvalidInput(f"No such file: {path}", "give the path of a policy text (.txt) or Markdown (.md) file")
    try:
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(f"{path} is not UTF-8 text", "save the file as UTF-8 and publish it again") from None
    except OSError as exc:
        raise InvalidInput(f"Cannot read {path}: {exc.strerror}", "check the path and its permissions") from None


def _lang_of(path: Path, given: str | None) -> str:
    """`--lang` for this file, else the suffix before the extension: policy.zh_CN.md → zh_CN."""
    if given:
        if not _LANG.match(given):
            raise InvalidInput(f"--lang {given!r} is not a language code", "use en or zh_CN")
        return given
    parts = path.name.split(".")
    if len(parts) >= 3 and _LANG.match(parts[-2]):
        return parts[-2]
    raise InvalidInput(
        f"Cannot tell the language of {path.name}",
        "name it like policy.en.txt or policy.zh_CN.md, or pass --lang for each file",
    )


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"--effective {text!r} is not a date", "write it as YYYY-MM-DD, e.g. 2025-11-28") from None


@app.command("publish")
def publish(
    files: list[Path] = typer.Argument(
        ..., help="Policy files: .md (Markdown) or .txt (plain text), one per language."
    ),
    key: str = typer.Option(..., "--key", help="The notice key, e.g. main_policy."),
    kind: str = typer.Option("policy", "--kind", help="policy, product or just_in_time."),
    product: str = typer.Option(None, "--product", help="The product a product notice is about."),
    effective: str = typer.Option(..., "--effective", help="Effective date, YYYY-MM-DD."),
    purpose: list[str] = typer.Option(
        None, "--purpose", help="A purpose key this notice covers (repeat; default: the previous version's)."
    ),
    material: list[str] = typer.Option(
        None,
        "--material",
        help="A purpose changed materially in a way the data map cannot show, e.g. a right reduced (repeat).",
    ),
    lang: list[str] = typer.Option(
        None, "--lang", help="The language of each file, in order (default: from the name, e.g. policy.zh_CN.md)."
    ),
) -> None:
    """Publish the next version of a notice from its text files (one per language)."""
    from privet.db.store import store_session
    from privet.notices.diff import version_summary
    from privet.notices.service import publish as run

    if lang and len(lang) != len(files):
        raise InvalidInput(f"{len(lang)} --lang for {len(files)} file(s)", "give one --lang per file, in order")
    effective_date = _date(effective)
    texts, formats = {}, {}
    for n, path in enumerate(files):
        code = _lang_of(path, lang[n] if lang else None)
        if code in texts:
            raise InvalidInput(f"Two files in {code!r}", "give one file per language")
        texts[code] = _read(path)
        formats[code] = _FORMATS.get(path.suffix.lower())
    with store_session() as session:
        version = run(
            session,
            key=key,
            kind=kind,
            product=product,
            texts=texts,
            effective_date=effective_date,
            purposes=list(purpose) if purpose else None,
            material=list(material or []),
            actor=_actor(),
            formats={k: v for k, v in formats.items() if v},
        )
        counts = ", ".join(f"{code} {len(c['sections'])} sections" for code, c in sorted(version.content.items()))
        typer.echo(f"published {key} version {version.version} (effective {effective_date.isoformat()}): {counts}")
        for line in version_summary(version):
            typer.echo(f"  {line}")
        if version.material_purposes:
            typer.echo(
                f"  a re-consent campaign is queued for people who consented to "
                f"{', '.join(version.material_purposes)}: it runs with the job workers (privet serve or "
                f"privet jobs work); see privet campaigns list"
            )


@app.command("list")
def list_notices() -> None:
    """List the notices with their latest version and effective date."""
    from privet.db.store import store_session
    from privet.notices import service

    with store_session() as session:
        notices = service.list_notices(session)
        table = Table("key", "kind", "product", "version", "effective", "languages", "title")
        for notice in notices:
            v = service.current_version(session, notice.key)
            table.add_row(
                notice.key,
                notice.kind,
                notice.product or "",
                str(v.version) if v else "",
                v.effective_date.isoformat() if v else "",
                ", ".join(sorted(v.content)) if v else "",
                (notice.title or {}).get("en") or next(iter((notice.title or {}).values()), ""),
            )
    if not notices:
        typer.echo("no notices yet: publish one with `privet notices publish FILE --key KEY --effective DATE`")
        return
    _console().print(table)


@app.command("show")
def show(
    key: str = typer.Argument(..., help="The notice key."),
    version: int = typer.Option(None, "--version", min=1, help="Version number (default: the latest)."),
    lang: str = typer.Option("en", "--lang", help="Language to show (en or zh_CN)."),
) -> None:
    """Show a version's details and its sections."""
    from privet.db.store import store_session
    from privet.notices import service
    from privet.notices.diff import version_summary

    with store_session() as session:
        v = service.get_version(session, key, version) if version else service.current_version(session, key)
        if v is None:
            service.get_notice(session, key)  # raises NotFound for an unknown key
            raise InvalidInput(f"Notice {key!r} has no version", "publish one first")
        if lang not in v.content:
            raise InvalidInput(
                f"Version {v.version} has no {lang!r} text", f"use --lang {' or '.join(sorted(v.content))}"
            )
        variant = v.content[lang]
        typer.echo(
            f"{key} version {v.version}  effective {v.effective_date.isoformat()}  "
            f"published {v.published_at:%Y-%m-%d %H:%M} by {v.published_by}"
        )
        typer.echo(f"title: {variant.get('title') or '-'}   sha256: {v.content_hash}")
        typer.echo(f"purposes: {', '.join(v.purposes) or '-'}   material: {', '.join(v.material_purposes) or '-'}")
        for line in version_summary(v, lang):
            typer.echo(f"  {line}")
        table = Table("number", "title", "characters")
        for s in variant["sections"]:
            table.add_row(s["number"], "  " * (s["level"] - 1) + s["title"], str(len(s["text"])))
    _console().print(table)


@app.command("diff")
def diff(
    key: str = typer.Argument(..., help="The notice key."),
    a: int = typer.Argument(..., min=1, help="The older version."),
    b: int = typer.Argument(..., min=1, help="The newer version."),
    lang: str = typer.Option("en", "--lang", help="Language to compare (en or zh_CN)."),
    full: bool = typer.Option(False, "--full", help="Also print each changed section's unified diff."),
    words: bool = typer.Option(
        False,
        "--words",
        help="Also print what changed in each section word by word "
        "(Chinese character by character): [-removed-]{+added+}.",
    ),
) -> None:
    """Show which sections were added, removed or changed between two versions."""
    from privet.db.store import store_session
    from privet.notices import service
    from privet.notices.diff import section_diff
    from privet.notices.words import as_cli

    marks = {"added": "+", "removed": "-", "changed": "~"}
    with store_session() as session:
        changes = section_diff(service.get_version(session, key, a), service.get_version(session, key, b), lang)
    shown = [c for c in changes if c.change != "unchanged"]
    for c in shown:
        similarity = f"  ({c.ratio:.0%} similar)" if c.change == "changed" else ""
        typer.echo(f"{marks[c.change]} {c.number or '-'} {c.title}{similarity}")
        if full:
            typer.echo(c.unified)
        if words:
            typer.echo(as_cli(list(c.words)))
    unchanged = len(changes) - len(shown)
    typer.echo(f"{len(shown)} section(s) differ, {unchanged} unchanged")
