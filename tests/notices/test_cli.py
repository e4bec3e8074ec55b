"""`privet notices ...`: publish files (language from --lang or the file name), list, show, diff, bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import PrivetCli
from tests.notices.conftest import KEPTEK, POLICY_V1, POLICY_ZH, ZKTECO, seed


@pytest.fixture
def run(privet: PrivetCli, cli_store: str) -> PrivetCli:
    """`privet` on a migrated store with this issue's tables added (until their migration exists)."""
    from privet.db.engine import make_engine
    from privet.tables import metadata

    engine = make_engine(cli_store)
    metadata.create_all(engine)
    engine.dispose()
    return privet


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_publish_list_show_and_diff(run: PrivetCli, tmp_path: Path) -> None:
    en = _write(tmp_path, "policy.en.txt", POLICY_V1)
    zh = _write(tmp_path, "policy.zh_CN.txt", POLICY_ZH)
    result = run(
        "notices", "publish", str(en), str(zh), "--key", "main", "--effective", "2025-11-28", "--purpose", "marketing"
    )
    assert result.exit_code == 0, result.output
    assert "published main version 1 (effective 2025-11-28): en 4 sections, zh_CN 5 sections" in result.stdout
    assert "First version" in result.stdout
    v2 = _write(
        tmp_path,
        "policy-2.en.md",
        "# Acme Privacy Policy\n"
        + "\n".join(f"## {line}" if line[:1].isdigit() else line for line in POLICY_V1.splitlines()[1:]).replace(
            "do not sell", "never sell"
        ),
    )
    result = run("notices", "publish", str(v2), "--key", "main", "--effective", "2025-12-01", "--material", "marketing")
    assert result.exit_code == 0, result.output
    assert "Section 3 changed" in result.stdout and "marketing (material: marked" in result.stdout
    jit = _write(tmp_path, "signup.txt", "We send our newsletter to the address you give. Unsubscribe any time.")
    assert (
        run(
            "notices",
            "publish",
            str(jit),
            "--lang",
            "en",
            "--key",
            "newsletter",
            "--kind",
            "just_in_time",
            "--effective",
            "2025-12-01",
        ).exit_code
        == 0
    )
    listed = run("notices", "list")
    assert listed.exit_code == 0
    rows = {line.split()[1]: line for line in listed.stdout.splitlines() if "│" in line and "key" not in line}
    assert "policy" in rows["main"] and " 2 " in rows["main"] and "just_in_time" in rows["newsletter"]
    shown = run("notices", "show", "main", "--version", "1", "--lang", "zh_CN")
    assert shown.exit_code == 0, shown.output
    assert "main version 1" in shown.stdout and "我们收集的信息" in shown.stdout and "二.(一)" in shown.stdout
    latest = run("notices", "show", "main")
    assert "main version 2" in latest.stdout and "material: marketing" in latest.stdout
    diff = run("notices", "diff", "main", "1", "2", "--full")
    assert diff.exit_code == 0, diff.output
    assert "~ 3 Sharing" in diff.stdout and "+We never sell personal information." in diff.stdout
    assert "1 section(s) differ" in diff.stdout


@pytest.mark.parametrize(
    ("path", "count", "last"), [(KEPTEK, 16, "How This Policy Is Updated"), (ZKTECO, 9, "Contact Us")]
)
def test_seed_policies_publish(run: PrivetCli, path: Path, count: int, last: str) -> None:
    seed(path)
    result = run("notices", "publish", str(path), "--lang", "en", "--key", "seed", "--effective", "2025-11-28")
    assert result.exit_code == 0, result.output
    assert f"en {count} sections" in result.stdout
    shown = run("notices", "show", "seed").stdout
    row = next(line for line in shown.splitlines() if last in line)
    assert [cell.strip() for cell in row.strip("│ ").split("│")][:2] == ["9", last]


def test_bad_files_dates_and_repeats_exit_2(run: PrivetCli, tmp_path: Path) -> None:
    good = _write(tmp_path, "policy.en.txt", POLICY_V1)
    latin1 = tmp_path / "old.en.txt"
    latin1.write_bytes("Politique de confidentialité".encode("latin-1"))
    cases = [
        ((str(good), "--key", "main", "--effective", "28.11.2025"), "is not a date"),
        ((str(tmp_path / "missing.en.txt"), "--key", "main", "--effective", "2025-11-28"), "No such file"),
        ((str(latin1), "--key", "main", "--effective", "2025-11-28"), "is not UTF-8 text"),
        (
            (str(_write(tmp_path, "policy.txt", "x")), "--key", "main", "--effective", "2025-11-28"),
            "Cannot tell the language",
        ),
        (
            (str(good), "--key", "main", "--effective", "2025-11-28", "--lang", "en", "--lang", "zh_CN"),
            "--lang for 1 file",
        ),
        ((str(good), "--key", "main", "--effective", "2025-11-28", "--purpose", "marketing.emial"), "unknown purpose"),
    ]
    for args, message in cases:
        result = run("notices", "publish", *args)
        assert result.exit_code == 2, (args, result.output)
        assert message in result.stderr and "Traceback" not in result.output
    assert "no notices yet" in run("notices", "list").stdout
    assert run("notices", "publish", str(good), "--key", "main", "--effective", "2025-11-28").exit_code == 0
    again = run("notices", "publish", str(good), "--key", "main", "--effective", "2025-11-28")
    assert again.exit_code == 2 and "no change" in again.stderr
    assert run("notices", "show", "missing").exit_code == 2
    assert "has no 'fr' text" in run("notices", "show", "main", "--lang", "fr").stderr
    assert "no version 9" in run("notices", "diff", "main", "1", "9").stderr
