"""Every promise of the product brief (P1-P45) names at least one test that proves it, through
`@pytest.mark.promise("Pn")` on the test (or on its class or module's `pytestmark`). The test files are read with
`ast` (nothing is imported or collected), so the check is quick and sees every backend's tests alike."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from privet.reports.promises import promise_ids

TESTS = Path(__file__).resolve().parent
ID = re.compile(r"^P([1-9]|[1-3][0-9]|4[0-5])$")


def _promise_marks(node: ast.AST) -> list[str]:
    """The ids of `pytest.mark.promise(...)` calls anywhere in a decorator or `pytestmark` value."""
    out = []
    for call in ast.walk(node):
        if (
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Attribute)
            and call.func.attr == "promise"
            and isinstance(call.func.value, ast.Attribute)
            and call.func.value.attr == "mark"
        ):
            out += [a.value for a in call.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
    return out


def marked_tests() -> dict[str, list[str]]:
    """Promise id → the tests (path::name) marked with it."""
    found: dict[str, list[str]] = {}
    for path in sorted(TESTS.rglob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        where = path.relative_to(TESTS.parent).as_posix()
        module = [
            i
            for n in tree.body
            if isinstance(n, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "pytestmark" for t in n.targets)
            for i in _promise_marks(n.value)
        ]

        def visit(body: list, inherited: list[str], prefix: str) -> None:
            for node in body:
                if isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
                    own = [i for d in node.decorator_list for i in _promise_marks(d)]
                    visit(node.body, inherited + own, f"{prefix}{node.name}::")
                elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test"):
                    for pid in inherited + [i for d in node.decorator_list for i in _promise_marks(d)]:
                        found.setdefault(pid, []).append(f"{where}::{prefix}{node.name}")  # noqa: B023 - called in this iteration

        visit(tree.body, module, "")
    return found


def test_every_promise_names_at_least_one_test() -> None:
    marked = marked_tests()
    assert promise_ids() == [f"P{n}" for n in range(1, 46)]
    missing = [pid for pid in promise_ids() if not marked.get(pid)]
    assert not missing, "no test is marked @pytest.mark.promise for: " + ", ".join(missing)


def test_promise_marks_name_only_promises_of_the_catalogue() -> None:
    wrong = {pid: tests for pid, tests in marked_tests().items() if not ID.match(pid)}
    assert not wrong, wrong
