"""What changed in a policy version, word by word (issue 15, item 10): the privacy centre's version page and the
console's notice page show, for each changed section only, the words removed (<del>) and added (<ins>), each with a
visually hidden "removed:"/"added:" in the reader's language; unchanged sections are not shown as changed."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import pytest
from faker import Faker
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.web.admin.conftest import HTML, officer  # noqa: F401 - the console sign-in fixture

ZH = {**HTML, "Accept-Language": "zh-CN"}
KEY = "web-policy"
DEL_EN = '<del><span class="visually-hidden">removed: </span>'
INS_EN = '<ins><span class="visually-hidden">added: </span>'
DEL_ZH, INS_ZH = (
    '<del><span class="visually-hidden">删除： </span>',
    '<ins><span class="visually-hidden">新增： </span>',
)


@dataclass
class Notice:
    """The generated texts: what version 2 changed in section 2 (days kept) and in the Chinese section 2."""

    kept: str  # section 1's sentence, the same in both versions
    old_days: int
    new_days: int
    untouched: str  # section 3's sentence, the same in both versions


def _texts(n: Notice, days: int, zh_place: str, extra: str = "") -> dict[str, str]:
    en = (
        f"# Privacy policy\n\n## 1. What we collect\n\n{n.kept}\n\n## 2. How long we keep it\n\n"
        f"We keep your orders for {days} days.{extra}\n\n## 3. Your rights\n\n{n.untouched}\n"
    )
    zh = (
        f"# 隐私政策\n\n## 1. 我们收集的信息\n\n{n.kept}\n\n"
        f"## 2. 保存期限\n\n我们将订单保存在{zh_place}的服务器上。\n\n"
        f"## 3. 您的权利\n\n{n.untouched}\n"
    )
    return {"en": en, "zh_CN": zh}


@pytest.fixture
def published(db: Session) -> Notice:
    """Two versions of a generated notice in English and Chinese; only section 2 differs."""
    from privet.notices.service import publish

    fake = Faker()
    old, new = sorted(fake.random.sample(range(10, 999), 2))
    n = Notice(kept=fake.paragraph(nb_sentences=3), old_days=old, new_days=new, untouched=fake.paragraph())
    publish(db, key=KEY, texts=_texts(n, old, "北京"), effective_date=date(2026, 1, 1), actor="test")
    publish(
        db,
        key=KEY,
        texts=_texts(n, new, "上海", " <b>Then</b> we delete them."),
        effective_date=date(2026, 2, 1),
        actor="test",
    )
    db.commit()
    return n


def _changes(page: str) -> list[str]:
    """The changed sections' blocks of a page."""
    return re.findall(r'class="word-change [a-z]+".*?</(?:li|section)>', page, re.S)


def test_the_centre_shows_the_words_that_changed_in_changed_sections_only(
    client: TestClient, published: Notice
) -> None:
    page = client.get(f"/policy/{KEY}/2", headers=HTML)
    assert page.status_code == 200
    blocks = _changes(page.text)
    assert len(blocks) == 1, "only section 2 changed"
    assert "How long we keep it" in blocks[0] and "Changed" in blocks[0]
    assert f"{DEL_EN}{published.old_days}</del>{INS_EN}{published.new_days}</ins>" in blocks[0]
    assert f"{INS_EN} &lt;b&gt;Then&lt;/b&gt; we delete them.</ins>" in blocks[0]  # escaped, never markup
    assert "<b>Then</b>" not in page.text
    assert published.kept not in "".join(blocks) and published.untouched not in "".join(blocks)
    # the changed section is marked where it is read, and links to what changed; the others are not
    assert page.text.count('class="changed-here"') == 1 and 'href="#change-0"' in page.text


def test_the_centre_shows_chinese_changes_by_character_with_chinese_labels(
    client: TestClient, published: Notice
) -> None:
    page = client.get(f"/policy/{KEY}/2", headers=ZH).text
    blocks = _changes(page)
    assert len(blocks) == 1 and "保存期限" in blocks[0] and "已修改" in blocks[0]
    assert f"{DEL_ZH}北京</del>{INS_ZH}上海</ins>" in blocks[0]
    assert "我们将订单保存在" in blocks[0]  # the unchanged words around the change stay, unmarked
    assert "removed:" not in page and "added:" not in page


def test_the_first_version_and_an_unchanged_notice_show_no_word_changes(client: TestClient, published: Notice) -> None:
    first = client.get(f"/policy/{KEY}/1", headers=HTML).text
    assert _changes(first) == [] and "<del>" not in first and 'class="changed-here"' not in first
    assert client.get(f"/policy/{KEY}/3", headers=HTML).status_code == 404


def test_the_console_notice_page_shows_the_words_that_changed(client: TestClient, officer, published: Notice) -> None:
    officer("agent")  # notices:read is enough
    page = client.get(f"/admin/notices/{KEY}", headers=HTML)
    assert page.status_code == 200
    blocks = _changes(page.text)
    assert len(blocks) == 1 and "How long we keep it" in blocks[0]
    assert f"{DEL_EN}{published.old_days}</del>{INS_EN}{published.new_days}</ins>" in blocks[0]
    assert ">changed<" not in page.text  # the kind of change in words, not its key
    chinese = client.get(f"/admin/notices/{KEY}?from=1&to=2&lang=zh_CN", headers=ZH).text
    zh_blocks = _changes(chinese)
    assert len(zh_blocks) == 1 and f"{DEL_ZH}北京</del>{INS_ZH}上海</ins>" in zh_blocks[0]
    assert "已修改" in zh_blocks[0]
    backwards = _changes(client.get(f"/admin/notices/{KEY}?from=2&to=1&lang=en", headers=HTML).text)
    assert len(backwards) == 1 and f"{DEL_EN}{published.new_days}</del>" in backwards[0]


def test_the_console_notice_page_needs_a_signed_in_user(client: TestClient, published: Notice) -> None:
    answer = client.get(f"/admin/notices/{KEY}", headers=HTML, follow_redirects=False)
    assert answer.status_code in (302, 303, 401) and "<del>" not in answer.text


def test_long_unchanged_stretches_are_shortened_and_line_breaks_kept() -> None:
    from privet.notices.words import word_diff
    from privet.web.word_changes import CONTEXT, words_html

    fake = Faker()
    before = fake.text(max_nb_chars=1200).replace("\n", " ")
    html = str(words_html(word_diff(before + " Old end.", before + " New end.\nSecond line."), lambda text: text))
    assert html.startswith('<span class="elided">…</span>') and "<br>Second line." in html
    assert " ".join(before.split()[-3:]) in html and before[:CONTEXT] not in html
    assert html.split("…</span>")[1].startswith(" ")  # shortened at a space, not inside a word
    assert len(html) < len(before)
