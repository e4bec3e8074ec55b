"""Custom recognizers in the data map: validated with the map (a bad regex, an unknown validator or category is a
clear error naming the entry and its line), kept by apply and export, and used by discovery."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from privet.datamap.manifest import load_yaml_text
from privet.datamap.validate import check
from privet.kit.errors import InvalidInput
from tests.datamap.discover import shapes
from tests.datamap.discover.test_discover_cli import applied, run

BASE = shapes.DATAMAP.replace("__KIND__", "sqlite")


def _problems(recognizers: str) -> list[str]:
    text = BASE.replace(
        """recognizers:
  - key: device_serial
    category: user.device.serial_number
    pattern: 'ZK[A-Z]{2}\\d{8}'
""",
        recognizers,
    )
    try:
        loaded = load_yaml_text(text, "map.yaml")
    except InvalidInput as exc:
        return [p.render() for p in exc.problems]
    return [p.render() for p in check(loaded)]


def test_a_valid_recognizer_passes() -> None:
    assert _problems("recognizers:\n  - {key: member_no, category: user.account.user_id, pattern: 'M\\d{9}'}\n") == []


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        (
            "{key: serial, category: user.device.serial_number, pattern: 'ZK[A-Z'}",
            "recognizer `serial`: the pattern is not a valid regular expression",
        ),
        (
            "{key: serial, category: user.device.serial_number, pattern: 'ZK\\d+', validator: luhnn}",
            "recognizer `serial`: unknown validator `luhnn`",
        ),
        (
            "{key: serial, category: user.device.serail, pattern: 'ZK\\d+'}",
            "recognizer `serial`: unknown data category `user.device.serail`",
        ),
        ("{key: serial, category: user.device.serial_number}", "missing required key `pattern`"),
        (
            "{key: serial, category: user.device.serial_number, pattern: 'x', validater: luhn}",
            "unknown key `validater`",
        ),
    ],
)
def test_a_bad_recognizer_is_named_with_its_line(entry: str, expected: str) -> None:
    problems = _problems(f"recognizers:\n  - {entry}\n")
    assert len(problems) == 1 and expected in problems[0], problems
    assert problems[0].startswith("map.yaml:")


def test_two_recognizers_with_one_key_are_refused() -> None:
    entry = "  - {key: serial, category: user.device.serial_number, pattern: 'ZK\\d+'}\n"
    problems = _problems("recognizers:\n" + entry + entry)
    assert any("duplicate recognizer key `serial`" in p for p in problems)


def test_apply_keeps_recognizers_and_discovery_uses_them(
    store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'shop.sqlite'}"
    shapes.create(url)
    applied(tmp_path, monkeypatch, url)
    exported = run("datamap", "export")
    assert "device_serial" in exported.output and "ZK[A-Z]{2}" in exported.output
    report = tmp_path / "r.json"
    assert (
        run("datamap", "discover", "--datastore", "shop_db", "--tables", "devices", "--report", str(report)).exit_code
        == 0
    )
    serial = json.loads(report.read_text())["tables"][0]["columns"][0]
    assert serial["category"] == shapes.SERIAL and serial["conflict"]["rule"] == "DISCOVERED-UNMAPPED-PERSONAL"

    # a changed pattern is a change of the map: a new version, audited as a recognizer update
    text = shapes.DATAMAP.replace("__KIND__", "sqlite").replace("ZK[A-Z]{2}", "ZK[A-Z]{1,2}")
    (tmp_path / "map" / "map.yaml").write_text(text, encoding="utf-8")
    result = run("datamap", "apply", str(tmp_path / "map"))
    assert result.exit_code == 0 and "~ recognizers.device_serial" in result.output
