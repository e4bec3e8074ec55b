"""Word-level differences between policy versions: English by words, Chinese by character runs, in the CLI's
[-…-]{+…+} marks and as escaped HTML; sections added and removed are wholly added or removed."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from privet.notices import service
from privet.notices.diff import section_diff
from privet.notices.words import as_cli, as_html, tokens, word_diff
from tests.notices.conftest import POLICY_V1, POLICY_ZH
from tests.notices.test_diff import V2


def _sides(ops) -> tuple[str, str]:
    return ("".join(t for o, t in ops if o != "+"), "".join(t for o, t in ops if o != "-"))


def test_english_by_words() -> None:
    ops = word_diff("We keep your orders for five years.", "We keep your orders and invoices for ten years.")
    assert as_cli(ops) == "We keep your orders {+and invoices +}for [-five-]{+ten+} years."
    assert as_cli(word_diff("a b c d", "a x y d")) == "a [-b c-]{+x y+} d"  # neighbouring changes read as one


def test_chinese_by_character_runs() -> None:
    assert tokens("不会出售") == ["不", "会", "出", "售"]
    ops = word_diff("我们将您的订单保存五年。", "我们将您的订单和发票保存十年。")
    assert as_cli(ops) == "我们将您的订单{+和发票+}保存[-五-]{+十+}年。"
    assert as_html(ops) == "我们将您的订单<ins>和发票</ins>保存<del>五</del><ins>十</ins>年。"


def test_html_is_escaped() -> None:
    html = as_html(word_diff('Read <a href="x">this</a> & agree', "Read <script>alert(1)</script> & agree"))
    assert "<script" not in html and "<a " not in html and "&lt;" in html and "&amp; agree" in html
    assert "<del>" in html and "<ins>" in html


def test_identical_and_empty_texts() -> None:
    assert word_diff("same text", "same text") == [("=", "same text")]
    assert word_diff("", "") == [] and word_diff("", "new") == [("+", "new")] and word_diff("old", "") == [("-", "old")]


@given(st.text(alphabet="ab 我们。,", max_size=30), st.text(alphabet="ab 我们。,", max_size=30))
def test_the_runs_rebuild_both_texts(old: str, new: str) -> None:
    assert _sides(word_diff(old, new)) == (old, new)


def _publish(db: Session, first: dict, second: dict):
    a = service.publish(db, key="main", texts=first, effective_date=date(2025, 1, 1), actor="test")
    b = service.publish(db, key="main", texts=second, effective_date=date(2025, 6, 1), actor="test")
    return a, b


def test_sections_carry_their_word_changes_in_both_languages(db: Session) -> None:
    zh_v2 = POLICY_ZH.replace("不会出售", "不会出售或出租")
    a, b = _publish(db, {"en": POLICY_V1, "zh_CN": POLICY_ZH}, {"en": V2, "zh_CN": zh_v2})
    en = {(c.number, c.title): c for c in section_diff(a, b)}
    collect = as_cli(list(en[("1", "What We Collect")].words))
    assert "{+, phone number+}" in collect or "phone number+}" in collect, collect
    assert as_cli(list(en[("4", "Cookies")].words)) == "{+Cookies\nWe use cookies to remember your language.+}"
    removed = en[("3", "Sharing")]
    assert removed.change == "removed" and as_cli(list(removed.words)).startswith("[-Sharing")
    assert en[("2", "How We Use It")].words == (("=", "How We Use It\nWe use it to run your account."),)
    zh = [c for c in section_diff(a, b, "zh_CN") if c.change != "unchanged"]
    shared = next(c for c in zh if c.change == "changed")
    assert "不会出售{+或出租+}" in as_cli(list(shared.words))
