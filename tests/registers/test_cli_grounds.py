"""`privet registers apply / share / alerts` on the policy's grounds and agreements (P38, P39), on SQLite and
PostgreSQL: a file with a refused entry applies nothing (exit 2, its line named), a share on a ground the company's
policy does not declare is refused (exit 2) and recorded nowhere, the demo file's history is replayed once."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.consent.conftest import KEPTEK
from tests.registers.test_cli import store  # noqa: F401 - a migrated store with the Keptek data map

pytestmark = [pytest.mark.promise("P39"), pytest.mark.promise("P38")]
REGISTERS = KEPTEK.parent / "registers.yaml"


def test_a_file_with_an_undeclared_ground_applies_nothing(store, tmp_path: Path) -> None:
    bad = tmp_path / "registers.yaml"
    bad.write_text(
        "policy: {name: Test policy, grounds: [keptek_a]}\nrecipients:\n"
        "  - {key: police, name: Police, kind: authority, purposes: [sharing.authorities], "
        "grounds: [keptek_a]}\n"
        "  - {key: auditors, name: Auditors, purposes: [sharing.authorities], grounds: [zkteco_e]}\n",
        encoding="utf-8",
    )
    refused = store("registers", "apply", str(bad))
    assert refused.exit_code == 2 and "nothing was applied" in refused.output and f"{bad}:4" in refused.output
    assert "no policy declared" in store("registers", "policy").output
    assert "police" not in store("registers", "recipients").output


def test_a_share_on_a_ground_the_policy_lacks_is_refused_and_recorded_nowhere(store) -> None:
    applied = store("registers", "apply", str(REGISTERS))
    assert applied.exit_code == 0, applied.output
    assert "* history: shared with certified_partners: 0 of 8" in applied.output  # re-consent after the change
    before = store("registers", "shares", "--recipient", "courts").output
    refused = store(
        "registers", "share", "courts", "--subject-id", "0" * 26, "--ground", "zkteco_c", "--reference", "Letter 2026-1"
    )
    assert refused.exit_code == 2 and "policy has no ground 'zkteco_c'" in refused.output
    assert "keptek_a" in refused.output  # the fix names the grounds the policy has
    assert store("registers", "shares", "--recipient", "courts").output == before
    again = store("registers", "apply", str(REGISTERS))
    assert again.exit_code == 0 and "history" not in again.output  # replayed once
    assert store("registers", "alerts").exit_code == 0
