"""Conformance: Privet on databases it did not design (FOREIGN-SCHEMAS.md), each schema on SQLite, PostgreSQL and
MariaDB, one test per property. Each schema × dialect is run once (`harness.run`: create, scaffold, edit, apply,
then real requests for every person) and its report is shared by its property tests.

Where Privet itself is wrong, the case is an expected failure with the diagnosis (`XFAIL`, strict: when Privet is
fixed the test says so and the entry goes).
"""

from __future__ import annotations

import pytest

from tests.conformance.checks import PROPERTIES
from tests.conformance.databases import DIALECTS
from tests.conformance.harness import Report, run
from tests.conformance.schemas import NAMES

_JSON_TEXT = ("identities inside JSON (web_forms.payload) and free text (call_notes.note) cannot be declared or "
              "matched: both tables are unreachable")
_TRIGGER = ("the AFTER DELETE trigger on contacts copies the erased row into contact_history during Privet's delete")
XFAIL: dict[tuple[str, str, str], str] = {}


def _text_keys(where: str, ref: str, example: str, outcome: str) -> str:
    return (f"{where} compares {ref}'s text values with the integer key they hold ('{example}' vs {example}), "
            f"so {outcome}")


for _dialect in DIALECTS:
    XFAIL[("accounts", _dialect, "links_truthful")] = _text_keys(
        "walk._drop_links_to_own", "login_events.user_id → accounts.account_id", "1007",
        "the package names the person's own account as another person's or a shared record")
    XFAIL[("trading", _dialect, "links_truthful")] = _text_keys(
        "walk._drop_links_to_own", "shipments.order_ref → orders.order_id", "10249",
        "the package names the person's own orders as other people's or shared records")
    XFAIL[("trading", _dialect, "erased")] = _text_keys(
        "erase._protect_referenced", "shipments.order_ref → orders.order_id", "10249",
        "orders a retained shipment refers to are deleted (the shipments are orphaned) instead of kept emptied")
    XFAIL[("helpdesk", _dialect, "complete")] = f"{_JSON_TEXT}, so the package leaves those rows out"
    XFAIL[("helpdesk", _dialect, "erased")] = (
        f"{_JSON_TEXT} (the request ends completed_with_exceptions, rows kept); {_TRIGGER}, and that new row "
        "(e-mail, name) is neither erased nor reported, so access afterwards still finds it")
    XFAIL[("helpdesk", _dialect, "honest_counts")] = (
        f"{_TRIGGER}: the result and the message count only the rows Privet changed, not the row that appeared")

XFAIL[("trading", "postgresql", "complete")] = (
    "PostgreSQL returns the CHAR(8) key customers.customer_id blank-padded ('ABCDE   '); the walk looks up "
    "orders.customer_id and audit_log.customer_key (VARCHAR) with the padded value, so the person's orders, order "
    "lines, shipments and audit entries are not found")
XFAIL[("trading", "postgresql", "erased")] = (
    "PostgreSQL pads the CHAR(8) key customers.customer_id ('ABCDE   '), so the walk finds none of the person's "
    "orders, order lines, shipments or audit entries (VARCHAR references): they keep their personal data and the "
    "request still ends completed")
# (on PostgreSQL trading's links_truthful holds only because those orders and shipments are not found at all)
del XFAIL[("trading", "postgresql", "links_truthful")]

_REPORTS: dict[tuple[str, str], Report] = {}


def _report(schema: str, dialect: str, factory: pytest.TempPathFactory) -> Report:
    """The schema's run on the dialect, once per test session (skipped, or failed under CI=true, when the
    database server is unreachable)."""
    if (schema, dialect) not in _REPORTS:
        _REPORTS[(schema, dialect)] = run(schema, dialect, factory.mktemp(f"{schema}-{dialect}"))
    return _REPORTS[(schema, dialect)]


def _cases() -> list:
    out = []
    for schema in NAMES:
        for dialect in DIALECTS:
            for prop in PROPERTIES:
                reason = XFAIL.get((schema, dialect, prop))
                marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
                out.append(pytest.param(schema, dialect, prop, marks=marks, id=f"{schema}-{dialect}-{prop}"))
    return out


@pytest.mark.parametrize(("schema", "dialect", "prop"), _cases())
def test_conformance(schema: str, dialect: str, prop: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    report = _report(schema, dialect, tmp_path_factory)
    assert report.passed(prop), report.explain(prop)
