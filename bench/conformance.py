"""Conformance on databases Privet did not design (FOREIGN-SCHEMAS.md): the properties of the conformance tests
(found, complete, only_theirs, links_truthful, erased, honest_counts, others_untouched) for every schema of
`tests/conformance/schemas` on every dialect reachable (SQLite, PostgreSQL, MariaDB).

Each schema × dialect is created, scaffolded, edited as its module says, applied to a scratch store, then every
person files real access and erasure requests (`tests/conformance/harness.py`). Prints a table per dialect and a
table schema × property (pass only when every dialect passes), the problems found, and ends with one line of JSON
whose `score` is passed / total checks. `--quick`: SQLite only, three people per schema.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the harness lives with the tests


def say(text: str = "") -> None:
    print(text, flush=True)


def _unreachable(exc: BaseException) -> str | None:
    """The reason when `exc` is the tests' way of saying a database server is unreachable."""
    import pytest

    if isinstance(exc, (pytest.skip.Exception, pytest.fail.Exception)):
        return str(exc).splitlines()[0]
    return None


def table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in rows)


def main() -> None:
    from tests.conformance.checks import PROPERTIES
    from tests.conformance.databases import DIALECTS
    from tests.conformance.harness import run
    from tests.conformance.kills import BOUNDARIES, IN_TESTS
    from tests.conformance.schemas import NAMES

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="SQLite only and three people per schema.")
    parser.add_argument("--dialects", nargs="+", choices=DIALECTS, help="Dialects to run (default: all reachable).")
    parser.add_argument("--schemas", nargs="+", choices=NAMES, help="Schemas to run (default: all).")
    parser.add_argument("--people", type=int, help="People checked per schema (default: all; quick: 3).")
    parser.add_argument("--details", type=int, default=3, help="Problems printed per failed property.")
    args = parser.parse_args()
    dialects = args.dialects or (["sqlite"] if args.quick else list(DIALECTS))
    schemas = args.schemas or list(NAMES)
    people = args.people or (3 if args.quick else None)

    started = time.perf_counter()
    results: dict[str, dict[str, dict[str, bool]]] = {s: {} for s in schemas}
    seconds: dict[str, dict[str, float]] = {s: {} for s in schemas}
    unreachable: dict[str, str] = {}
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="privet-conformance-") as folder:
        for dialect in dialects:
            for schema in schemas:
                if dialect in unreachable:
                    break
                began = time.perf_counter()
                try:
                    report = run(
                        schema,
                        dialect,
                        Path(folder) / f"{schema}-{dialect}",
                        people=people,
                        kills=IN_TESTS if args.quick else BOUNDARIES,
                    )
                except BaseException as exc:
                    reason = _unreachable(exc)
                    if reason is None:
                        raise
                    unreachable[dialect] = reason
                    say(f"{dialect}: unreachable, left out ({reason})")
                    break
                seconds[schema][dialect] = round(time.perf_counter() - began, 2)
                results[schema][dialect] = {p: report.passed(p) for p in PROPERTIES}
                marks = " ".join(f"{p}={'pass' if report.passed(p) else 'FAIL'}" for p in PROPERTIES)
                say(f"{schema:<9} {dialect:<10} {report.people} people  {seconds[schema][dialect]:6.2f} s  {marks}")
                if report.error:
                    problems.append(f"{schema} on {dialect}: the run broke: {report.error.strip().splitlines()[-1]}")
                for prop in PROPERTIES:
                    if not report.error and report.failures[prop]:
                        lines = report.failures[prop]
                        problems += [f"{schema} on {dialect}, {prop}: {line}" for line in lines[: args.details]]
                        if len(lines) > args.details:
                            problems.append(f"{schema} on {dialect}, {prop}: … {len(lines) - args.details} more")
    ran = [d for d in dialects if d not in unreachable]
    elapsed = time.perf_counter() - started

    for dialect in ran:
        say(f"\n{dialect}")
        rows = [["schema", *PROPERTIES]]
        rows += [
            [s, *("pass" if results[s][dialect][p] else "FAIL" for p in PROPERTIES)]
            for s in schemas
            if dialect in results[s]
        ]
        say(table(rows))
    say(f"\nall dialects run ({', '.join(ran) or 'none'})")
    rows = [["schema", *PROPERTIES]]
    for s in schemas:
        cells = []
        for p in PROPERTIES:
            failed = [d for d in ran if d in results[s] and not results[s][d][p]]
            cells.append("pass" if not failed else "FAIL " + ",".join(failed))
        rows.append([s, *cells])
    say(table(rows))
    if problems:
        say("\nproblems")
        for line in problems:
            say(f"  {line}")

    checks = [ok for s in schemas for d in results[s].values() for ok in d.values()]
    passed = sum(checks)
    by_property = {
        p: [sum(results[s][d][p] for s in schemas for d in results[s]), sum(1 for s in schemas for d in results[s])]
        for p in PROPERTIES
    }
    print(
        json.dumps(
            {
                "bench": "conformance",
                "score": round(passed / len(checks), 4) if checks else 0.0,
                "passed": passed,
                "total": len(checks),
                "quick": args.quick,
                "dialects": ran,
                "unreachable": sorted(unreachable),
                "schemas": schemas,
                "people": people or "all",
                "by_property": {p: f"{n}/{t}" for p, (n, t) in by_property.items()},
                "results": results,
                "seconds": round(elapsed, 1),
                "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
            }
        )
    )


if __name__ == "__main__":
    main()
