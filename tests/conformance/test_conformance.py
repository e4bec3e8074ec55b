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

XFAIL: dict[tuple[str, str, str], str] = {}  # (schema, dialect, property) → what Privet does wrong there


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
