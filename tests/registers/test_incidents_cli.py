"""`privet incidents record | list | show | notices | notified | close` on a fresh store."""

from __future__ import annotations

import re
from pathlib import Path

from tests.reports.cli_support import prepare


def test_record_list_notices_notified(privet, cli_store: str, tmp_path: Path) -> None:
    prepare(privet, cli_store, tmp_path)
    bad = privet(
        "incidents",
        "record",
        "--title",
        "Leak",
        "--severity",
        "major",
        "--discovered",
        "2026-03-02 09:30",
        "--category",
        "user.name",
        "--subjects",
        "10",
        "--what",
        "Leak",
    )
    assert bad.exit_code == 2 and "zone" in bad.output
    result = privet(
        "incidents",
        "record",
        "--title",
        "Mailbox exposed",
        "--severity",
        "relatively_major",
        "--discovered",
        "2026-03-02T09:30:00+00:00",
        "--category",
        "user.contact.email",
        "--subjects",
        "300",
        "--high-risk",
        "--what",
        "A mailbox was exposed.",
        "--what-zh",
        "一个邮箱被暴露。",
        "--measures",
        "Access closed.",
    )
    assert result.exit_code == 0, result.output
    ref = re.search(r"incident (I-\w{8})", result.output).group(1)
    assert "prc_regulator   overdue  due 2026-03-02 13:30 UTC" in result.output and "4 h" in result.output
    due = privet("incidents", "list", "--due").output
    assert f"{ref}   prc_regulator   overdue" in due and "without undue delay" in due
    assert ref in privet("incidents", "list").output
    assert "A mailbox was exposed." in privet("incidents", "show", ref).output
    notices = privet("incidents", "notices", ref).output
    assert notices.count("=====") == 8 and "一个邮箱被暴露。" in notices and "Access closed." in notices
    assert privet("incidents", "notified", ref, "--clock", "prc_regulator").exit_code == 0
    assert "prc_regulator" not in privet("incidents", "list", "--due").output
    assert privet("incidents", "close", ref).exit_code == 0
    missing = privet("incidents", "show", "I-NOPE0000")
    assert missing.exit_code == 2 and "No incident" in missing.output
