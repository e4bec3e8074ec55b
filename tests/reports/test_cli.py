"""`privet report ropa | pia | crossborder` on a fresh store."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

from tests.reports.cli_support import prepare
from tests.reports.datamap import ACTIVITIES, PIA_TRIGGERS


def test_ropa_html_and_csv(privet, cli_store: str, tmp_path: Path) -> None:
    prepare(privet, cli_store, tmp_path)
    out = tmp_path / "ropa.html"
    result = privet("report", "ropa", "--format", "html", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert all(f'id="activity-{a}"' in out.read_text() for a in ACTIVITIES)
    result = privet("report", "ropa", "--format", "csv")
    assert [r["activity"] for r in csv.DictReader(io.StringIO(result.stdout))] == sorted(ACTIVITIES)
    bad = privet("report", "ropa", "--format", "pdf")
    assert bad.exit_code == 2 and "Unknown format" in bad.output
    chinese = privet("report", "ropa", "--lang", "zh_CN")
    assert chinese.exit_code == 0 and "个人信息处理活动记录" in chinese.stdout and "营销信息推送" in chinese.stdout
    unknown = privet("report", "ropa", "--lang", "fr")
    assert unknown.exit_code == 2 and "Unknown language" in unknown.output


def test_pia_list_answer_conclude_and_delete_refused(privet, cli_store: str, tmp_path: Path) -> None:
    prepare(privet, cli_store, tmp_path)
    result = privet("report", "pia", "list")
    assert result.exit_code == 0, result.output
    assert f"Drafted {len(PIA_TRIGGERS)} new assessment(s)" in result.output
    ref = re.search(r"(A-\w{8}) +newsletter", result.output).group(1)
    shown = privet("report", "pia", "show", ref).output
    keys = re.findall(r"^  \[(\w+)\]", shown, re.M)
    assert "processor" in keys and "(not answered)" in shown
    answer = privet("report", "pia", "answer", ref, *[f"{k}=Answer for {k}" for k in keys])
    assert answer.exit_code == 0 and "0 question(s) left" in answer.output
    done = privet("report", "pia", "conclude", ref, "--outcome", "acceptable", "--conclusion", "Agreement in place.")
    assert done.exit_code == 0, done.output
    until = re.search(r"kept until (\d{4})-", done.output).group(1)
    refused = privet("report", "pia", "delete", ref)
    assert refused.exit_code == 2 and "must be kept until" in refused.output and until in refused.output
    assert "concluded" in privet("report", "pia", "show", ref).output


@pytest.mark.promise("P29")
def test_crossborder_record_refused_without_mechanism_then_status(privet, cli_store: str, tmp_path: Path) -> None:
    prepare(privet, cli_store, tmp_path)
    args = [
        "report",
        "crossborder",
        "record",
        "--destination",
        "DE",
        "--recipient",
        "eu_desk_gmbh",
        "--category",
        "user.biometric.face",
        "--subjects",
        "10000",
        "--at",
        "2026-04-01T09:00:00+08:00",
    ]
    refused = privet(*args)
    assert refused.exit_code == 2 and "needs a transfer mechanism" in refused.output
    assert "TRANSFER" in privet("report", "crossborder", "list").output
    assert "X-" not in privet("report", "crossborder", "list").output
    done = privet(*args, "--mechanism", "standard_contract")
    assert done.exit_code == 0, done.output
    assert "10000 people (10000 with sensitive data)" in done.output
    assert "ALERT threshold_crossed" in done.output and "ALERT mechanism_weaker" in done.output
    status = privet("report", "crossborder", "status", "--at", "2026-05-01T00:00:00+08:00")
    assert "security assessment" in status.output and "Source: CAC Provisions" in status.output
