"""Section-level diffs and the plain-language summary."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from privet.kit.errors import InvalidInput
from privet.notices import service
from privet.notices.diff import section_diff, summary, version_summary
from tests.notices.conftest import POLICY_V1, POLICY_ZH

V2 = """\
Acme Privacy Policy
This policy explains how Acme handles personal information.
1. What We Collect
We collect your name, phone number and e-mail address when you register.
2. How We Use It
We use it to run your account.
3. Your Rights
You may access, correct and delete your information.
4. Cookies
We use cookies to remember your language.
"""


def _versions(db: Session, first: dict, second: dict, **kw):
    a = service.publish(db, key="main", texts=first, effective_date=date(2025, 1, 1), actor="test")
    b = service.publish(db, key="main", texts=second, effective_date=date(2025, 6, 1), actor="test", **kw)
    return a, b


def test_added_removed_changed_and_renumbered_sections(db: Session) -> None:
    a, b = _versions(db, {"en": POLICY_V1}, {"en": V2})
    changes = {(c.number, c.title): c for c in section_diff(a, b)}
    assert [(c.number, c.change) for c in section_diff(a, b)] == [
        ("", "unchanged"),
        ("1", "changed"),
        ("2", "unchanged"),
        ("3", "removed"),
        ("3", "unchanged"),
        ("4", "added"),
    ]
    collect = changes[("1", "What We Collect")]
    assert 0.8 < collect.ratio < 1.0
    assert "-We collect your name and e-mail" in collect.unified and "+We collect your name, phone" in collect.unified
    assert changes[("2", "How We Use It")].ratio == 1.0
    assert changes[("3", "Sharing")].change == "removed"
    rights = changes[("3", "Your Rights")]  # 4. Your Rights became 3: matched by title; renumbering alone is
    assert rights.ratio == 1.0 and rights.unified == ""  # no change of content
    assert changes[("4", "Cookies")].unified.splitlines()[-1] == "+We use cookies to remember your language."


def test_summary_in_english_and_chinese(db: Session) -> None:
    a, b = _versions(
        db,
        {"en": POLICY_V1, "zh_CN": POLICY_ZH},
        {"en": V2, "zh_CN": POLICY_ZH.replace("不会出售", "不会出售或出租")},
        purposes=["marketing"],
        material=["marketing"],
    )
    assert summary(section_diff(a, b), b.change_summary["material"], names={"marketing": "Marketing"}) == [
        "Section 1 changed",
        "Section 4 added",
        "Section 3 removed",
        "Marketing (material: marked material (e.g. a right reduced))",
    ]
    assert version_summary(b, "zh_CN") == ["第三节已修改", "marketing（重大变更：标记为重大变更（如权利缩减））"]
    assert version_summary(a) == ["First version"]


def test_a_language_missing_from_both_versions(db: Session) -> None:
    a, b = _versions(db, {"en": POLICY_V1}, {"en": V2, "zh_CN": POLICY_ZH})
    assert {c.change for c in section_diff(a, b, "zh_CN")} == {"added"}
    with pytest.raises(InvalidInput, match="Neither version"):
        section_diff(a, b, "fr")
