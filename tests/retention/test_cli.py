"""`privet retention plan | run | runs` on a real store and a real company database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.retention.conftest import DATAMAP, LOGINS, Company


@pytest.mark.parametrize("company", ["sqlite"], indirect=True)
def test_plan_run_and_runs(privet, company: Company, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from privet.settings import get_settings

    monkeypatch.setenv("PRIVET_SECRETS", json.dumps({"app_db": company.url}))
    get_settings.cache_clear()
    folder = tmp_path / "map"
    folder.mkdir()
    (folder / "app.yaml").write_text(DATAMAP.format(kind="sqlite"), encoding="utf-8")
    assert privet("datamap", "apply", str(folder)).exit_code == 0
    planned = privet("retention", "plan", "--json")
    assert planned.exit_code == 0, planned.output
    entries = {e["table"]: e for e in json.loads(planned.stdout)}
    expired_logins = entries["login_events"]["would_sweep"]
    assert expired_logins > 0 and company.count(LOGINS) == 60  # the rows are dated relative to a fixed day
    table = privet("retention", "plan")
    assert "app_db.invoices" in table.output and "kept P5Y by law" in table.output
    swept = privet("retention", "run", "--batch", "3")
    assert swept.exit_code == 0, swept.output
    assert f"app_db.login_events: {expired_logins} deleted" in swept.output
    assert company.count(LOGINS) == 60 - expired_logins
    runs = privet("retention", "runs")
    assert "done" in runs.output
    resume = privet("retention", "run", "--resume")
    assert resume.exit_code == 2 and "No unfinished retention run" in resume.output
    bad = privet("retention", "run", "--batch", "0")
    assert bad.exit_code == 2
