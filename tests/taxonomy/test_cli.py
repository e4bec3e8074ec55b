"""`privet taxonomy list/show/validate`: work without a store, exit 2 with file:line on bad input."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
import typer

from tests.conftest import PrivetCli


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch) -> PrivetCli:
    """The real `privet` entry point, on a wide terminal so tables do not wrap."""
    monkeypatch.setenv("COLUMNS", "200")
    return PrivetCli()


@pytest.fixture
def company_file(tmp_path: Path) -> Path:
    path = tmp_path / "taxonomy.yaml"
    path.write_text(
        textwrap.dedent("""\
        categories:
          - key: user.contact.wechat_id
            name: {en: WeChat ID, zh_CN: 微信号}
        purposes:
          - key: marketing.wechat
            name: {en: WeChat marketing}
    """),
        encoding="utf-8",
    )
    return path


def test_list_table_and_json(run: PrivetCli) -> None:
    result = run("taxonomy", "list", "legal-bases", "--lang", "zh_CN")
    assert result.exit_code == 0 and "separate_consent" in result.stdout and "单独同意" in result.stdout
    result = run("taxonomy", "list", "categories", "--sensitive", "--json")
    rows = json.loads(result.stdout)
    assert {r["sensitive"] for r in rows} >= {"biometric", "identity_document", "location_track"}
    assert "user.contact.email" not in {r["key"] for r in rows}
    children = json.loads(run("taxonomy", "list", "purposes", "--parent", "notice", "--json").stdout)
    assert {c["key"] for c in children} == {"notice.updates", "notice.service", "notice.policy_change"}


def test_show_entry_and_unknown_key(run: PrivetCli) -> None:
    result = run("taxonomy", "show", "user.biometric.face")
    assert result.exit_code == 0
    assert "sensitive: biometric" in result.stdout and "dpv: dpv-pd:FacialPrint" in result.stdout
    data = json.loads(run("taxonomy", "show", "marketing", "--json").stdout)
    assert data["section"] == "purposes" and "marketing.communications" in data["children"]
    result = run("taxonomy", "show", "user.contact.emial")
    assert result.exit_code == 2 and "did you mean user.contact.email" in result.stderr
    assert run("taxonomy", "list", "colours").exit_code == 2
    assert run("taxonomy", "list", "purposes", "--lang", "fr").exit_code == 2


def test_validate_and_use_a_company_file(run: PrivetCli, company_file: Path) -> None:
    result = run("taxonomy", "validate", str(company_file))
    assert result.exit_code == 0 and result.stdout.startswith("ok:") and "1 categories, 1 purposes" in result.stdout
    data = json.loads(run("taxonomy", "show", "marketing.wechat", "--extension", str(company_file), "--json").stdout)
    assert data["type"] == "marketing" and data["source"] == "company"


def test_validate_accepts_a_datamap_file_with_a_taxonomy_section(run: PrivetCli, tmp_path: Path) -> None:
    path = tmp_path / "datamap.yaml"
    path.write_text("taxonomy:\n  subject_types:\n    - key: reseller\n      name: {en: Reseller}\n")
    result = run("taxonomy", "validate", str(path))
    assert result.exit_code == 0 and "1 subject-types" in result.stdout


def test_validate_reports_every_problem_with_file_and_line(run: PrivetCli, tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        textwrap.dedent("""\
        categories:
          - key: user.contact.fax.home
            name: {en: Home fax}
          - key: user.contact.email
            name: {en: Mail}
    """)
    )
    result = run("taxonomy", "validate", str(path))
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    assert f"{path}:2: the parent `user.contact.fax`" in result.stderr
    assert f"{path}:4: categories key `user.contact.email` is already defined" in result.stderr
    broken = tmp_path / "broken.yaml"
    broken.write_text("categories:\n  - key: [unclosed\n")
    result = run("taxonomy", "validate", str(broken))
    assert result.exit_code == 2 and f"{broken}:" in result.stderr
    assert run("taxonomy", "validate", str(tmp_path / "missing.yaml")).exit_code == 2


def test_every_command_and_option_has_help() -> None:
    from privet.taxonomy.cli import app

    group = typer.main.get_command(app)
    assert set(group.commands) == {"list", "show", "validate"}  # type: ignore[attr-defined]
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        assert command.help, f"taxonomy {name} has no help"
        for param in command.params:
            assert getattr(param, "help", None), f"taxonomy {name} {param.name} has no help"
