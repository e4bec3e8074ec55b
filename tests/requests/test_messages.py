"""Messages to requesters and staff: both languages complete, refusals name the reason and where to complain,
and they reach a real SMTP server and a real HTTP SMS gateway."""

from __future__ import annotations

import string
from datetime import date

import pytest
from faker import Faker

from privet.kit.errors import InvalidInput
from privet.requests.law.triage import REFUSAL_CODES
from privet.requests.messages.render import KINDS, format_date, render_message, render_sms, send_message, texts
from privet.settings import Settings
from tests.subjects.test_verification_support import (  # noqa: F401 - fixtures
    cn_mobile,
    free_port,
    verify_gateway,
    verify_smtp,
)

fake_en, fake_zh = Faker("en_US"), Faker("zh_CN")
CONTACT = {"name": "Personal Information Protection Officer", "email": "privacy@keptek.example"}
SAMPLES: dict[str, dict] = {
    "received": {"reference": "R-7K3M9Q2P", "request_type": "access", "verify_by": date(2026, 10, 8)},
    "verify": {
        "reference": "R-7K3M9Q2P",
        "request_type": "erasure",
        "link": "https://privacy.example/v/abc",
        "code": "123456",
        "minutes": 10,
        "verify_by": date(2026, 10, 8),
    },
    "refused": {
        "reference": "R-7K3M9Q2P",
        "request_type": "erasure",
        "code": "trade_secret",
        "profile": "pipl",
        "contact": CONTACT,
        "organisation": "Keptek",
    },
    "extended": {
        "reference": "R-7K3M9Q2P",
        "request_type": "access",
        "due": date(2026, 4, 28),
        "previous": date(2026, 2, 28),
        "reason": "many systems hold records",
    },
    "completed": {
        "reference": "R-7K3M9Q2P",
        "request_type": "erasure",
        "found": True,
        "changes": {"Contact details": {"deleted": 1}, "Name": {"updated": 4}},
        "retained": [
            {"item": "Purchase history", "reason": "Tax law requires invoices to be kept.", "until": date(2036, 12, 31)}
        ],
        "backups_until": date(2026, 11, 4),
    },
    "package_ready": {
        "reference": "R-7K3M9Q2P",
        "link": "https://privacy.example/p/xyz",
        "expires_on": date(2026, 10, 15),
        "downloads": 5,
    },
    "overdue_reminder": {
        "reference": "R-7K3M9Q2P",
        "request_type": "erasure",
        "status": "running",
        "due": date(2026, 10, 27),
        "today": date(2026, 10, 29),
    },
    "fee_due": {
        "reference": "R-7K3M9Q2P",
        "request_type": "access",
        "amount": "20.00",
        "currency": "CNY",
        "profile": "pipl",
        "free": 2,
        "window_days": 365,
        "contact": CONTACT,
        "organisation": "Keptek",
    },
    "fee_settled": {
        "reference": "R-7K3M9Q2P",
        "request_type": "access",
        "outcome": "paid",
        "amount": "20.00",
        "currency": "CNY",
        "due": date(2026, 10, 27),
    },
    "backups_reminder": {
        "erasures": [
            {
                "reference": "R-7K3M9Q2P",
                "type": "erasure",
                "completed": date(2026, 10, 1),
                "clear_by": date(2026, 11, 5),
                "datastores": ["crm", "shop"],
            },
            {
                "reference": "R-2BCDEFGH",
                "type": "closure",
                "completed": date(2026, 10, 2),
                "clear_by": date(2026, 11, 6),
                "datastores": [],
            },
        ]
    },
}


def _leaves(tree: dict, prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in tree.items():
        path = f"{prefix}{key}"
        out.update(_leaves(value, path + ".") if isinstance(value, dict) else {path: value})
    return out


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_both_languages_have_the_same_keys_and_placeholders() -> None:
    en, zh = _leaves(texts("en")), _leaves(texts("zh_CN"))
    assert en.keys() == zh.keys()
    for key in en:
        assert _placeholders(en[key]) == _placeholders(zh[key]), key
    for kind in KINDS:
        assert {"subject", "body", "sms"} <= {k.split(".")[1] for k in en if k.startswith(kind + ".")}, kind


@pytest.mark.parametrize("language", ["en", "zh_CN"])
@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_renders_in_both_languages(kind: str, language: str) -> None:
    subject, body = render_message(kind, language, **SAMPLES[kind])
    sms = render_sms(kind, language, **SAMPLES[kind])
    for text in (subject, body, sms):
        assert "R-7K3M9Q2P" in text and "{" not in text and "}" not in text
    assert "\n" not in subject and "\n" not in sms and "\n\n\n" not in body
    if language == "zh_CN":
        assert any("\u4e00" <= ch <= "\u9fff" for ch in body)


@pytest.mark.parametrize(
    ("profile", "en_route", "zh_route"),
    [
        ("pipl", "Article 50 of the Personal Information Protection Law", "第五十条，您可以依法向人民法院提起诉讼"),
        ("gdpr", "supervisory authority", "数据保护监管机构"),
        ("ccpa", "California Privacy Protection Agency", "加州隐私保护局"),
    ],
)
def test_refusal_states_reason_law_and_where_to_complain(profile: str, en_route: str, zh_route: str) -> None:
    values = {**SAMPLES["refused"], "profile": profile, "code": "impractical", "note": "Only on backup tapes."}
    subject, body = render_message("refused", "en", **values)
    assert subject == "We cannot carry out your request R-7K3M9Q2P"
    assert REFUSAL_CODES["impractical"].en in body and REFUSAL_CODES["impractical"].law in body
    assert en_route in body and "Our privacy officer adds: Only on backup tapes." in body
    assert "privacy@keptek.example" in body and "deletion of your personal information" in body
    subject, body = render_message("refused", "zh-CN", **values)
    assert subject == "我们无法办理您的请求 R-7K3M9Q2P"
    assert REFUSAL_CODES["impractical"].zh_CN in body and REFUSAL_CODES["impractical"].law_zh_CN in body
    assert zh_route in body and "删除您的个人信息" in body and "隐私保护负责人补充说明" in body


def test_refusal_without_a_note_and_with_a_code_that_does_not_fit() -> None:
    _, body = render_message("refused", "en", **SAMPLES["refused"])
    assert "privacy officer adds" not in body and "GB/T 35273-2020" in body and "www.12377.cn" in body
    with pytest.raises(InvalidInput, match="does not apply"):
        render_message("refused", "en", **{**SAMPLES["refused"], "request_type": "complaint"})
    with pytest.raises(InvalidInput, match="profile"):
        render_message("refused", "en", **{**SAMPLES["refused"], "profile": "lgpd"})


@pytest.mark.promise("P22")
def test_completed_lists_counts_retained_items_and_the_backup_date() -> None:
    subject, body = render_message("completed", "en", **SAMPLES["completed"])
    assert subject == "Your request R-7K3M9Q2P is done"
    assert "- Contact details: 1 deleted" in body and "- Name: 4 with the personal details removed" in body
    assert "- Purchase history: kept until 31 December 2036. Tax law requires invoices to be kept.\n" in body
    assert "overwritten by 4 November 2026" in body and "could not" not in body
    _, empty = render_message("completed", "zh_CN", reference="R-1", request_type="access")
    assert "没有找到与您相关的个人信息" in empty and "备份" not in empty and "保留" not in empty
    _, unchanged = render_message("completed", "en", reference="R-1", request_type="erasure", found=True)
    assert "none of it needed changing" in unchanged and "found no personal information" not in unchanged


@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_completed_with_exceptions_says_what_was_not_erased_and_why(language: str) -> None:
    values = {
        **SAMPLES["completed"],
        "exceptions": [
            {"item": "Contact details", "reason": "no_action", "rows": 1},
            {"item": "Other records about you", "reason": "unreachable", "rows": None},
        ],
    }
    subject, body = render_message("completed", language, **values)
    sms = render_sms("completed", language, **values)
    if language == "en":
        assert subject == "Your request R-7K3M9Q2P is done, with exceptions" and "with exceptions" in sms
        assert "except for what is listed below" in body and "This information was not erased" in body
        assert "- Contact details (1 records): no way to delete it has been set up yet" in body
        assert "- Other records about you: we could not search it for your information" in body
    else:
        assert "部分未能完成" in subject and "部分未能完成" in sms and "下列事项除外" in body
        assert "- Contact details（1 条记录）：尚未设置删除方式" in body and "我们无法在其中查找您的信息" in body


def test_parts_that_do_not_apply_are_left_out() -> None:
    _, verified = render_message("received", "en", reference="R-1", request_type="access", due=date(2026, 10, 27))
    assert "identity has been confirmed" in verified and "answer by 27 October 2026" in verified
    _, code_only = render_message("verify", "zh_CN", reference="R-1", request_type="access", code="654321", minutes=10)
    assert "您的验证码是 654321，10 分钟内有效。" in code_only and "链接" not in code_only
    _, soon = render_message(
        "overdue_reminder",
        "en",
        reference="R-1",
        request_type="access",
        status="running",
        due=date(2026, 10, 27),
        days_left=3,
    )
    assert "due in 3 days" in soon
    _, late = render_message("overdue_reminder", "zh_CN", **SAMPLES["overdue_reminder"])
    assert "已逾期 2 天" in late
    assert render_message("reminder_overdue", "en", **SAMPLES["overdue_reminder"])[0].startswith("Request R-7K3M9Q2P")


def test_bad_calls_are_clear_errors() -> None:
    with pytest.raises(InvalidInput, match="Unknown message kind") as kind:
        render_message("postcard", "en")
    assert "refused" in kind.value.hint
    with pytest.raises(InvalidInput, match="link or a code"):
        render_message("verify", "en", reference="R-1", request_type="access")
    with pytest.raises(InvalidInput, match="needs expires_on, downloads"):
        render_message("package_ready", "en", reference="R-1", link="https://privacy.example/p/1")
    with pytest.raises(InvalidInput, match="language"):
        render_message("received", "fr", reference="R-1", request_type="access")


def test_dates_read_naturally() -> None:
    assert format_date(date(2026, 10, 1), "en") == "1 October 2026"
    assert format_date(date(2026, 10, 1), "zh_CN") == "2026年10月1日"


def _settings(settings: Settings, **changes: object) -> Settings:
    return settings.model_copy(update=changes)


def test_refusal_email_reaches_a_real_smtp_server_in_both_languages(settings: Settings, verify_smtp) -> None:
    configured = _settings(settings, smtp_port=verify_smtp.port, mail_from="privacy@keptek.example")
    en_to, zh_to = fake_en.email(), fake_zh.email()
    values = {**SAMPLES["refused"], "code": "groundlessly_repetitive"}
    assert send_message(configured, "email", en_to, "refused", "en", **values) == "email"
    assert send_message(configured, "email", zh_to, "refused", "zh_CN", **values) == "email"
    english = verify_smtp.inbox.last_to(en_to)
    assert english["Subject"] == "We cannot carry out your request R-7K3M9Q2P"
    assert english["From"] == "privacy@keptek.example"
    text = english.get_content()
    assert "Reason: The request repeats earlier requests without a reason." in text
    assert "people's court" in text and "Personal Information Protection Officer" in text
    chinese = verify_smtp.inbox.last_to(zh_to)
    assert chinese["Subject"] == "我们无法办理您的请求 R-7K3M9Q2P"
    text = chinese.get_content()
    assert "理由：该请求属于无端重复的请求。" in text and "人民法院提起诉讼" in text and "网信部门" in text


def test_sms_goes_through_the_configured_gateway(settings: Settings, verify_gateway) -> None:
    phone = cn_mobile(fake_zh)
    configured = _settings(settings, sms_sender="http", sms_gateway_url=verify_gateway.url)
    assert send_message(configured, "phone", phone, "refused", "zh_CN", **SAMPLES["refused"]) == "sms"
    body = verify_gateway.requests[-1]["json"]
    assert body["to"] == phone
    assert body["text"].startswith("请求 R-7K3M9Q2P 未能办理：该请求涉及商业秘密。") and "人民法院" in body["text"]
    assert len(body["text"]) < len(render_message("refused", "zh_CN", **SAMPLES["refused"])[1])


def test_console_senders_print_and_other_identities_are_refused(settings: Settings, capsys) -> None:
    to = fake_en.email()
    send_message(
        _settings(settings, mail_sender="console"), "email", to, "package_ready", "en", **SAMPLES["package_ready"]
    )
    out = capsys.readouterr().out
    assert to in out and "https://privacy.example/p/xyz" in out and "at most 5 downloads" in out
    send_message(settings, "phone", "+8613800138000", "received", "en", **SAMPLES["received"])
    assert "We received your request R-7K3M9Q2P" in capsys.readouterr().out
    with pytest.raises(InvalidInput, match="e-mail address or a phone number"):
        send_message(settings, "device_serial", "ABCD1234", "received", "en", **SAMPLES["received"])
    with pytest.raises(InvalidInput, match="PRIVET_MAIL_SENDER"):
        send_message(_settings(settings, mail_sender="pigeon"), "email", to, "received", "en", **SAMPLES["received"])


def test_unreachable_mail_server_names_no_address(settings: Settings) -> None:
    to = fake_en.email()
    with pytest.raises(Exception, match="could not be sent") as failed:
        send_message(_settings(settings, smtp_port=free_port()), "email", to, "received", "en", **SAMPLES["received"])
    assert to not in str(failed.value)
