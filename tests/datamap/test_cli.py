"""`privet datamap ...`: exit codes 0/1/2, problems printed as `file:line: message — hint`, store commands."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer.main
import yaml
from click.testing import CliRunner, Result

from privet.datamap.cli import app as datamap_app
from privet.datamap.service import canonical
from tests.conftest import _entry
from tests.datamap.factories import CRM_YAML, DATASETS, crm_manifest, line_of_text, write_folder


class PrivetCli:
    """Runs the real `privet` entry point in-process (click's runner: tests/conftest's typer runner cannot
    invoke a plain click command)."""

    def __call__(self, *args: str) -> Result:
        return CliRunner().invoke(_entry, list(args), catch_exceptions=False)


@pytest.fixture
def store(cli_store: str) -> PrivetCli:
    """`privet` on a fresh store with Privet's schema (migrations when they exist, else create_all)."""
    from privet.db.engine import make_engine
    from privet.db.migrate import head_revision
    from privet.tables import metadata

    run = PrivetCli()
    if head_revision():
        assert run("db", "upgrade").exit_code == 0
    else:
        engine = make_engine(cli_store)
        metadata.create_all(engine)
        engine.dispose()
    return run


def _write(tmp_path: Path, text: str, name: str = "map.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_validate_ok_prints_a_summary(tmp_path: Path) -> None:
    result = PrivetCli()("datamap", "validate", str(write_folder(tmp_path)))
    assert result.exit_code == 0, result.output
    assert "OK: 1 systems, 2 datastores, 2 datasets (16 fields), 3 processing activities" in result.stdout


def test_validate_prints_every_problem_and_exits_2(tmp_path: Path) -> None:
    text = CRM_YAML.replace("datastore: mail_db", "datastore: mail").replace(
        "purpose: legal.accounting", "purpose: legal.acounting"
    )
    path = _write(tmp_path, text)
    result = PrivetCli()("datamap", "validate", str(path))
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert (
        f"{path}:{line_of_text(text, 'datastore: mail')}: unknown datastore `mail` — did you mean `mail_db`?"
        in "\n".join(lines)
    )
    assert any(line.startswith(f"{path}:{line_of_text(text, 'legal.acounting')}: unknown purpose") for line in lines)
    assert "Traceback" not in result.output


def test_validate_structural_and_yaml_errors_exit_2(tmp_path: Path) -> None:
    path = _write(tmp_path, "systems:\n  - key: crm\n   name: [x\n")
    result = PrivetCli()("datamap", "validate", str(path))
    assert result.exit_code == 2 and f"{path}:" in result.stderr
    assert PrivetCli()("datamap", "validate", str(tmp_path / "missing")).exit_code == 2


def test_an_identity_field_without_a_category_is_one_problem_at_its_line(tmp_path: Path) -> None:
    text = CRM_YAML.replace(
        "{name: phone, category: user.contact.phone, identity: phone", "{name: phone, identity: phone"
    )
    path = _write(tmp_path, text)
    result = PrivetCli()("datamap", "validate", str(path))
    assert result.exit_code == 2
    [problem] = [line for line in result.stderr.splitlines() if line.startswith(f"{path}:")]
    assert problem.startswith(f"{path}:{line_of_text(text, '{name: phone, identity: phone')}: ")
    assert "identity field `phone` needs `category:`" in problem and "user.contact.phone for phone" in problem
    assert "The data map has 1 problem(s)" in result.stderr


def test_a_connection_url_in_secret_is_never_printed(tmp_path: Path) -> None:
    text = CRM_YAML.replace("secret: mail_db", 'secret: "postgresql://app:Sup3rS3cret@db/crm"')
    path = _write(tmp_path, text)
    for command in ("validate", "evaluate"):
        result = PrivetCli()("datamap", command, str(path))
        assert result.exit_code == 2
        assert (
            f"{path}:{line_of_text(text, 'Sup3rS3cret')}: datastores.mail_db.secret: looks like a connection URL"
            in result.stderr
        )
        assert "Sup3rS3cret" not in result.output and "Sup3rS3cret" not in result.stderr


def test_validate_reports_structural_and_reference_problems_in_one_run(tmp_path: Path) -> None:
    text = CRM_YAML.replace("    owner: sales", "    ownr: sales").replace("datastore: mail_db", "datastore: mail")
    path = _write(tmp_path, text)
    result = PrivetCli()("datamap", "validate", str(path))
    assert result.exit_code == 2
    assert f"{path}:{line_of_text(text, 'ownr')}: unknown key `ownr`" in result.stderr
    assert f"{path}:{line_of_text(text, 'datastore: mail')}: unknown datastore `mail`" in result.stderr
    assert "unknown system" not in result.stderr  # the invalid system still counts as declared


def test_evaluate_files_exit_codes(tmp_path: Path) -> None:
    run = PrivetCli()
    clean = run("datamap", "evaluate", str(_write(tmp_path, CRM_YAML, "clean.yaml")))
    assert clean.exit_code == 0 and "0 error(s), 0 warning(s)" in clean.stdout
    warn_text = CRM_YAML.replace("identity: phone, indexed: true", "identity: phone, indexed: false")
    warn = _write(tmp_path, warn_text, "warn.yaml")
    assert run("datamap", "evaluate", str(warn)).exit_code == 0
    strict = run("datamap", "evaluate", str(warn), "--strict")
    assert strict.exit_code == 1 and "IDENTITY-NOT-INDEXED" in strict.stdout
    error = run(
        "datamap",
        "evaluate",
        str(_write(tmp_path, CRM_YAML.replace("legal_basis: consent", "legal_basis: contract"), "error.yaml")),
    )
    assert error.exit_code == 1 and "MARKETING-ON-CONTRACT" in error.stdout
    invalid = run("datamap", "evaluate", str(_write(tmp_path, DATASETS, "invalid.yaml")))
    assert invalid.exit_code == 2


def test_apply_export_versions_diff_evaluate_on_a_store(store: PrivetCli, tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "map")
    assert store("datamap", "export").exit_code == 2  # nothing applied yet
    dry = store("datamap", "apply", str(folder), "--dry-run")
    assert dry.exit_code == 0 and "+ datasets.crm" in dry.stdout and "nothing written" in dry.stdout
    first = store("datamap", "apply", str(folder))
    assert first.exit_code == 0 and "applied version 1: 9 created" in first.stdout
    again = store("datamap", "apply", str(folder))
    assert again.exit_code == 0 and "no changes (version 1)" in again.stdout

    out = tmp_path / "export.yaml"
    assert store("datamap", "export", "-o", str(out)).exit_code == 0
    assert yaml.safe_load(out.read_text("utf-8")) == canonical(crm_manifest())
    assert yaml.safe_load(store("datamap", "export").stdout) == canonical(crm_manifest())
    nowhere = store("datamap", "export", "-o", str(tmp_path / "missing" / "x.yaml"))
    assert nowhere.exit_code == 2 and "Traceback" not in nowhere.output
    assert f"Cannot write {tmp_path / 'missing' / 'x.yaml'}" in nowhere.stderr
    assert "create the folder first" in nowhere.stderr
    assert store("datamap", "export", "-o", str(tmp_path)).exit_code == 2  # a folder, not a file

    bad = _write(tmp_path, CRM_YAML.replace("system: crm", "system: crn", 1), "bad.yaml")
    refused = store("datamap", "apply", str(bad))
    assert refused.exit_code == 2 and "unknown system `crn`" in refused.stderr

    (folder / "data/activities.yaml").write_text(
        (folder / "data/activities.yaml").read_text("utf-8").replace("legal_basis: consent", "legal_basis: contract"),
        "utf-8",
    )
    second = store("datamap", "apply", str(folder))
    assert "~ processing_activities.marketing_emails" in second.stdout and "version 2" in second.stdout
    listing = store("datamap", "versions")
    assert listing.exit_code == 0 and "cli:" in listing.stdout and " 2 " in listing.stdout
    changes = store("datamap", "diff", "1", "2")
    assert changes.stdout.strip() == "~ processing_activities.marketing_emails"
    assert store("datamap", "diff", "1", "9").exit_code == 2
    evaluated = store("datamap", "evaluate")
    assert evaluated.exit_code == 1 and "MARKETING-ON-CONTRACT" in evaluated.stdout
    assert store("audit", "verify").exit_code == 0


def test_every_command_and_option_has_help() -> None:
    group = typer.main.get_command(datamap_app)
    for name, command in group.commands.items():
        assert command.help, name
        for param in command.params:
            assert getattr(param, "help", None), f"{name} {param.name}"
