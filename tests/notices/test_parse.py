"""Recognising numbered sections: both seed policies, Markdown, Chinese numbering, tables of contents."""

from __future__ import annotations

from privet.notices.parse import cn_number, detect_format, parse
from tests.notices.conftest import KEPTEK, ZKTECO, seed

KEPTEK_TOP = [
    ("1", "What Personal Information Keptek May Collect From You"),
    ("2", "How Keptek Uses Cookies and Similar Technologies"),
    (
        "3",
        "How We May Collect, Use, Entrust the Processing of, Share, Transfer, and Publicly Disclose Your "
        "Personal Information",
    ),
    ("4", "How You Can Access or Modify Your Personal Information"),
    ("5", "How We Protect Your Personal Information"),
    ("6", "How We Handle Children's Personal Information"),
    ("7", "Exceptions to the Application of This Privacy Policy"),
    ("8", "How Your Personal Information Is Transferred Globally"),
    ("9", "How This Policy Is Updated"),
]
ZKTECO_TOP = [
    ("1", "Collected Information"),
    ("2", "Collection Method"),
    ("3", "Usage"),
    ("4", "Sharing"),
    ("5", "Editing information"),
    ("6", "Personal Information Protection"),
    ("7", "Non-adult Persons Data Protection"),
    ("8", "Globalized Information Management"),
    ("9", "Contact Us"),
]


def _top(parsed) -> list[tuple[str, str]]:
    return [(s.number, s.title) for s in parsed.sections if s.level == 1]


def test_keptek_sections_follow_the_headings_not_the_table_of_contents() -> None:
    parsed = parse(seed(KEPTEK))
    assert _top(parsed) == KEPTEK_TOP  # the TOC's "What Personal Information We May Collect" is not a section
    subsections = [(s.number, s.title) for s in parsed.sections if s.level == 2]
    assert subsections == [
        ("2.(1)", "Cookies"),
        ("2.(2)", "Web Beacons and Pixel Tags"),
        ("3.(1)", "Purposes for Collecting and Using Personal Information"),
        ("3.(2)", "Entrusted Processing"),
        ("3.(3)", "Sharing"),
        ("3.(4)", "Transfer"),
        ("3.(5)", "Public Disclosure"),
    ]
    assert "9. How This Policy Is Updated" in parsed.preamble  # the table of contents stays in the preamble
    by_number = {s.number: s for s in parsed.sections}
    assert by_number["1"].text.startswith("On Keptek websites")
    # list items inside 3.(1) — "1) Registering…", "(2) Important Notices…" — are text, not sections
    assert "1) Registering and Logging into Accounts." in by_number["3.(1)"].text
    assert "(2) Important Notices Such as Updates" in by_number["3.(1)"].text
    assert by_number["9"].text.endswith("November 28, 2025.")


def test_zkteco_sections_without_noise_or_shop_chrome() -> None:
    parsed = parse(seed(ZKTECO))
    assert _top(parsed) == ZKTECO_TOP
    assert all(s.level == 1 for s in parsed.sections)
    assert parsed.title == "PRIVACY PROTECTION POLICY"
    assert all("{removed" not in s.text for s in parsed.sections)
    last = parsed.sections[-1].text
    assert "Shopping Cart" not in last and "Select all" not in last
    assert last.startswith("If you have any question")
    assert "\n\n" not in parsed.sections[1].text  # blank lines between paragraphs are not kept twice
    assert parsed.sections[1].text.startswith("a. When you register ZKTeco account")


def test_markdown_headings_with_numbers_nesting_and_a_title() -> None:
    text = """# Acme Privacy Notice
Intro paragraph.

## 1. Data we collect
1. name
2. e-mail

### 1.1 Accounts
Account data.

## 2. Sharing
We share with processors.

## Contact
Write to us.
"""
    assert detect_format(text) == "markdown"
    parsed = parse(text)
    assert parsed.title == "Acme Privacy Notice" and parsed.preamble == "Intro paragraph."
    assert [(s.number, s.title, s.level) for s in parsed.sections] == [
        ("1", "Data we collect", 1),
        ("1.1", "Accounts", 2),
        ("2", "Sharing", 1),
        ("", "Contact", 1),
    ]
    assert parsed.sections[0].text == "1. name\n2. e-mail"


def test_markdown_without_headings_falls_back_to_numbered_lines() -> None:
    parsed = parse("**1. Scope**\nAll services.\n**2. Data**\nNames.\n", fmt="markdown")
    assert [(s.number, s.title) for s in parsed.sections] == [("1", "Scope"), ("2", "Data")]


def test_chinese_numbering() -> None:
    parsed = parse(
        "隐私政策\n一、我们收集的信息\n姓名。\n（一）账户\n登录。\n（二）通知\n服务通知。\n二、共享\n不出售。\n"
        "十、联系我们\n邮件。\n"
    )
    assert parsed.title == "隐私政策"
    assert [(s.number, s.title, s.level) for s in parsed.sections] == [
        ("一", "我们收集的信息", 1),
        ("一.(一)", "账户", 2),
        ("一.(二)", "通知", 2),
        ("二", "共享", 1),
    ]
    assert "十、联系我们" in parsed.sections[-1].text  # 十 does not follow 二: not a heading


def test_articles_numbers_without_dots_and_right_parentheses() -> None:
    articles = parse("Article 1 Scope\nApplies to all.\nArticle 2\nDefinitions follow.\nArticle 3 Rights\nYours.\n")
    assert [(s.number, s.title) for s in articles.sections] == [
        ("Article 1", "Scope"),
        ("Article 2", ""),
        ("Article 3", "Rights"),
    ]
    statute = parse("第一条 总则\n内容。\n第二条 个人信息处理者应当遵循合法、正当、必要的原则，不得过度处理。\n")
    assert [(s.number, s.title) for s in statute.sections] == [("第一条", "总则"), ("第二条", "")]
    assert statute.sections[1].text.startswith("个人信息处理者应当")
    spaced = parse("1 Introduction\nHello.\n2 Data We Hold\nNames.\n")
    assert [(s.number, s.title) for s in spaced.sections] == [("1", "Introduction"), ("2", "Data We Hold")]
    items = parse("1) Scope\nAll.\n2) Data\nNames.\n")
    assert [(s.number, s.title) for s in items.sections] == [("1)", "Scope"), ("2)", "Data")]


def test_table_of_contents_with_identical_titles_is_not_taken_for_sections() -> None:
    toc = "Contents\n1. Scope\n2. Data\n3. Rights\n"
    body = "1. Scope\nAll services.\n2. Data\nNames and e-mails.\n3. Rights\nAccess and deletion.\n"
    parsed = parse(toc + body)
    assert [(s.number, s.text) for s in parsed.sections] == [
        ("1", "All services."),
        ("2", "Names and e-mails."),
        ("3", "Access and deletion."),
    ]
    assert parsed.title == "Contents" and "3. Rights" in parsed.preamble


def test_sentences_and_restarted_lists_are_text() -> None:
    parsed = parse(
        "1. Data\n1. We collect names.\n2. we keep them: for as long as the account exists.\n"
        "2. Use\nText.\n4. Skipped Number\nmore\n"
    )
    assert [s.title for s in parsed.sections] == ["Data", "Use"]
    assert "4. Skipped Number" in parsed.sections[-1].text


def test_text_without_sections() -> None:
    parsed = parse("We use cookies to remember your language.\n")
    assert parsed.sections == [] and parsed.preamble == "We use cookies to remember your language."


def test_chinese_numbers() -> None:
    assert [cn_number(t) for t in ("一", "十", "十二", "二十", "二十三", "一百零五", "12")] == [
        1,
        10,
        12,
        20,
        23,
        105,
        12,
    ]
