"""`privet requests ...` on a real store (SQLite and PostgreSQL) against the shop database."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.conftest import PrivetCli
from tests.requests.shop import ADDRESSES, Shop, write_datamap


@pytest.fixture
def cli(cli_store: str, shop_db: Shop, verify_smtp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> PrivetCli:
    """`privet` on a fresh store with the shop's data map applied and mail going to the local SMTP server."""
    from privet.settings import get_settings

    monkeypatch.setenv("PRIVET_SECRETS", json.dumps({"shop_db": shop_db.url}))
    monkeypatch.setenv("PRIVET_SMTP_PORT", str(verify_smtp.port))
    monkeypatch.setenv("PRIVET_MAIL_SENDER", "smtp")
    monkeypatch.setenv("PRIVET_JOBS_RETRY_SECONDS", "0.01")
    monkeypatch.setenv("PRIVET_PUBLIC_URL", "https://privacy.shop.example")
    get_settings.cache_clear()
    run = PrivetCli()
    assert run("db", "upgrade").exit_code == 0
    applied = run("datamap", "apply", str(write_datamap(tmp_path / "datamap", shop_db.kind)))
    assert applied.exit_code == 0, applied.output
    return run


def _reference(output: str) -> str:
    return re.search(r"R-[0-9A-Z]{8}", output).group(0)


def test_file_run_show_and_list(cli: PrivetCli, shop_db: Shop) -> None:
    customer = shop_db.customers[1]
    filed = cli(
        "requests",
        "file",
        "--type",
        "erasure",
        "--identity",
        customer.email,
        "--checked",
        "call_back",
        "--note",
        "called back on the number on file",
    )
    assert filed.exit_code == 0, filed.output
    reference = _reference(filed.output)
    assert "running" in filed.output and customer.email not in filed.output
    ran = cli("requests", "run", reference, "--now")
    assert ran.exit_code == 0, ran.output
    assert "completed" in ran.output and "addresses" in ran.output
    assert shop_db.count(ADDRESSES, customer_id=customer.id) == 0
    shown = cli("requests", "show", reference, "--json")
    detail = json.loads(shown.output)
    assert detail["status"] == "completed" and detail["steps"][0]["status"] == "done"
    assert customer.email not in shown.output
    listed = cli("requests", "list", "--status", "completed")
    assert reference in listed.output


def test_bad_input_exits_2_with_one_line(cli: PrivetCli, shop_db: Shop) -> None:
    bad = cli("requests", "file", "--type", "delete_me", "--identity", shop_db.customers[0].email)
    assert bad.exit_code == 2 and "access" in bad.output
    missing = cli("requests", "show", "R-ZZZZZZZZ")
    assert missing.exit_code == 2 and "reference" in missing.output
    filed = cli("requests", "file", "--type", "access", "--identity", shop_db.customers[0].email)
    refused = cli("requests", "refuse", _reference(filed.output), "--code", "because")
    assert refused.exit_code == 2 and "refusal code" in refused.output.lower()


def test_refuse_extend_and_codes(cli: PrivetCli, shop_db: Shop, verify_smtp) -> None:
    customer = shop_db.customers[0]
    reference = _reference(cli("requests", "file", "--type", "erasure", "--identity", customer.email).output)
    assert cli("requests", "extend", reference, "--reason", "busy").exit_code == 2  # unverified, and PIPL anyway
    refused = cli("requests", "refuse", reference, "--code", "impractical", "--note", "backup tapes only")
    assert refused.exit_code == 0 and "refused" in refused.output
    codes = cli("requests", "codes")
    assert "trade_secret" in codes.output and "GB/T 35273" in codes.output


def test_holds_and_package_link(cli: PrivetCli, shop_db: Shop) -> None:
    customer = shop_db.customers[2]
    reference = _reference(
        cli("requests", "file", "--type", "access", "--identity", customer.email, "--checked", "in_person").output
    )
    assert cli("requests", "run", reference, "--now").exit_code == 0
    shown = cli("requests", "show", reference)
    assert shown.exit_code == 0 and "steps" in shown.output and "request.completed" in shown.output
    assert customer.email not in shown.output
    link = cli("requests", "package", reference, "--no-send")
    assert link.exit_code == 0 and "https://privacy.shop.example/api/v1/public/packages/" in link.output
    subject_id = json.loads(cli("requests", "show", reference, "--json").output)["subject_id"]
    held = cli("requests", "hold", subject_id, "--reason", "litigation pending")
    assert held.exit_code == 0, held.output
    hold_id = held.output.split()[1]
    assert hold_id in cli("requests", "holds").output
    assert cli("requests", "release", hold_id).exit_code == 0
    assert cli("requests", "release", hold_id).exit_code == 2
    assert cli("requests", "due", "--days", "40").exit_code == 0
