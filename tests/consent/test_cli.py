"""`privet consent show | grant | withdraw | import | rebuild` on a real store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from faker import Faker

from privet.db.engine import make_engine
from privet.tables import metadata
from tests.consent.conftest import KEPTEK


@pytest.fixture
def store(privet, cli_store: str):
    """A migrated store with this issue's tables (until its migration lands) and the Keptek data map."""
    engine = make_engine(cli_store)
    metadata.create_all(engine)
    engine.dispose()
    result = privet("datamap", "apply", str(KEPTEK))
    assert result.exit_code == 0, result.output
    return privet


def test_grant_withdraw_show_rebuild(store, faker_multi: Faker) -> None:
    email = faker_multi.unique.email()
    granted = store(
        "consent",
        "grant",
        "--type",
        "email",
        "--value",
        email,
        "--purpose",
        "marketing.communications",
        "--category",
        "user.contact.email",
    )
    assert granted.exit_code == 0, granted.output
    assert "created subject" in granted.output and "recorded given for marketing.communications" in granted.output
    withdrawn = store(
        "consent", "withdraw", "--type", "email", "--value", email, "--purpose", "marketing.communications"
    )
    assert withdrawn.exit_code == 0 and "recorded withdrawn" in withdrawn.output
    shown = store("consent", "show", "--type", "email", "--value", email)
    assert shown.exit_code == 0, shown.output
    assert "withdrawn" in shown.output and shown.output.count("marketing.communications") == 3
    assert email not in shown.output
    rebuilt = store("consent", "rebuild")
    assert rebuilt.exit_code == 0 and "1 current states" in rebuilt.output


def test_cli_errors_are_one_line_exit_2(store, faker_multi: Faker) -> None:
    refused = store(
        "consent", "grant", "--type", "email", "--value", faker_multi.unique.email(), "--purpose", "service.order"
    )
    assert refused.exit_code == 2 and "does not rely on consent" in refused.output
    missing = store("consent", "show", "--type", "email", "--value", "nobody@example.org")
    assert missing.exit_code == 2 and "nobody@example.org" not in missing.output


def test_import_csv_and_jsonl(store, faker_multi: Faker, tmp_path: Path) -> None:
    emails = [faker_multi.unique.email() for _ in range(4)]
    csv_file = tmp_path / "consents.csv"
    csv_file.write_text(
        "identity_type,identity,purpose,event,at,categories\n"
        + "".join(
            f"email,{e},marketing.communications,given,2024-03-0{i + 1}T08:00:00+08:00,user.contact.email\n"
            for i, e in enumerate(emails)
        ),
        encoding="utf-8",
    )
    result = store("consent", "import", str(csv_file))
    assert result.exit_code == 0, result.output
    assert "imported 4 of 4 rows; 4 new subjects" in result.output
    jsonl = tmp_path / "more.jsonl"
    jsonl.write_text(
        "".join(
            json.dumps(
                {
                    "identity_type": "email",
                    "identity": e,
                    "purpose": "analytics.usage",
                    "event": "refused",
                    "at": "2024-04-01T00:00:00Z",
                }
            )
            + "\n"
            for e in emails
        ),
        encoding="utf-8",
    )
    assert "imported 4 of 4 rows; 0 new subjects" in store("consent", "import", str(jsonl)).output
    shown = store("consent", "show", "--type", "email", "--value", emails[0])
    assert "analytics.usage" in shown.output and "marketing.communications" in shown.output


def test_import_with_a_bad_row_imports_nothing(store, faker_multi: Faker, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    first = faker_multi.unique.email()
    bad.write_text(
        "identity_type,identity,purpose,event,at\n"
        f"email,{first},marketing.communications,given,2024-03-01T08:00:00Z\n"
        f"email,{faker_multi.unique.email()},marketing.nope,given,2024-03-01T08:00:00Z\n",
        encoding="utf-8",
    )
    result = store("consent", "import", str(bad))
    assert result.exit_code == 2 and "bad.csv:3" in result.output and "nothing was imported" in result.output
    shown = store("consent", "show", "--type", "email", "--value", first)
    assert shown.exit_code == 2  # the subject was not kept either
    skipped = store("consent", "import", str(bad), "--skip-invalid")
    assert skipped.exit_code == 0 and "imported 1 of 2 rows" in skipped.output and "bad.csv:3" in skipped.output
