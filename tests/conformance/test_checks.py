"""The conformance checks catch what they are for: a data map with the mistakes each check exists to find, and a
truth that disowns rows, each make exactly the expected properties fail (SQLite, the accounts schema)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from tests.conformance.harness import run
from tests.conformance.schemas import accounts, column


def _stand_in(**changed: object) -> SimpleNamespace:
    """The accounts schema module with some of its functions replaced."""
    names = {k: getattr(accounts, k) for k in dir(accounts) if not k.startswith("__")}
    return SimpleNamespace(**{**names, **changed})


def _wrong_map(draft: dict) -> dict:
    draft = accounts.edits(draft)
    del column(draft, "sms_subscribers", "msisdn")["identity"]  # nobody is found by phone any more
    column(draft, "login_events", "user_id").pop("references")  # login events are out of reach
    column(draft, "login_events", "user_id").pop("relation")
    column(draft, "tickets", "assigned_agent_id")["relation"] = "owns"  # the agent's row becomes the person's
    del next(t for t in draft["datasets"][0]["tables"] if t["name"] == "api_tokens")["erasure"]  # tokens stay
    return draft


def test_a_wrong_map_fails_found_complete_only_theirs_and_erased(tmp_path: Path) -> None:
    report = run("accounts", "sqlite", tmp_path, people=3, schema=_stand_in(edits=_wrong_map))
    assert report.error is None, report.error
    failed = {p for p, lines in report.failures.items() if lines}
    assert {"found", "complete", "only_theirs", "erased"} <= failed, report.failures
    assert not failed & {"honest_counts", "others_untouched"}, report.failures
    text = "\n".join(line for lines in report.failures.values() for line in lines)
    assert "access by phone found none of their rows" in text
    assert "login_events" in "\n".join(report.failures["complete"])
    assert "agents." in "\n".join(report.failures["only_theirs"])
    assert "api_tokens (no_action)" in "\n".join(report.failures["erased"])


def test_rows_wrongly_disowned_by_the_truth_fail_others_untouched(tmp_path: Path) -> None:
    def truth(conn, person):
        rows = accounts.truth(conn, person)
        rows.pop("login_events")
        return rows

    report = run("accounts", "sqlite", tmp_path, people=2, schema=_stand_in(truth=truth))
    assert report.error is None, report.error
    assert "login_events" in "\n".join(report.failures["others_untouched"])
    assert not report.failures["honest_counts"]
