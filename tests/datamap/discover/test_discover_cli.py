"""`privet datamap discover` on SQLite, PostgreSQL and MariaDB: columns found by their values (misleading names,
JSON, composite and missing keys), compared with the applied map, skipped items named, nothing but categories
leaving, a draft that validates, `evaluate --discovered` findings, and a scan that resumes after an interruption."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result
from sqlalchemy import select

from privet.datamap.schemas import Manifest
from tests.conftest import _entry
from tests.datamap.discover import shapes
from tests.datamap.discover.conftest import kind_of


def run(*args: str) -> Result:
    return CliRunner().invoke(_entry, list(args), catch_exceptions=False)


def applied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str, text: str = shapes.DATAMAP) -> Path:
    """The shop's data map applied to the store, its secret pointing at `url`; returns the map's folder."""
    from privet.settings import get_settings

    monkeypatch.setenv("PRIVET_SECRETS", json.dumps({"shop_db": url}))
    get_settings.cache_clear()
    folder = tmp_path / "map"
    folder.mkdir(exist_ok=True)
    (folder / "map.yaml").write_text(text.replace("__KIND__", kind_of(url)), encoding="utf-8")
    result = run("datamap", "apply", str(folder))
    assert result.exit_code == 0, result.output
    return folder


def expected_status(key: tuple[str, str], truth: shapes.Truth, manifest: Manifest) -> str:
    """The status a column must get, from what was generated and what the map says."""
    fields = {(t.name, f.name): f for d in manifest.datasets for t in d.tables for f in t.fields}
    listed = {t.name for d in manifest.datasets for t in d.tables}
    field = fields.get(key)
    found = truth.categories.get(key) or truth.embedded.get(key)
    if found:
        if key[0] not in listed or field is None or not field.category:
            return "conflict"
        return "agree" if field.category == found else "conflict"
    if field is not None and field.identity == "phone":
        return "conflict"  # an identity column holding something else
    return "unconfirmed" if field is not None and field.category else "non_personal"


def test_discover_finds_what_columns_hold_and_where_the_map_disagrees(
    shop, store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _kind, url, truth = shop
    folder = applied(tmp_path, monkeypatch, url)
    report_path, draft_path = tmp_path / "report.json", tmp_path / "draft.yaml"
    result = run(
        "datamap",
        "discover",
        "--datastore",
        "shop_db",
        "--sample",
        "100",
        "--report",
        str(report_path),
        "-o",
        str(draft_path),
    )
    assert result.exit_code == 0, result.output
    report = json.loads(report_path.read_text(encoding="utf-8"))
    tables = {t["name"]: t for t in report["tables"]}
    columns = {(t["name"], c["name"]): c for t in report["tables"] for c in t.get("columns", [])}
    manifest = Manifest.model_validate(yaml.safe_load(shapes.DATAMAP.replace("__KIND__", kind_of(url))))

    for key, category in truth.categories.items():  # whole values: the category, whatever the column's name
        assert columns[key]["category"] == category, key
        assert columns[key]["sampled"] == 100 and columns[key]["share"] >= 0.95
    for key, category in truth.embedded.items():  # inside free text or JSON
        assert columns[key].get("category") == category or category in columns[key].get("embedded", {}), key
    assert columns[("customers", "profile")].get("json_keys", {}).get("email") == shapes.EMAIL
    for key, column in columns.items():
        if "skipped" not in column:
            assert column["status"] == expected_status(key, truth, manifest), (key, column)
    rules = {key: c["conflict"]["rule"] for key, c in columns.items() if c.get("conflict")}
    assert rules[("customers", "notes")] == rules[("order_lines", "contact")] == "DISCOVERED-UNMAPPED-PERSONAL"
    assert rules[("events_log", "message")] == "DISCOVERED-UNLISTED-TABLE"
    assert rules[("accounts", "login_phone")] == "DISCOVERED-IDENTITY-MISMATCH"
    assert tables["order_lines"]["method"] in ("offsets", "page ranges", "all rows")  # composite text key
    assert tables["customers"]["method"] == "key ranges" and tables["customers"]["rows_sampled"] == 100

    # bad input named with the reason, the scan went on
    assert columns[("attachments", "data")]["skipped"] == "binary data"
    assert tables["empty_table"]["skipped"] == "the table has no rows"
    assert tables["customer_emails"]["kind"] == "view" and "view" in tables["customer_emails"]["skipped"]

    # nothing but categories leaves: not the report, not the output, not the draft, not the audit chain
    from privet.audit.models import AuditEvent
    from privet.db.store import store_session

    with store_session() as session:
        events = list(session.execute(select(AuditEvent).where(AuditEvent.action == "datamap.discovered")).scalars())
        details = json.dumps([e.details for e in events], ensure_ascii=False)
    assert len(events) == 1 and events[0].object_id == "shop_db" and events[0].actor.startswith("cli:")
    assert events[0].details["tables"] == 7 and events[0].details["conflicts"] == len(rules)
    leaving = {
        "report": report_path.read_text(encoding="utf-8"),
        "output": result.output,
        "draft": draft_path.read_text(encoding="utf-8"),
        "audit": details,
    }
    for where, text in leaving.items():
        leaked = [v for v in truth.values if v in text]
        assert not leaked, f"{len(leaked)} sampled values in the {where}"

    # the draft: scaffold's format, the edits in it, valid in place of the dataset
    draft = yaml.safe_load(draft_path.read_text(encoding="utf-8"))
    fields = {(t["name"], f["name"]): f for d in draft["datasets"] for t in d["tables"] for f in t["fields"]}
    assert fields[("customers", "notes")]["category"] == shapes.PHONE
    assert fields[("customers", "notes")]["identity"] == "phone"
    assert "review: discovered from values" in fields[("customers", "notes")]["description"]
    assert fields[("customers", "ref")]["category"] == shapes.RIC
    assert fields[("order_lines", "contact")]["category"] == shapes.EMAIL
    assert fields[("events_log", "message")]["category"] == shapes.PHONE
    assert "review:" in fields[("accounts", "login_phone")]["description"]
    assert fields[("accounts", "login_phone")]["identity"] == "phone"  # kept: a reviewer decides
    whole = yaml.safe_load((folder / "map.yaml").read_text(encoding="utf-8"))
    whole["datasets"] = draft["datasets"]
    fixed = tmp_path / "fixed"
    fixed.mkdir()
    (fixed / "map.yaml").write_text(yaml.safe_dump(whole, allow_unicode=True), encoding="utf-8")
    assert run("datamap", "validate", str(fixed)).exit_code == 0

    # evaluate: the conflicts as findings against the applied map; against the reviewed draft only the identity
    evaluated = run("datamap", "evaluate", "--discovered", str(report_path))
    assert evaluated.exit_code == 1
    for rule in ("DISCOVERED-UNMAPPED-PERSONAL", "DISCOVERED-UNLISTED-TABLE", "DISCOVERED-IDENTITY-MISMATCH"):
        assert rule in evaluated.output
    again = run("datamap", "evaluate", str(fixed), "--discovered", str(report_path))
    assert "DISCOVERED-UNMAPPED" not in again.output and "DISCOVERED-UNLISTED" not in again.output
    assert "DISCOVERED-IDENTITY-MISMATCH" in again.output


def test_bad_input_is_a_clear_error_and_nothing_is_written(
    store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = tmp_path / "r.json"
    result = run("datamap", "discover", "--datastore", "shop_db", "--report", str(report))
    assert result.exit_code == 2 and "No data map has been applied" in result.output
    url = f"sqlite:///{tmp_path / 'shop.sqlite'}"
    shapes.create(url)
    applied(tmp_path, monkeypatch, url)
    result = run("datamap", "discover", "--datastore", "nope", "--report", str(report))
    assert result.exit_code == 2 and "No datastore `nope`" in result.output and "shop_db" in result.output
    result = run("datamap", "discover", "--datastore", "shop_db", "--tables", "custmers", "--report", str(report))
    assert result.exit_code == 2 and "No table matches custmers" in result.output
    result = run("datamap", "evaluate", "--discovered", str(tmp_path / "missing.json"))
    assert result.exit_code == 2 and "No discovery report" in result.output
    (tmp_path / "bad.json").write_text("{}", encoding="utf-8")
    result = run("datamap", "evaluate", "--discovered", str(tmp_path / "bad.json"))
    assert result.exit_code == 2 and "is not a discovery report" in result.output
    assert not report.exists()


def test_only_the_tables_asked_for(store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'shop.sqlite'}"
    shapes.create(url)
    applied(tmp_path, monkeypatch, url)
    report = tmp_path / "r.json"
    result = run("datamap", "discover", "--datastore", "shop_db", "--tables", "cust*,accounts", "--report", str(report))
    assert result.exit_code == 0, result.output
    names = [t["name"] for t in json.loads(report.read_text(encoding="utf-8"))["tables"]]
    assert names == ["accounts", "customer_emails", "customers"]


def test_an_interrupted_scan_resumes_from_the_tables_done(
    store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from privet.datamap.discover import scan as scan_module

    url = f"sqlite:///{tmp_path / 'shop.sqlite'}"
    shapes.create(url)
    applied(tmp_path, monkeypatch, url)
    args = ("datamap", "discover", "--datastore", "shop_db", "--sample", "50")
    whole = tmp_path / "whole.json"
    assert run(*args, "--report", str(whole)).exit_code == 0

    real, read = scan_module._table, []

    def killed_on_the_third(*a, **k):
        if len(read) == 2:
            raise KeyboardInterrupt  # what a kill leaves: the progress written after each table, nothing more
        read.append(a[3].name)
        return real(*a, **k)

    monkeypatch.setattr(scan_module, "_table", killed_on_the_third)
    report = tmp_path / "resumed.json"
    assert run(*args, "--report", str(report)).exit_code == 130  # interrupted (SIGINT)
    partial = json.loads((tmp_path / "resumed.json.partial").read_text(encoding="utf-8"))
    assert sorted(partial["tables"]) == sorted(read) and not report.exists()

    read_again = []
    monkeypatch.setattr(scan_module, "_table", lambda *a, **k: read_again.append(a[3].name) or real(*a, **k))
    result = run(*args, "--report", str(report))
    assert result.exit_code == 0, result.output
    assert "resuming: 2 table(s) already scanned" in result.output
    assert not set(read_again) & set(read) and len(read_again) == 7 - 2 - 0  # 7 tables, 2 done before
    assert not (tmp_path / "resumed.json.partial").exists()
    strip = lambda doc: {k: v for k, v in doc.items() if k != "scanned_at"}  # noqa: E731
    assert strip(json.loads(report.read_text())) == strip(json.loads(whole.read_text()))
