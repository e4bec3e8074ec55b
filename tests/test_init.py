"""`privet init`: migrates, creates the first admin once, keeps data on a second run."""

from __future__ import annotations

import re

from tests.conftest import PrivetCli


def test_init_creates_admin_once_and_is_rerunnable(cli_store: str, tmp_path) -> None:
    run = PrivetCli()
    first = run("init")
    assert first.exit_code == 0, first.output
    match = re.search(r"password: (\S+)", first.output)
    assert match and len(match.group(1)) >= 16

    second = run("init")
    assert second.exit_code == 0, second.output
    assert "password" not in second.output  # shown once, never again

    listing = run("users", "list")
    assert listing.exit_code == 0 and "admin" in listing.output
    assert run("audit", "verify").exit_code == 0
