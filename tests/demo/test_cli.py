"""`privet demo` and the data map commands on the demo maps, through the real entry point."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from privet.settings import REPO_ROOT
from tests.conftest import _entry
from tests.demo.test_service import migrated


def privet(*args: str) -> Result:
    """Run `privet ...` in-process (exit codes and error printing as in the real command)."""
    return CliRunner().invoke(_entry, list(args), catch_exceptions=False)


@pytest.mark.parametrize("company", ["keptek", "zkteco"])
def test_demo_maps_pass_datamap_validate_and_evaluate(company: str) -> None:
    path = str(REPO_ROOT / "examples" / company / "datamap")
    validated = privet("datamap", "validate", path)
    assert validated.exit_code == 0, validated.output
    evaluated = privet("datamap", "evaluate", "--strict", path)
    assert evaluated.exit_code == 0, evaluated.output
    assert "0 error(s), 0 warning(s)" in evaluated.output


def test_privet_demo_loads_a_company(cli_store: str, tmp_path: Path) -> None:
    migrated(cli_store).dispose()
    result = privet("demo", "--company", "zkteco", "--customers", "12")
    assert result.exit_code == 0, result.output
    assert "accounts_cn" in result.output and "Data map applied: version 1" in result.output
    assert (tmp_path / "var" / "demo" / "zkteco" / "cloud_us.sqlite").exists()
    again = privet("demo", "--company", "zkteco", "--customers", "12")
    assert again.exit_code == 0 and "Data map unchanged (version 1)" in again.output


@pytest.fixture
def fresh_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """PRIVET_DATA_DIR in a new folder with the store defaulting inside it, and settings re-read (they are cached,
    so without clearing them `privet` would still use an earlier test's folder)."""
    from privet.settings import get_settings

    data_dir = tmp_path / "var"
    monkeypatch.setenv("PRIVET_DATA_DIR", str(data_dir))
    monkeypatch.delenv("PRIVET_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield data_dir
    get_settings.cache_clear()


def test_privet_demo_unknown_company_exits_2_with_the_choices(fresh_data_dir: Path) -> None:
    from privet.settings import get_settings

    # What `privet` will use, so the "nothing was created" check below is about the real folder and store.
    assert get_settings().data_dir == fresh_data_dir
    assert get_settings().sqlalchemy_url == f"sqlite:///{(fresh_data_dir / 'privet.db').as_posix()}"
    result = privet("demo", "--company", "acme")
    assert result.exit_code == 2
    assert "Unknown demo company 'acme'" in result.output and "keptek, zkteco" in result.output
    assert "Traceback" not in result.output
    assert not fresh_data_dir.exists()
